"""The loop never blocks: p99 of a 1-client request (POST /v1/completions to `fast`) while 8 ready
workers are polled for status (GET /kitty/system/workers, which reads each worker's group memory)
by --poll-clients clients as fast as they can, vs the same p99 without polling.

Phases, --loop-duration seconds each: without, with status polling, with /health polling (a
control: the same competition for the CPU and the loop, no per-worker work), without again. The
baseline is the mean of the two 'without' p99s. On 2 cores the pollers also take CPU from the
measured client and the engine, so the control tells blocking apart from plain competition."""
from __future__ import annotations

import http.client
import threading
import time

from ..context import SMALL_BODY, Ctx
from ..daemon import N_POLL_MODELS, timed_get
from ..util import Row, fmt, fmt_pct, log, median

NAME = "loop"
TARGET = 0.10


PACED_RATE = 20  # polls/s: a dashboard or `watch kittyctl ps` refreshing often


class PacedPoller:
    """GETs `path` PACED_RATE times a second on one keep-alive connection (a thread)."""

    def __init__(self, port: int, path: str, seconds: float):
        self.port, self.path, self.seconds = port, path, seconds
        self.count = self.errors = 0
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        end = time.monotonic() + self.seconds
        next_at = time.monotonic()
        while time.monotonic() < end:
            try:
                conn.request("GET", self.path)
                r = conn.getresponse()
                r.read()
                self.count += 1
                self.errors += r.status != 200
            except (OSError, http.client.HTTPException):
                self.errors += 1
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            next_at += 1 / PACED_RATE
            time.sleep(max(0.0, next_at - time.monotonic()))

    def result(self) -> dict:
        self.thread.join()
        return {"rps": self.count / self.seconds, "errors": self.errors, "latency_us": {}}


def phase(ctx: Ctx, label: str, poll_path: str | None, paced: bool = False) -> dict:
    o, k = ctx.opts, ctx.k
    poller = None
    if poll_path and paced:
        poller = PacedPoller(k.port, poll_path, o.loop_duration + 0.6)
        time.sleep(0.2)
    elif poll_path:
        poller = ctx.tools.requests_bg(k.url(poll_path), o.poll_clients, o.loop_duration + 0.6)
        time.sleep(0.2)
    r = ctx.tools.requests(k.url("/v1/completions"), SMALL_BODY % "fast", 1, o.loop_duration, 0.2)
    out = {"label": label, "p50_us": r["latency_us"].get("p50"), "p99_us": r["latency_us"].get("p99"),
           "p999_us": r["latency_us"].get("p999"), "requests": r["requests"], "errors": r["errors"]}
    if poller:
        p = poller.result()
        out["poll"] = {"path": poll_path, "rps": p["rps"], "errors": p["errors"],
                       "p50_us": p["latency_us"].get("p50"), "p99_us": p["latency_us"].get("p99")}
    log(f"loop {label:<16} p50 {fmt(out['p50_us'])} us p99 {fmt(out['p99_us'])} us errors {out['errors']}"
        + (f"; polling {out['poll']['rps']:.0f}/s (p50 {fmt(out['poll']['p50_us'])} us, "
           f"errors {out['poll']['errors']})" if poller else ""))
    return out


def run(ctx: Ctx) -> dict:
    k = ctx.k
    k.ensure("fast")
    for i in range(N_POLL_MODELS):
        k.ensure(f"poll{i}")
    st, data = k.call("GET", "/kitty/system/workers", timeout=60)
    n_running = sum(1 for w in (data or {}).get("workers", []) if w.get("pid")) if st == 200 else None
    # One status call alone, nothing else running: how long the loop is held per call.
    one = [timed_get(k.port, "/kitty/system/workers", timeout=60)[1] for _ in range(5)]
    try:
        phases = [phase(ctx, "without", None),
                  phase(ctx, "status polling", "/kitty/system/workers"),
                  phase(ctx, "health polling", "/health"),
                  phase(ctx, "status paced", "/kitty/system/workers", paced=True),
                  phase(ctx, "without (again)", None)]
    finally:
        for i in range(N_POLL_MODELS):
            k.release(f"poll{i}")
    base = (phases[0]["p99_us"] + phases[4]["p99_us"]) / 2
    return {
        "phases": phases, "workers_with_pid": n_running, "poll_clients": ctx.opts.poll_clients,
        "one_status_call_ms": one, "one_status_call_ms_median": median(one),
        "baseline_p99_us": base,
        "status_move": phases[1]["p99_us"] / base - 1 if base else None,
        "health_move": phases[2]["p99_us"] / base - 1 if base else None,
        "paced_move": phases[3]["p99_us"] / base - 1 if base else None,
        "baseline_spread": abs(phases[0]["p99_us"] - phases[4]["p99_us"]) / base if base else None,
    }


def rows(r: dict) -> list[Row]:
    ph = {p["label"]: p for p in r["phases"]}
    s, h = ph["status polling"], ph["health polling"]
    paced = ph.get("status paced")
    paced_rows = [] if not paced else [
        Row(f"p99 of 1 client while /kitty/system/workers is polled {PACED_RATE} times a second "
            f"(a dashboard; {r['workers_with_pid']} workers running): without → with",
            f"moves ≤ {TARGET * 100:.0f} %",
            f"{fmt(r['baseline_p99_us'], '', 0)} → {fmt(paced['p99_us'], '', 0)} µs "
            f"({r['paced_move'] * 100:+.0f} %)",
            r["paced_move"] is not None and r["paced_move"] <= TARGET and paced["errors"] == 0)]
    return paced_rows + [
        Row(f"p99 of 1 client while {r['poll_clients']} clients poll /kitty/system/workers "
            f"({r['workers_with_pid']} workers running, {N_POLL_MODELS} of them idle poll models; "
            f"{s['poll']['rps']:.0f} polls/s): without → with",
            f"moves ≤ {TARGET * 100:.0f} %",
            f"{fmt(r['baseline_p99_us'], '', 0)} → {fmt(s['p99_us'], '', 0)} µs ({r['status_move'] * 100:+.0f} %)",
            r["status_move"] is not None and r["status_move"] <= TARGET and s["errors"] == 0),
        Row(f"  control: same with /health polled instead ({h['poll']['rps']:.0f} polls/s); the two "
            f"'without' runs differ by", "—",
            f"{fmt(h['p99_us'], '', 0)} µs ({r['health_move'] * 100:+.0f} %); {fmt_pct(r['baseline_spread'])}"),
        Row("  one GET /kitty/system/workers alone, median of 5", "—", fmt(r["one_status_call_ms_median"], " ms")),
    ]
