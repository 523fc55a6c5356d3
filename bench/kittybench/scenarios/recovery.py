"""Crash recovery and live configuration (issue 10), on a kittyd of its own:

- pinned restart: a ready pinned model (--load-ms 200) that has answered a request is SIGKILLed
  from outside; the time until
  status shows it ready again under a new pid, with no request (polled every 10 ms). It is owed
  its first backoff (5 s) plus its load; the figure beyond those two is kittyd's.
- fallback: while that model waits for its restart, requests naming it are served by its
  fallback; their latency against the same requests naming the fallback directly, in the same
  window (the chain costs a trip to the control loop and a rewrite of the body's "model").
- reload under load: 4 clients send requests to one model while the config is reloaded every
  100 ms with a live change (its priority); errors (target: none), its pid (target: unchanged),
  and the clients' p50/p99 against the same load without reloads.
- restart for a changed config under load: the same clients on a model whose env changes in one
  reload: errors (target: none: requests wait for the new worker) and the longest request.
Requests are http.client POSTs on fresh connections (a Python client: its own cost is in both
sides of every comparison)."""
from __future__ import annotations

import os
import re
import signal
import threading
import time

from ..context import Ctx
from ..daemon import Kittyd, timed_post
from ..util import MeasurementError, Row, fmt, log, median, pct

NAME = "recovery"
BACKOFF_S = 5.0
LOAD_MS = 200
BODY = '{"model":"%s","prompt":"hi","max_tokens":1}'


def models() -> list:
    quick = ["--tokens", "1"]
    return [
        ("pinned", quick + ["--load-ms", str(LOAD_MS)], "    pinned: true\n    fallback: [backup]\n"),
        ("backup", quick, ""),
        ("keep", quick, "    priority: 0\n"),
        ("change", quick, "    env: {KITTY_BENCH_GEN: \"0\"}\n"),
    ]


def worker(k: Kittyd, model: str) -> dict:
    return k.ok("GET", f"/kitty/workers/{model}")


def pinned_restart(k: Kittyd, rounds: int) -> dict:
    samples = []
    for _ in range(rounds):
        w = k.ok("POST", "/kitty/workers/pinned/ensure", timeout=60)
        # A run that answered a request proved itself: each kill is a first failure (5 s), not
        # the next of a run of failures (10 s, 20 s ...).
        if timed_post(k.port, "/v1/completions", BODY % "pinned", 10)[0] != 200:
            raise MeasurementError("the pinned model did not answer before its kill")
        time.sleep(0.3)
        pid = int(w["pid"])
        t0 = time.perf_counter()
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            w = worker(k, "pinned")
            if w["status"] == "ready" and w["pid"] not in (None, pid):
                break
            time.sleep(0.01)
        else:
            raise MeasurementError(f"pinned model not ready again within 30 s of its kill: {w}")
        ready_ms = (time.perf_counter() - t0) * 1000
        load_ms = (w.get("load_seconds") or 0) * 1000
        samples.append({"ready_ms": ready_ms, "load_ms": load_ms,
                        "beyond_ms": ready_ms - BACKOFF_S * 1000 - load_ms})
    return {"rounds": rounds, "samples": samples,
            "ready_ms_median": median([s["ready_ms"] for s in samples]),
            "beyond_ms_median": median([s["beyond_ms"] for s in samples]),
            "beyond_ms_max": max(s["beyond_ms"] for s in samples)}


def fallback_latency(k: Kittyd, n: int) -> dict:
    """Requests naming 'pinned' while it waits for its restart, and naming 'backup', interleaved."""
    k.ok("POST", "/kitty/workers/backup/ensure", timeout=60)
    w = k.ok("POST", "/kitty/workers/pinned/ensure", timeout=60)
    os.kill(int(w["pid"]), signal.SIGKILL)
    deadline = time.monotonic() + 5
    while worker(k, "pinned")["restart"]["next_in_seconds"] is None:
        if time.monotonic() > deadline:
            raise MeasurementError("pinned model never queued its restart")
        time.sleep(0.01)
    via, direct, bad = [], [], 0
    t_end = time.monotonic() + BACKOFF_S - 0.5  # inside the backoff window
    while len(via) < n and time.monotonic() < t_end:
        for model, into in (("pinned", via), ("backup", direct)):
            status, ms = timed_post(k.port, "/v1/completions", BODY % model, 10)
            if status != 200:
                bad += 1
            into.append(ms)
    return {"requests": len(via), "errors": bad, "via_fallback_ms_median": median(via),
            "direct_ms_median": median(direct), "via_fallback_ms_p99": pct(via, 0.99),
            "direct_ms_p99": pct(direct, 0.99),
            "overhead_ms_median": (median(via) or 0) - (median(direct) or 0)}


class Clients:
    """`n` threads posting to `model` until stop(); every status and latency kept."""

    def __init__(self, k: Kittyd, model: str, n: int):
        self.k, self.model = k, model
        self.lat: list[float] = []
        self.bad: list[int] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(n)]

    def _run(self) -> None:
        while not self._stop.is_set():
            status, ms = timed_post(self.k.port, "/v1/completions", BODY % self.model, 30)
            with self._lock:
                self.lat.append(ms)
                if status != 200:
                    self.bad.append(status)

    def start(self) -> "Clients":
        for t in self._threads:
            t.start()
        return self

    def stop(self) -> dict:
        self._stop.set()
        for t in self._threads:
            t.join(35)
        return {"requests": len(self.lat), "errors": len(self.bad), "error_statuses": sorted(set(self.bad)),
                "p50_ms": pct(self.lat, 0.5), "p99_ms": pct(self.lat, 0.99), "max_ms": max(self.lat, default=None)}


def rewrite(k: Kittyd, pattern: str, repl: str) -> None:
    text = k.config.read_text()
    new, n = re.subn(pattern, repl, text)
    if n != 1:
        raise MeasurementError(f"config rewrite {pattern!r} matched {n} times")
    k.config.write_text(new)


def reload_under_load(k: Kittyd, seconds: float) -> dict:
    pid = k.ensure("keep")[1]
    base = Clients(k, "keep", 4).start()
    time.sleep(seconds)
    quiet = base.stop()
    load = Clients(k, "keep", 4).start()
    reloads, outcomes = 0, set()
    t_end = time.monotonic() + seconds
    while time.monotonic() < t_end:
        rewrite(k, r"priority: -?\d+", f"priority: {reloads % 2}")
        r = k.ok("POST", "/kitty/config/reload")
        outcomes.add(r["models"]["keep"])
        reloads += 1
        time.sleep(0.1)
    busy = load.stop()
    return {"reloads": reloads, "outcomes": sorted(outcomes), "without": quiet, "with": busy,
            "pid_kept": k.ensure("keep")[1] == pid}


def restart_under_load(k: Kittyd) -> dict:
    pid = k.ensure("change")[1]
    clients = Clients(k, "change", 4).start()
    time.sleep(1)
    rewrite(k, r'KITTY_BENCH_GEN: "\d+"', 'KITTY_BENCH_GEN: "1"')
    t0 = time.perf_counter()
    r = k.ok("POST", "/kitty/config/reload")
    deadline = time.monotonic() + 30
    while True:
        w = worker(k, "change")
        if w["status"] == "ready" and w["pid"] != pid:
            break
        if time.monotonic() > deadline:
            raise MeasurementError(f"changed model not restarted within 30 s: {w}")
        time.sleep(0.01)
    restarted_ms = (time.perf_counter() - t0) * 1000
    time.sleep(1)
    out = clients.stop()
    out.update({"outcome": r["models"]["change"], "restarted_ms": restarted_ms,
                "load_ms": (w.get("load_seconds") or 0) * 1000})
    return out


def run(ctx: Ctx) -> dict:
    o = ctx.opts
    k = Kittyd(ctx.k.binary, ctx.fake, ctx.k.tmp / "recovery", ctx.k.nofile, o.server_opts, o.cold_load_ms,
               tag="recovery", models=models(), log_level="info")
    quick = o.quick
    res: dict = {}
    try:
        res["pinned"] = pinned_restart(k, 2 if quick else 3)
        log(f"recovery: pinned ready again {res['pinned']['ready_ms_median']:.0f} ms after its kill "
            f"({res['pinned']['beyond_ms_median']:+.1f} ms beyond backoff + load)")
        res["fallback"] = fallback_latency(k, 100 if quick else 400)
        log(f"recovery: via fallback {fmt(res['fallback']['via_fallback_ms_median'], ' ms')} vs direct "
            f"{fmt(res['fallback']['direct_ms_median'], ' ms')} ({res['fallback']['errors']} errors)")
        res["reload"] = reload_under_load(k, 2.0 if quick else 5.0)
        log(f"recovery: {res['reload']['reloads']} reloads under load, {res['reload']['with']['errors']} errors, "
            f"p99 {fmt(res['reload']['with']['p99_ms'], ' ms')} vs {fmt(res['reload']['without']['p99_ms'], ' ms')}")
        res["restart"] = restart_under_load(k)
        log(f"recovery: changed model restarted under load in {res['restart']['restarted_ms']:.0f} ms, "
            f"{res['restart']['errors']} errors, longest request {fmt(res['restart']['max_ms'], ' ms')}")
    finally:
        k.stop()
        res["kittyd_log_tail"] = k.tail(30).splitlines()
    return res


def rows(r: dict) -> list[Row]:
    p, f, rl, rs = r["pinned"], r["fallback"], r["reload"], r["restart"]
    return [
        Row(f"pinned model SIGKILLed → ready again, no request (backoff {BACKOFF_S:g} s + load), median of "
            f"{p['rounds']}", f"≤ {BACKOFF_S:g} s + load", fmt(p["ready_ms_median"], " ms"),
            p["beyond_ms_max"] < 1000),
        Row("  beyond backoff + its load (W.load_seconds), median / max", "—",
            f"{fmt(p['beyond_ms_median'], ' ms')} / {fmt(p['beyond_ms_max'], ' ms')}"),
        Row(f"request served by the fallback while the model backs off: latency, median of {f['requests']} "
            "(naming the fallback directly, same window)", "—",
            f"{fmt(f['via_fallback_ms_median'], ' ms', 2)} ({fmt(f['direct_ms_median'], ' ms', 2)})"),
        Row("  fallback chain overhead, median", "—", fmt(f["overhead_ms_median"], " ms", 2)),
        Row("  errors while it backs off", "0", str(f["errors"]), f["errors"] == 0),
        Row(f"{rl['reloads']} reloads (a live change) under 4 clients: errors / worker kept", "0 / yes",
            f"{rl['with']['errors']} / {'yes' if rl['pid_kept'] else 'NO'}",
            rl["with"]["errors"] == 0 and rl["pid_kept"]),
        Row("  clients' p50 / p99 with reloads (without)", "—",
            f"{fmt(rl['with']['p50_ms'], ' ms', 2)} / {fmt(rl['with']['p99_ms'], ' ms', 2)} "
            f"({fmt(rl['without']['p50_ms'], ' ms', 2)} / {fmt(rl['without']['p99_ms'], ' ms', 2)})"),
        Row("changed config under 4 clients: reload → new worker ready / errors / longest request", "— / 0 / —",
            f"{fmt(rs['restarted_ms'], ' ms')} / {rs['errors']} / {fmt(rs['max_ms'], ' ms')}", rs["errors"] == 0),
    ]
