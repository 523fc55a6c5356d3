"""Streaming throughput (body bytes/s after de-chunking) through kittyd vs direct, at 1, 64 and 256
concurrent streams, and the CPU each side spends per relayed MB.

Each client streams back to back (keep-alive by default) for --warmup + --duration seconds; only
bytes that arrive inside the measured window count, and a stream still running at its end is cut.
CPU: kittyd's and the engine's user+sys seconds (/proc/<pid>/stat) over the whole loadgen run,
divided by every body byte the clients received in that run."""
from __future__ import annotations

from ..context import STREAM_BODY, Ctx
from ..util import CpuMeter, MeasurementError, Row, fmt, fmt_bytes_s, fmt_pct, log, median, ratio

NAME = "stream"
TARGETS = {1: 0.95}  # ratio to direct; every other concurrency: 0.90
DEFAULT_TARGET = 0.90


def target(c: int) -> float:
    return TARGETS.get(c, DEFAULT_TARGET)


def one_run(ctx: Ctx, url: str, body: str, c: int, engine_pid: int) -> dict:
    o = ctx.opts
    meter = CpuMeter({"kittyd": ctx.k.pid, "engine": engine_pid}).start()
    r = ctx.tools.streams(url, body, c, o.duration, o.stream_warmup, reconnect=o.stream_reconnect)
    r["cpu"] = meter.stop()
    mb = r["bytes_total"] / 1e6
    for who in ("kittyd", "engine"):
        cpu = r["cpu"].get(who + "_cpu_s")
        r[who + "_cpu_ms_per_mb"] = cpu * 1000 / mb if cpu is not None and mb > 0 else None
    return r


def run(ctx: Ctx) -> dict:
    o = ctx.opts
    port, engine_pid = ctx.k.ensure("stream")
    urls = {"direct": f"http://127.0.0.1:{port}/v1/completions", "kittyd": ctx.k.url("/v1/completions")}
    out: dict = {"connection": "a new connection per stream" if o.stream_reconnect else "keep-alive",
                 "by_concurrency": {}}
    for c in o.stream_concurrency:
        tokens = o.single_tokens if c == 1 else o.many_tokens
        body = STREAM_BODY % ("stream", tokens)
        rounds = []
        for i in range(o.rounds):
            rd = {}
            for side in ctx.rounds_order(i):
                r = one_run(ctx, urls[side], body, c, engine_pid)
                rd[side] = r
                log(f"stream c={c:<3} round {i} {side:<6} {r['bytes_per_s'] / 1e6:8.1f} MB/s "
                    f"{r['events_per_s']:9.0f} events/s  streams {r['streams']}+{r['streams_cut']} cut  "
                    f"errors {r['errors']}  cpu/MB kittyd {fmt(r['kittyd_cpu_ms_per_mb'])} ms "
                    f"engine {fmt(r['engine_cpu_ms_per_mb'])} ms  busy {fmt((r['cpu']['machine_busy'] or 0) * 100, '%', 0)}")
            rd["ratio"] = ratio(rd["kittyd"]["bytes_per_s"], rd["direct"]["bytes_per_s"])
            rounds.append(rd)
            bad = [s for s in ("direct", "kittyd") if rd[s]["errors"] or not rd[s]["bytes"]]
            if bad:
                out["by_concurrency"][str(c)] = {"rounds": rounds}
                raise MeasurementError(f"stream c={c}: errors on {bad}: "
                                       + "; ".join(f"{s} {rd[s]['statuses']}" for s in bad), out)
        out["by_concurrency"][str(c)] = {
            "concurrency": c,
            "tokens_per_stream": tokens,
            "rounds": rounds,
            "ratio": median([r["ratio"] for r in rounds]),
            "direct_bytes_per_s": median([r["direct"]["bytes_per_s"] for r in rounds]),
            "kittyd_bytes_per_s": median([r["kittyd"]["bytes_per_s"] for r in rounds]),
            "direct_events_per_s": median([r["direct"]["events_per_s"] for r in rounds]),
            "kittyd_events_per_s": median([r["kittyd"]["events_per_s"] for r in rounds]),
            "kittyd_cpu_ms_per_mb": median([r["kittyd"]["kittyd_cpu_ms_per_mb"] for r in rounds]),
            "engine_cpu_ms_per_mb_direct": median([r["direct"]["engine_cpu_ms_per_mb"] for r in rounds]),
            "engine_cpu_ms_per_mb_via_kittyd": median([r["kittyd"]["engine_cpu_ms_per_mb"] for r in rounds]),
            "machine_busy_kittyd": median([r["kittyd"]["cpu"]["machine_busy"] for r in rounds]),
        }
    return out


def rows(r: dict) -> list[Row]:
    out = []
    for c, s in r["by_concurrency"].items():
        if "ratio" not in s:
            continue
        c = int(c)
        rs = ", ".join(fmt_pct(x["ratio"]) for x in s["rounds"])
        out.append(Row(
            f"streaming bytes/s, {c} stream{'s' if c > 1 else ''} × {s['tokens_per_stream']} tokens "
            f"(direct → kittyd; rounds: {rs})",
            f"≥ {target(c) * 100:.0f} % of direct",
            f"{fmt_bytes_s(s['direct_bytes_per_s'])} → {fmt_bytes_s(s['kittyd_bytes_per_s'])} ({fmt_pct(s['ratio'])})",
            s["ratio"] is not None and s["ratio"] >= target(c)))
        out.append(Row(f"  same, events/s (direct → kittyd)", "—",
                       f"{fmt(s['direct_events_per_s'], '', 0)} → {fmt(s['kittyd_events_per_s'], '', 0)}"))
    for c, s in r["by_concurrency"].items():
        if "ratio" not in s:
            continue
        out.append(Row(f"CPU per relayed MB at {c} stream{'s' if int(c) > 1 else ''}: kittyd / the engine generating it"
                       f" (direct run)", "report", f"{fmt(s['kittyd_cpu_ms_per_mb'])} / "
                       f"{fmt(s['engine_cpu_ms_per_mb_direct'])} ms CPU per MB"))
    return out
