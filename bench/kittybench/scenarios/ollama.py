"""The cost of Ollama's API on kittyd (issue 11): the same model and answer through Ollama's
/api/chat (kittyd translates the request and rewrites the worker's SSE into NDJSON lines) and
through /v1/chat/completions (relayed as it comes), in the same rounds:
- a streamed answer of --ollama-tokens tokens (fake engine at token-ms 0): tokens per second,
  counted by the client as the lines or events arrive;
- a small non-streamed answer (1 token): latency p50, sequential requests on fresh connections.
Rounds alternate which route runs first. The client is Python's http.client: its own cost is on
both sides."""
from __future__ import annotations

import http.client
import json
import time

from ..context import Ctx
from ..util import Row, fmt, log, median, pct

NAME = "ollama"
MODEL = "stream"  # the shared daemon's fake engine: 100,000 tokens at token-ms 0


def stream_tokens(port: int, route: str, tokens: int) -> float:
    """Tokens per second of one streamed answer through `route` ("ollama" or "openai")."""
    if route == "ollama":
        path, body = "/api/chat", {"model": MODEL, "messages": [{"role": "user", "content": "x"}],
                                   "options": {"num_predict": tokens}}
    else:
        path, body = "/v1/chat/completions", {"model": MODEL, "stream": True, "max_tokens": tokens,
                                              "messages": [{"role": "user", "content": "x"}]}
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    t0 = time.perf_counter()
    c.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"})
    r = c.getresponse()
    seen, buf = 0, b""
    while True:
        chunk = r.read1(65536)
        if not chunk:
            break
        buf += chunk
        sep = b"\n" if route == "ollama" else b"\n\n"
        *done, buf = buf.split(sep)
        seen += sum(1 for d in done if d.strip() and b"[DONE]" not in d)
    c.close()
    return seen / (time.perf_counter() - t0)


def small_latency(port: int, route: str, n: int) -> list[float]:
    if route == "ollama":
        path, body = "/api/generate", {"model": "fast", "prompt": "x", "stream": False}
    else:
        path, body = "/v1/chat/completions", {"model": "fast", "messages": [{"role": "user", "content": "x"}]}
    out = []
    for _ in range(n):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        t0 = time.perf_counter()
        c.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        out.append((time.perf_counter() - t0) * 1e6)
        c.close()
        if r.status != 200:
            raise RuntimeError(f"{path} -> {r.status}")
    return out


def run(ctx: Ctx) -> dict:
    k, o = ctx.k, ctx.opts
    tokens = 2000
    rounds = 1 if o.quick else 3
    n = 100 if o.quick else 300
    k.ensure(MODEL)
    k.ensure("fast")
    stream_tokens(k.port, "ollama", 200)  # warm-up
    res: dict = {"tokens": tokens, "rounds": rounds, "requests": n, "stream": {"ollama": [], "openai": []},
                 "latency_p50_us": {"ollama": [], "openai": []}}
    for i in range(rounds):
        order = ("ollama", "openai") if i % 2 == 0 else ("openai", "ollama")
        for route in order:
            res["stream"][route].append(stream_tokens(k.port, route, tokens))
            res["latency_p50_us"][route].append(pct(small_latency(k.port, route, n), 0.5))
    for key in ("stream", "latency_p50_us"):
        res[key + "_median"] = {r: median(v) for r, v in res[key].items()}
    s, l = res["stream_median"], res["latency_p50_us_median"]
    res["stream_ratio"] = s["ollama"] / s["openai"] if s["openai"] else None
    res["latency_added_us"] = l["ollama"] - l["openai"]
    log(f"ollama: stream {s['ollama']:.0f} vs {s['openai']:.0f} tokens/s; p50 {l['ollama']:.0f} vs {l['openai']:.0f} µs")
    return res


def rows(r: dict) -> list[Row]:
    s, l = r["stream_median"], r["latency_p50_us_median"]
    return [
        Row(f"streamed answer ({r['tokens']} tokens) through /api/chat vs /v1/chat/completions: tokens/s, "
            f"median of {r['rounds']}", "—",
            f"{fmt(s['ollama'], '', 0)} vs {fmt(s['openai'], '', 0)} ({fmt((r['stream_ratio'] or 0) * 100, ' %', 0)})"),
        Row(f"small answer, /api/generate vs /v1/chat/completions: p50 of {r['requests']} (fresh connections)", "—",
            f"{fmt(l['ollama'], ' µs', 0)} vs {fmt(l['openai'], ' µs', 0)} ({l['ollama'] - l['openai']:+.0f} µs)"),
    ]
