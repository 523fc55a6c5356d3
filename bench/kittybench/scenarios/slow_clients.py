"""Slow or hostile clients: --stalled connections (default 1,000) each send half a request header
and then nothing, while --slow-normal-clients keep sending normal requests in windows of
--slow-window seconds. The stalled phase lasts --stall-seconds, so with kittyd's
server.header_timeout_seconds below it (default 10 in the new daemon; set it with
--server-opt header_timeout_seconds=N) the run shows both sides of the deadline: p50 and /health
while the stalled clients hold their sockets, and after kittyd has closed them.

Met: the median over the stalled windows of their p50 within --slow-p50-factor (1.25) of the
baseline (the mean p50 of the windows just before and just after the stall), no request errors,
and every /health probe (every 200 ms, 2 s timeout) answered 200. The worst window is reported
too."""
from __future__ import annotations

import threading
import time

from ..context import SMALL_BODY, Ctx
from ..daemon import timed_get
from ..util import Row, fd_count, fmt, log, median

NAME = "slow"


def window(ctx: Ctx, seconds: float, label: str, since: float | None, hold=None) -> dict:
    k = ctx.k
    health: list[tuple[int, float]] = []
    stop = threading.Event()

    def probe() -> None:
        while not stop.is_set():
            health.append(timed_get(k.port, "/health", timeout=2))
            stop.wait(0.2)

    th = threading.Thread(target=probe, daemon=True)
    t_start = time.monotonic()
    th.start()
    r = ctx.tools.requests(k.url("/v1/completions"), SMALL_BODY % "fast", ctx.opts.slow_normal_clients,
                           seconds, 0.2, timeout_s=3)
    stop.set()
    th.join(timeout=5)
    tick = hold.last_tick() if hold else None
    lat = r["latency_us"]
    w = {
        "label": label,
        "t_from": None if since is None else t_start - since,
        "t_to": None if since is None else time.monotonic() - since,
        "p50_us": lat.get("p50"), "p99_us": lat.get("p99"), "rps": r["rps"],
        "errors": r["errors"], "statuses": r["statuses"],
        "health_probes": len(health), "health_ok": sum(1 for s, _ in health if s == 200),
        "health_max_ms": max((ms for _, ms in health), default=None),
        "kittyd_fds": fd_count(k.pid),
        "stalled_open": tick.get("open") if tick else None,
        "stalled_closed_by_kittyd": tick.get("closed_by_peer") if tick else None,
        "stalled_late_statuses": tick.get("late_statuses") if tick else None,
    }
    span = "" if since is None else f" t={w['t_from']:.1f}-{w['t_to']:.1f}s"
    log(f"slow {label:<8}{span} p50 {fmt(w['p50_us'])} us p99 {fmt(w['p99_us'])} us errors {w['errors']} "
        f"{w['statuses']}; /health {w['health_ok']}/{w['health_probes']} max {fmt(w['health_max_ms'])} ms; "
        f"kittyd fds {w['kittyd_fds']}; stalled open {w['stalled_open']} closed by kittyd "
        f"{w['stalled_closed_by_kittyd']} {w['stalled_late_statuses'] or ''}")
    return w


def run(ctx: Ctx) -> dict:
    o, k = ctx.opts, ctx.k
    k.ensure("fast")
    out = {"stalled": o.stalled, "stall_seconds": o.stall_seconds, "window_s": o.slow_window,
           "normal_clients": o.slow_normal_clients, "server_opts": dict(o.server_opts),
           "p50_factor": o.slow_p50_factor}
    log_at = k.log_size()
    out["without"] = window(ctx, o.slow_window, "without", None)
    hold = ctx.tools.hold(k.url("/v1/completions"), SMALL_BODY % "fast", "half", o.stalled,
                          ready_timeout=min(o.ready_timeout, o.stall_seconds))
    windows = []
    try:
        out["ready"] = hold.ready()
        since = time.monotonic()
        while time.monotonic() - since < o.stall_seconds:
            left = o.stall_seconds - (time.monotonic() - since)
            windows.append(window(ctx, max(0.5, min(o.slow_window, left)), "stalled", since, hold))
    finally:
        out["done"] = hold.finish()
    out["windows"] = windows
    out["after"] = window(ctx, o.slow_window, "after", None)
    lines = k.log_lines_since(log_at)
    out["kittyd_log_lines"] = len(lines)
    out["kittyd_accept_failures"] = sum(1 for ln in lines if "accept failed" in ln)
    out["kittyd_log_sample"] = lines[:3]
    # Baseline: the windows before and after the stall (one noisy window must not decide alone).
    befores = [w["p50_us"] for w in (out["without"], out["after"]) if w["p50_us"]]
    base = sum(befores) / len(befores) if befores else None
    out["baseline_p50_us"] = base
    ratios = [w["p50_us"] / base for w in windows if w["p50_us"] and base]
    out["worst_p50_ratio"] = max(ratios, default=None)
    out["median_p50_ratio"] = median(ratios)
    out["errors_during"] = sum(w["errors"] for w in windows)
    out["health_failed_during"] = sum(w["health_probes"] - w["health_ok"] for w in windows)
    out["met"] = (bool(windows) and out["worst_p50_ratio"] is not None
                  and out["median_p50_ratio"] <= o.slow_p50_factor
                  and out["errors_during"] == 0 and out["health_failed_during"] == 0
                  and all(w["health_probes"] > 0 for w in windows))
    return out


def rows(r: dict) -> list[Row]:
    ws = r["windows"]
    d = r["done"] or r["ready"]
    ready = r["ready"]
    per = "; ".join(f"{w['t_from']:.1f}–{w['t_to']:.1f} s: {fmt(w['p50_us'], '', 0)} µs"
                    f"{' ' + str(w['errors']) + ' err' if w['errors'] else ''}"
                    f", health {w['health_ok']}/{w['health_probes']}"
                    f", {w['stalled_open']} stalled open" for w in ws)
    opts = ", ".join(f"{k}={v}" for k, v in r["server_opts"].items()) or "kittyd defaults"
    closed = d.get("closed_by_peer", 0)
    ca = d.get("closed_after_open_s") or {}
    return [
        Row(f"{r['stalled']:,} stalled half-requests for {r['stall_seconds']:g} s ({opts}): p50 of "
            f"{r['normal_clients']} normal clients before/after → during ({per})",
            f"p50 ≤ {r['p50_factor']:g}× without, 0 errors, /health always 200",
            f"{fmt(r['baseline_p50_us'], '', 0)} µs → median {fmt(r['median_p50_ratio'], '×', 2)}, "
            f"worst {fmt(r['worst_p50_ratio'], '×', 2)}; "
            f"{r['errors_during']} errors; /health failed {r['health_failed_during']}", r["met"]),
        Row("  stalled connections: set up / closed by kittyd (median s after open) / answers sent to them",
            "closed at the header deadline",
            f"{ready.get('set_up_ok')} of {r['stalled']} (failed {ready.get('failed')}, pending {ready.get('pending')}) / "
            f"{closed} ({fmt(ca.get('p50'))} s) / {d.get('late_statuses') or 'none'}"),
        Row("  after the stalled clients left: p50 / errors / /health; kittyd 'accept failed' log lines", "—",
            f"{fmt(r['after']['p50_us'], '', 0)} µs / {r['after']['errors']} / "
            f"{r['after']['health_ok']}/{r['after']['health_probes']}; {r['kittyd_accept_failures']}"),
    ]
