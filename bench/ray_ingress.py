"""Through kitty_client.ray's ingress vs straight to a node's kittyd, side by side in one run
(issue 14): the added p50 latency of a small chat request at one client, and streaming
throughput at 16 concurrent streams.

A local Ray cluster of --nodes nodes on this machine (kitty_client.ray.local), a kittyd each with
two fake-engine models: `small` (a 4-token answer) and `long` (--stream-tokens tokens at token-ms
0). Both models are warmed first through the ingress; "direct" goes to the kittyd of the node the
ingress served the model from (X-Kitty-Node), so both paths end at the same worker. Each round
runs both paths, alternating which goes first. Run it with the client venv (Ray Serve):

    bench/ray.sh [--rounds 3] [--name issue14-ray]

Writes bench/results/<name>.{json,md}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

import httpx

from kitty_client.ray.local import LocalCluster

BODY = {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 4}


def p50_ms(client: httpx.Client, url: str, model: str, n: int) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        r = client.post(url + "/v1/chat/completions", json={**BODY, "model": model})
        times.append(time.perf_counter() - t0)
        assert r.status_code == 200, r.text
    return statistics.median(times) * 1000


async def stream_rate(url: str, model: str, streams: int, tokens: int) -> tuple[float, float]:
    """(body MB/s, SSE events/s) over `streams` concurrent streamed chats."""
    async with httpx.AsyncClient(timeout=120, limits=httpx.Limits(max_connections=streams * 2)) as c:
        async def one() -> tuple[int, int]:
            nbytes = events = 0
            body = {"model": model, "stream": True, "max_tokens": tokens, "messages": [{"role": "user", "content": "x"}]}
            async with c.stream("POST", url + "/v1/chat/completions", json=body) as r:
                assert r.status_code == 200, await r.aread()
                async for chunk in r.aiter_raw():
                    nbytes += len(chunk)
                    events += chunk.count(b"data: ")
            return nbytes, events

        t0 = time.perf_counter()
        got = await asyncio.gather(*(one() for _ in range(streams)))
        dt = time.perf_counter() - t0
    return sum(b for b, _ in got) / dt / 1e6, sum(e for _, e in got) / dt


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kittyd", default="build/kittyd")
    ap.add_argument("--fake-engine", default="build/fake_engine")
    ap.add_argument("--nodes", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--requests", type=int, default=200, help="latency requests per path per round")
    ap.add_argument("--streams", type=int, default=16)
    ap.add_argument("--stream-tokens", type=int, default=2000)
    ap.add_argument("--name", default="issue14-ray")
    a = ap.parse_args()
    fake = str(Path(a.fake_engine).resolve())

    def model(mid: str, *extra: str) -> dict:
        return {"backend": "command", "command": [fake, "--port", "${PORT}", "--model-id", mid, "--token-ms", "0", *extra],
                "idle_shutdown_seconds": 600}

    config = {"models": {"small": model("small", "--tokens", "4"), "long": model("long", "--tokens", str(a.stream_tokens))},
              "memory": {"wait_seconds": 0}}
    rows = []
    with LocalCluster(str(Path(a.kittyd).resolve()), config, nodes=a.nodes) as c, httpx.Client(timeout=120) as client:
        node_of = {}
        for m in ("small", "long"):
            r = client.post(c.url + "/v1/chat/completions", json={**BODY, "model": m})
            assert r.status_code == 200, r.text
            node_of[m] = c.kittyds[int(r.headers["x-kitty-node"].rsplit("_", 1)[1])].url
        for i in range(a.rounds):
            order = [("ingress", c.url), ("direct", node_of["small"])]
            if i % 2:
                order.reverse()
            lat = {name: p50_ms(client, url, "small", a.requests) for name, url in order}
            order = [("ingress", c.url), ("direct", node_of["long"])]
            if i % 2:
                order.reverse()
            st = {name: asyncio.run(stream_rate(url, "long", a.streams, a.stream_tokens)) for name, url in order}
            rows.append({"round": i + 1, "p50_ms": lat, "stream_mb_s": {k: v[0] for k, v in st.items()},
                         "stream_events_s": {k: v[1] for k, v in st.items()}})
            print(json.dumps(rows[-1]), flush=True)
    med = lambda key, path: statistics.median(r[key][path] for r in rows)  # noqa: E731
    added = med("p50_ms", "ingress") - med("p50_ms", "direct")
    ratio = med("stream_mb_s", "ingress") / med("stream_mb_s", "direct")
    md = [f"# {a.name}: Ray Serve ingress vs a node's kittyd ({a.nodes} Ray nodes on this machine)", "",
          f"{time.strftime('%Y-%m-%d %H:%M')} · {a.rounds} rounds · latency: {a.requests} small chats per path per "
          f"round at 1 client · streaming: {a.streams} concurrent streams of {a.stream_tokens} tokens (token-ms 0)", "",
          "| metric | direct (kittyd) | through the ingress | difference |", "| --- | --- | --- | --- |",
          f"| p50 latency, small chat, 1 client | {med('p50_ms', 'direct'):.2f} ms | {med('p50_ms', 'ingress'):.2f} ms | "
          f"+{added:.2f} ms |",
          f"| streaming, {a.streams} streams: body MB/s | {med('stream_mb_s', 'direct'):.2f} | "
          f"{med('stream_mb_s', 'ingress'):.2f} | {ratio * 100:.0f} % of direct |",
          f"| streaming, {a.streams} streams: SSE events/s | {med('stream_events_s', 'direct'):.0f} | "
          f"{med('stream_events_s', 'ingress'):.0f} | |", "", "Rounds:", ""]
    md += [f"- {json.dumps(r)}" for r in rows]
    out = Path(__file__).resolve().parent / "results"
    (out / f"{a.name}.md").write_text("\n".join(md) + "\n")
    (out / f"{a.name}.json").write_text(json.dumps({"rows": rows, "added_p50_ms": added, "stream_ratio": ratio}, indent=2) + "\n")
    print("\n".join(md[:9]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
