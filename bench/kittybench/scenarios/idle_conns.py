"""10,000 concurrent idle keep-alive connections: each makes one request (answered 200), then
stays open and idle for --idle-hold seconds. Meanwhile a normal request and /health must succeed.
Reports set-up errors, connections kittyd closed while they idled, kittyd's fds, RSS and the soft
fd limit it runs with (it starts with --kittyd-nofile; issue 8 wants it to raise its own), and the
fds left once every client has gone (a leak shows there)."""
from __future__ import annotations

import time

from ..context import SMALL_BODY, Ctx
from ..daemon import timed_get, timed_post
from ..util import Row, fd_count, fd_limits, fmt, log, rss_kb

NAME = "idle"
FRESH_DAEMON = True  # run.py starts a new kittyd first: earlier scenarios' heap would hide the cost


def run(ctx: Ctx) -> dict:
    k, n = ctx.k, ctx.opts.idle_conns
    k.ensure("fast")
    out = {"connections": n, "fds_before": fd_count(k.pid), "rss_kb_before": rss_kb(k.pid),
           "kittyd_nofile": fd_limits(k.pid)}
    log_at = k.log_size()
    t0 = time.monotonic()
    hold = ctx.tools.hold(k.url("/v1/completions"), SMALL_BODY % "fast", "request", n,
                          ready_timeout=ctx.opts.ready_timeout)
    try:
        ready = hold.ready()
        out["ready"] = ready
        out["setup_s"] = time.monotonic() - t0
        out["fds_held"] = fd_count(k.pid)
        out["rss_kb_held"] = rss_kb(k.pid)
        out["normal_request"] = timed_post(k.port, "/v1/completions", SMALL_BODY % "fast", timeout=3)
        out["health"] = timed_get(k.port, "/health", timeout=3)
        time.sleep(ctx.opts.idle_hold)
        out["normal_request_after_hold"] = timed_post(k.port, "/v1/completions", SMALL_BODY % "fast", timeout=3)
        out["health_after_hold"] = timed_get(k.port, "/health", timeout=3)
        out["tick_after_hold"] = hold.last_tick()
    finally:
        out["done"] = hold.finish()
    time.sleep(1.0)
    out["fds_after"] = fd_count(k.pid)
    out["rss_kb_after"] = rss_kb(k.pid)
    lines = k.log_lines_since(log_at)
    out["kittyd_log_lines"] = len(lines)
    out["kittyd_log_sample"] = lines[:3] + (["…"] + lines[-2:] if len(lines) > 5 else lines[3:])
    d = out["done"] or ready
    out["errors"] = (ready.get("failed", 0) + ready.get("pending", 0)
                     + d.get("closed_by_peer_after_setup", 0)
                     + (out["normal_request"][0] != 200) + (out["health"][0] != 200)
                     + (out["normal_request_after_hold"][0] != 200) + (out["health_after_hold"][0] != 200))
    log(f"idle: {ready.get('set_up_ok')}/{n} set up in {out['setup_s']:.1f} s (failed {ready.get('failed')}, "
        f"pending {ready.get('pending')}, errors {ready.get('errors')}); closed by kittyd while idle "
        f"{d.get('closed_by_peer_after_setup')}; normal request {out['normal_request']}, /health {out['health']}; "
        f"kittyd fds {out['fds_before']} → {out['fds_held']} → {out['fds_after']}, RSS {out['rss_kb_held']} KiB, "
        f"nofile {out['kittyd_nofile']}; {len(lines)} kittyd log lines")
    return out


def rows(r: dict) -> list[Row]:
    ready = r["ready"]
    d = r["done"] or ready
    n = r["connections"]
    nr, h = r["normal_request"], r["health"]
    detail = (f"{ready.get('set_up_ok')} of {n} answered and held; failed {ready.get('failed')}, "
              f"pending {ready.get('pending')}{' ' + str(ready['errors']) if ready.get('errors') else ''}; "
              f"closed by kittyd while idle {d.get('closed_by_peer_after_setup')}")
    return [
        Row(f"{n:,} idle keep-alive connections held for {r.get('tick_after_hold', {}).get('t', 0) - ready.get('t', 0):.0f} s"
            f" ({detail})", "0 errors", f"{r['errors']} errors", r["errors"] == 0),
        Row("  meanwhile: a normal request / GET /health (status, ms)", "200 / 200",
            f"{nr[0]} in {nr[1]:.1f} ms / {h[0]} in {h[1]:.1f} ms; after the hold "
            f"{r['normal_request_after_hold'][0]} / {r['health_after_hold'][0]}",
            nr[0] == 200 and h[0] == 200),
        Row("  kittyd fds before → held → after; RSS held; soft fd limit", "—",
            f"{r['fds_before']} → {r['fds_held']} → {r['fds_after']}; "
            f"{fmt((r['rss_kb_held'] or 0) / 1024)} MiB; {r['kittyd_nofile'][0] if r['kittyd_nofile'] else 'n/a'}"),
    ]
