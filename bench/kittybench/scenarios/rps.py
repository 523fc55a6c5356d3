"""Requests/s at 32 keep-alive clients, kittyd vs direct, with wrk (bench/wrk/post.lua: a small
non-streamed POST, max_tokens 1). wrk runs 2 threads: on this 2-core machine it competes with
kittyd and the engine for the same cores, as the issue's targets assume."""
from __future__ import annotations

from ..context import SMALL_BODY, Ctx
from ..util import CpuMeter, MeasurementError, Row, fmt, fmt_pct, log, median, ratio

NAME = "rps"
TARGET = 0.75


def run(ctx: Ctx) -> dict:
    o = ctx.opts
    port, engine_pid = ctx.k.ensure("fast")
    body = SMALL_BODY % "fast"
    urls = {"direct": f"http://127.0.0.1:{port}/v1/completions", "kittyd": ctx.k.url("/v1/completions")}
    c = o.rps_connections
    rounds = []
    for i in range(o.rounds):
        rd = {}
        for side in ctx.rounds_order(i):
            meter = CpuMeter({"kittyd": ctx.k.pid, "engine": engine_pid}).start()
            r = ctx.tools.wrk_run(urls[side], body, c, max(1, round(o.duration + o.warmup)), threads=o.wrk_threads)
            r["cpu"] = meter.stop()
            rd[side] = r
            log(f"rps c={c} round {i} {side:<6} {r['rps']:9.0f} req/s  p50 {r['latency_us']['p50']:.0f} us  "
                f"p99 {r['latency_us']['p99']:.0f} us  errors {r['errors']}")
        rd["ratio"] = ratio(rd["kittyd"]["rps"], rd["direct"]["rps"])
        rounds.append(rd)
        if rd["direct"]["error_total"] or rd["kittyd"]["error_total"]:
            raise MeasurementError(f"rps round {i}: wrk errors direct {rd['direct']['errors']} "
                                   f"kittyd {rd['kittyd']['errors']}", {"rounds": rounds})
    return {
        "connections": c,
        "rounds": rounds,
        "ratio": median([r["ratio"] for r in rounds]),
        "direct_rps": median([r["direct"]["rps"] for r in rounds]),
        "kittyd_rps": median([r["kittyd"]["rps"] for r in rounds]),
        "direct_p50_us": median([r["direct"]["latency_us"]["p50"] for r in rounds]),
        "kittyd_p50_us": median([r["kittyd"]["latency_us"]["p50"] for r in rounds]),
    }


def rows(r: dict) -> list[Row]:
    rs = ", ".join(fmt_pct(x["ratio"]) for x in r["rounds"])
    return [Row(f"requests/s, {r['connections']} keep-alive clients, wrk (direct → kittyd; rounds: {rs})",
                f"≥ {TARGET * 100:.0f} % of direct",
                f"{fmt(r['direct_rps'], '', 0)} → {fmt(r['kittyd_rps'], '', 0)} req/s ({fmt_pct(r['ratio'])})",
                r["ratio"] is not None and r["ratio"] >= TARGET),
            Row(f"  same, wrk p50 latency (direct → kittyd)", "—",
                f"{fmt(r['direct_p50_us'], '', 0)} → {fmt(r['kittyd_p50_us'], '', 0)} µs")]
