"""Cold-start overhead: time to the first byte of a streamed request to a stopped model, minus the
fake engine's configured load time (--load-ms). The first byte is the response header, which kittyd
can only send once the worker answers. Median and p90 over --cold-reps starts; next to it, the
engine alone, spawn → first 200 from /health polled every 1 ms (exec and the poll interval are
in that figure too)."""
from __future__ import annotations

import http.client
import socket
import subprocess
import time
from pathlib import Path

from ..context import Ctx
from ..daemon import free_port
from ..util import Row, fmt, log, median, pct

NAME = "cold"
TARGET_MS = 2.0


def first_byte_ms(port: int, body: str) -> tuple[float, int]:
    """Time from sending the request to the status line arriving, and the status."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        c.connect()
        c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        t0 = time.perf_counter()
        c.request("POST", "/v1/completions", body=body, headers={"Content-Type": "application/json"})
        r = c.getresponse()
        t1 = time.perf_counter()
        r.read()
        return (t1 - t0) * 1000, r.status
    finally:
        c.close()


def direct_cold_start_ms(fake: Path, load_ms: int) -> float:
    port = free_port()
    t0 = time.perf_counter()
    p = subprocess.Popen([str(fake), "--port", str(port), "--load-ms", str(load_ms), "--tokens", "1"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            try:
                c.request("GET", "/health")
                if c.getresponse().status == 200:
                    return (time.perf_counter() - t0) * 1000
            except (OSError, http.client.HTTPException):
                pass
            finally:
                c.close()
            if time.perf_counter() - t0 > 10:
                raise RuntimeError("fake_engine did not become healthy in 10 s")
            time.sleep(0.001)
    finally:
        p.terminate()
        p.wait()


def run(ctx: Ctx) -> dict:
    k, load_ms, reps = ctx.k, ctx.opts.cold_load_ms, ctx.opts.cold_reps
    body = '{"model":"cold","prompt":"hi","max_tokens":1,"stream":true}'
    samples, load_s, statuses = [], [], []
    for _ in range(reps):
        w = k.ok("GET", "/kitty/workers/cold")
        if w["status"] != "stopped":
            k.ok("POST", "/kitty/workers/cold/release")
        ms, status = first_byte_ms(k.port, body)
        statuses.append(status)
        samples.append(ms)
        w = k.ok("GET", "/kitty/workers/cold")
        if w.get("load_seconds") is not None:
            load_s.append(w["load_seconds"] * 1000)
        k.ok("POST", "/kitty/workers/cold/release")
    direct = [direct_cold_start_ms(ctx.fake, load_ms) for _ in range(max(3, reps // 2))]
    over = [s - load_ms for s in samples]
    res = {
        "load_ms": load_ms, "reps": reps, "statuses": statuses, "ttfb_ms": samples,
        "overhead_ms": over,
        "overhead_ms_median": median(over),
        "overhead_ms_p90": pct(over, 0.9),
        "worker_load_ms": load_s,  # kittyd's own spawn → healthy
        "worker_load_ms_median": median(load_s),
        "direct_spawn_to_healthy_ms": direct,
        "direct_spawn_to_healthy_ms_median": median(direct),
        "direct_overhead_ms_median": median(direct) - load_ms,
    }
    log(f"cold start: overhead median {res['overhead_ms_median']:.1f} ms p90 {res['overhead_ms_p90']:.1f} ms; "
        f"kittyd spawn→healthy {res['worker_load_ms_median']} ms; engine alone spawn→healthy "
        f"{res['direct_spawn_to_healthy_ms_median']:.1f} ms; statuses {statuses}")
    return res


def rows(r: dict) -> list[Row]:
    return [
        Row(f"cold-start overhead, median of {r['reps']} (TTFB − load-ms {r['load_ms']})", f"≤ {TARGET_MS:g} ms",
            fmt(r["overhead_ms_median"], " ms"), r["overhead_ms_median"] <= TARGET_MS),
        Row("cold-start overhead, p90", f"≤ {TARGET_MS:g} ms", fmt(r["overhead_ms_p90"], " ms"),
            r["overhead_ms_p90"] <= TARGET_MS),
        Row("  for scale: the engine alone, spawn → healthy (1 ms poll) − load-ms, median", "—",
            fmt(r["direct_overhead_ms_median"], " ms")),
    ]
