"""kittyd's memory: RSS idle (right after start, no worker running, no request yet) and per open
stream: VmRSS with N slow streams held open (the `slow` model: a token a second) minus VmRSS just
before they opened, divided by the streams that got their response header. kittyd's own VmRSS
only (/proc/<pid>/status), never its workers'."""
from __future__ import annotations

import time

from ..context import STREAM_BODY, Ctx
from ..util import Row, fd_count, fmt, log, rss_kb

NAME = "memory"
FRESH_DAEMON = True  # run.py starts a new kittyd first: earlier scenarios' heap would hide the cost
TARGET_IDLE_KB = 12 * 1024
TARGET_PER_STREAM_KB = 32.0


def run(ctx: Ctx) -> dict:
    k, n = ctx.k, ctx.opts.mem_streams
    out = {"idle_rss_kb_at_start": ctx.start.get("rss_kb"), "streams": n}
    k.ensure("slow")
    time.sleep(0.5)
    out["rss_kb_before"] = rss_kb(k.pid)
    out["fds_before"] = fd_count(k.pid)
    hold = ctx.tools.hold(k.url("/v1/completions"), STREAM_BODY % ("slow", 100000), "stream", n,
                          ready_timeout=ctx.opts.ready_timeout)
    try:
        ready = hold.ready()
        time.sleep(1.0)  # every stream has had a token or so through it
        out["rss_kb_with_streams"] = rss_kb(k.pid)
        out["fds_with_streams"] = fd_count(k.pid)
        out["ready"] = ready
        out["tick_at_measure"] = hold.last_tick()
    finally:
        out["done"] = hold.finish()
    time.sleep(1.5)  # the engine notices the clients left at its next token (1 s)
    out["rss_kb_after"] = rss_kb(k.pid)
    out["fds_after"] = fd_count(k.pid)
    ok = (out["tick_at_measure"] or ready).get("set_up_ok", 0)
    out["streams_open_at_measure"] = ok
    if ok and out["rss_kb_with_streams"] and out["rss_kb_before"]:
        out["per_stream_kb"] = (out["rss_kb_with_streams"] - out["rss_kb_before"]) / ok
    else:
        out["per_stream_kb"] = None
    log(f"memory: idle at start {out['idle_rss_kb_at_start']} KiB; {ok}/{n} streams open: RSS "
        f"{out['rss_kb_before']} → {out['rss_kb_with_streams']} KiB ({fmt(out['per_stream_kb'])} KiB/stream), "
        f"after {out['rss_kb_after']} KiB; fds {out['fds_before']} → {out['fds_with_streams']} → {out['fds_after']}; "
        f"loadgen errors {ready.get('errors')} statuses {ready.get('statuses')}")
    return out


def rows(r: dict) -> list[Row]:
    idle = r["idle_rss_kb_at_start"]
    per = r["per_stream_kb"]
    ready = r.get("ready") or {}
    errs = ready.get("errors") or {}
    failed = ready.get("failed", 0) + ready.get("pending", 0)
    note = "" if not failed else (f"; {ready.get('failed', 0)} failed{' ' + str(errs) if errs else ''}, "
                                  f"{ready.get('pending', 0)} never answered")
    return [
        Row("kittyd RSS idle (after start, no request yet)", f"≤ {TARGET_IDLE_KB // 1024} MB",
            fmt(idle / 1024 if idle else None, " MiB"), None if idle is None else idle <= TARGET_IDLE_KB),
        Row(f"kittyd RSS per open stream ({r['streams_open_at_measure']} of {r['streams']} slow streams open{note})",
            f"≤ {TARGET_PER_STREAM_KB:.0f} KB", fmt(per, " KiB"),
            None if per is None else per <= TARGET_PER_STREAM_KB and not failed),
        Row("  kittyd RSS before → with the streams → 1.5 s after they closed; fds", "—",
            f"{fmt((r['rss_kb_before'] or 0) / 1024)} → {fmt((r['rss_kb_with_streams'] or 0) / 1024)} → "
            f"{fmt((r['rss_kb_after'] or 0) / 1024)} MiB; fds {r['fds_before']} → {r['fds_with_streams']} → {r['fds_after']}"),
    ]
