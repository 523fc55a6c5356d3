"""Added latency at 1 client: p50 and p99 of a small non-streamed request, kittyd minus direct.

Rounds alternate which side goes first; the figure is the median over rounds of each round's
difference, so a burst of load from another process moves one round, not the answer."""
from __future__ import annotations

from ..context import SMALL_BODY, Ctx
from ..util import MeasurementError, Row, fmt, log, median

NAME = "latency"
TARGET_P50_US = 40.0


def run(ctx: Ctx) -> dict:
    o = ctx.opts
    port, _ = ctx.k.ensure("fast")
    body = SMALL_BODY % "fast"
    urls = {"direct": f"http://127.0.0.1:{port}/v1/completions", "kittyd": ctx.k.url("/v1/completions")}
    rounds = []
    for i in range(o.rounds):
        rd = {}
        for side in ctx.rounds_order(i):
            r = ctx.tools.requests(urls[side], body, 1, o.duration, o.warmup)
            rd[side] = r
            lat = r["latency_us"]
            log(f"latency round {i} {side:<6} p50 {lat.get('p50', 0):8.1f} us  p99 {lat.get('p99', 0):9.1f} us "
                f" {r['rps']:8.0f} req/s  errors {r['errors']}")
        d, v = rd["direct"], rd["kittyd"]
        if d["errors"] or v["errors"] or not d["requests"] or not v["requests"]:
            raise MeasurementError(f"latency round {i}: direct {d['statuses']}, kittyd {v['statuses']}",
                                   {"rounds": rounds + [rd]})
        rd["added_p50_us"] = v["latency_us"]["p50"] - d["latency_us"]["p50"]
        rd["added_p99_us"] = v["latency_us"]["p99"] - d["latency_us"]["p99"]
        rounds.append(rd)
    return {
        "rounds": rounds,
        "added_p50_us": median([r["added_p50_us"] for r in rounds]),
        "added_p99_us": median([r["added_p99_us"] for r in rounds]),
        "direct_p50_us": median([r["direct"]["latency_us"]["p50"] for r in rounds]),
        "kittyd_p50_us": median([r["kittyd"]["latency_us"]["p50"] for r in rounds]),
        "direct_p99_us": median([r["direct"]["latency_us"]["p99"] for r in rounds]),
        "kittyd_p99_us": median([r["kittyd"]["latency_us"]["p99"] for r in rounds]),
    }


def rows(r: dict) -> list[Row]:
    n = len(r["rounds"])
    spread = ", ".join(fmt(x["added_p50_us"], "", 0) for x in r["rounds"])
    return [
        Row(f"added latency p50, 1 client (direct {fmt(r['direct_p50_us'])} → kittyd {fmt(r['kittyd_p50_us'])} µs;"
            f" median of {n} rounds: {spread})", f"≤ {TARGET_P50_US:.0f} µs", fmt(r["added_p50_us"], " µs"),
            r["added_p50_us"] <= TARGET_P50_US),
        Row(f"added latency p99, 1 client (direct {fmt(r['direct_p99_us'])} → kittyd {fmt(r['kittyd_p99_us'])} µs)",
            "—", fmt(r["added_p99_us"], " µs")),
    ]
