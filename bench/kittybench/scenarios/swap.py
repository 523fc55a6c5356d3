"""A→B swap overhead (issue 9): two fake_engine models under a memory budget that fits only one. With
A ready and B stopped, POST /kitty/workers/B/ensure makes kittyd stop A for room, wait until A is
gone (host memory counts as back when A's process group is; GPU memory is waited for separately,
none here without a GPU), then start B. The swap's duration (POST → 200) against, in the same
round, A's release alone (POST release → response) and B's cold ensure alone (both stopped,
POST ensure → 200): overhead = swap − (stop A + load B), median over --swap-rounds rounds that
alternate which model is A. After every swap GET /kitty/system/workers must show A stopped and B
ready: a round where the eviction did not happen makes the figure invalid (the scenario fails).

It runs its own kittyd (a fixed memory budget and these two models only, its own state dir for the
learned footprints) at --log-level info, so that its log says what the scheduler did; the
scenario's JSON keeps those lines per round. Beside the figure, from the same swaps: when A's
process group was gone (the runner polls killpg(pgid, 0) every 1 ms) and B's own load time as
kittyd reports it (W.load_seconds, spawn → healthy), which give the scheduler's gap between A gone
and B spawned."""
from __future__ import annotations

import os
import re
import threading
import time

from ..context import Ctx
from ..daemon import Kittyd
from ..util import MeasurementError, Row, fmt, log, median, pct
from .release import group_alive

NAME = "swap"
TARGET_OVERHEAD_MS = 20.0
MODELS = ("swapA", "swapB")
LOG_TIME = re.compile(r"^\S+ (\d\d):(\d\d):(\d\d\.\d+) ")
PAUSE_S = 0.3  # after a worker is ready and before it is released or displaced, the same each time


def budget_for(memory_mb: int) -> tuple[str, str]:
    """(memory.budget, each model's memory: key): one model fits, two never do, whatever they are
    planned with (the configured key, or the learned peak, a few MiB over --memory-mb)."""
    return f"{int(memory_mb * 1.75)}MiB", f"{memory_mb + 50}MiB"


def timed(k: Kittyd, method: str, path: str) -> tuple[int, object, float]:
    t0 = time.perf_counter()
    status, data = k.call(method, path, timeout=60)
    return status, data, (time.perf_counter() - t0) * 1000


class GroupWatch:
    """Polls a process group every 1 ms from `start()`; `gone_ms` is when it was first seen gone."""

    def __init__(self, pid: int):
        try:
            self.pgid = os.getpgid(pid)
        except ProcessLookupError:
            self.pgid = pid  # kittyd starts each worker as its own group leader
        self.gone_ms: float | None = None
        self._stop = threading.Event()
        self._th = threading.Thread(target=self._poll, daemon=True)

    def start(self) -> "GroupWatch":
        self.t0 = time.perf_counter()
        self._th.start()
        return self

    def _poll(self) -> None:
        while not self._stop.is_set():
            if not group_alive(self.pgid):
                self.gone_ms = (time.perf_counter() - self.t0) * 1000
                return
            time.sleep(0.001)

    def finish(self, timeout: float = 5) -> float | None:
        self._th.join(timeout=timeout)
        self._stop.set()
        return self.gone_ms


def statuses(k: Kittyd) -> dict[str, dict]:
    data = k.ok("GET", "/kitty/system/workers")
    return {w["model_id"]: w for w in data["workers"] if w["model_id"] in MODELS}


def settle(k: Kittyd) -> None:
    """Both models stopped (what an earlier step left running is released), nothing queued."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        st = statuses(k)
        running = [m for m, w in st.items() if w["status"] != "stopped"]
        if not running:
            return
        for m in running:
            k.release(m)
    raise MeasurementError(f"swap models did not settle to stopped: {statuses(k)}")


def ready(k: Kittyd, model: str) -> dict:
    w = k.ok("POST", f"/kitty/workers/{model}/ensure", timeout=60)
    if w.get("status") != "ready":
        raise MeasurementError(f"ensure {model} answered status {w.get('status')}")
    return w


def log_time(line: str) -> float | None:
    """Seconds since midnight of a kittyd log line ("2026-11-29 10:01:40.046 info ...")."""
    m = LOG_TIME.match(line)
    return int(m[1]) * 3600 + int(m[2]) * 60 + float(m[3]) if m else None


def stop_in_log(lines: list[str], pid: int) -> float | None:
    """kittyd's own view of a stop, in ms: "stopping pid N" → "pid N and its process group are gone"."""
    t0 = t1 = None
    for ln in lines:
        if t0 is None and f"stopping pid {pid}" in ln:
            t0 = log_time(ln)
        elif t0 is not None and f"pid {pid} and its process group are gone" in ln:
            t1 = log_time(ln)
            break
    return (t1 - t0) * 1000 if t0 is not None and t1 is not None else None


def one_round(k: Kittyd, a: str, b: str) -> dict:
    r: dict = {"a": a, "b": b}
    # (a) A's stop alone: A ready, POST release.
    settle(k)
    wa = ready(k, a)
    time.sleep(PAUSE_S)
    log_at = k.log_size()
    watch = GroupWatch(int(wa["pid"])).start()
    status, data, r["stop_a_ms"] = timed(k, "POST", f"/kitty/workers/{a}/release")
    r["stop_a_group_gone_ms"] = watch.finish()
    if status != 200 or not isinstance(data, dict) or data.get("status") != "stopped":
        raise MeasurementError(f"release {a} -> {status}: {data}")
    time.sleep(0.05)  # the log lines of the stop may follow the response by a hair
    r["stop_a_log"] = k.log_lines_since(log_at)
    r["stop_a_kittyd_ms"] = stop_in_log(r["stop_a_log"], int(wa["pid"]))
    # (a) B's cold load alone: both stopped, POST ensure.
    settle(k)
    status, data, r["load_b_ms"] = timed(k, "POST", f"/kitty/workers/{b}/ensure")
    if status != 200 or not isinstance(data, dict) or data.get("status") != "ready":
        raise MeasurementError(f"ensure {b} (cold) -> {status}: {data}")
    r["load_b_worker_load_ms"] = (data.get("load_seconds") or 0) * 1000 or None
    # (b) the swap: A ready, B stopped, POST ensure B.
    settle(k)
    wa = ready(k, a)
    time.sleep(PAUSE_S)
    before = statuses(k)
    if before[a]["status"] != "ready" or before[b]["status"] != "stopped":
        raise MeasurementError(f"before the swap: {a} {before[a]['status']}, {b} {before[b]['status']}")
    r["a_memory_before"] = before[a].get("memory")
    r["a_class_before"] = before[a].get("class")
    log_at = k.log_size()
    watch = GroupWatch(int(wa["pid"])).start()
    status, data, r["swap_ms"] = timed(k, "POST", f"/kitty/workers/{b}/ensure")
    r["swap_a_group_gone_ms"] = watch.finish()
    if status != 200 or not isinstance(data, dict):
        raise MeasurementError(f"swap: ensure {b} -> {status}: {data}")
    after = statuses(k)
    r["after"] = {m: after[m]["status"] for m in MODELS}
    r["swap_b_worker_load_ms"] = (after[b].get("load_seconds") or 0) * 1000 or None
    r["verified"] = after[a]["status"] == "stopped" and after[b]["status"] == "ready"
    mem = k.ok("GET", "/kitty/system/memory")
    r["restore_queue"] = mem.get("restore_queue")
    time.sleep(0.05)  # the log lines of the stop may follow the response by a hair
    r["log"] = k.log_lines_since(log_at)
    r["log_says_evicted"] = any("to make room" in ln and f"stopping {a}" in ln for ln in r["log"])
    r["swap_a_kittyd_ms"] = stop_in_log(r["log"], int(wa["pid"]))
    r["overhead_ms"] = r["swap_ms"] - (r["stop_a_ms"] + r["load_b_ms"])
    # The engines' own work varies from run to run (a 400 MiB engine's exit took 30-80 ms here), and
    # that variance lands in overhead_ms. Taking out each step's engine time as kittyd saw it
    # (stop: its log's "stopping pid" → "group gone"; load: W.load_seconds, spawn → healthy)
    # leaves, per call, what kittyd added; the swap's added time less the two separate calls'.
    parts = (r["swap_a_kittyd_ms"], r["swap_b_worker_load_ms"], r["stop_a_kittyd_ms"], r["load_b_worker_load_ms"])
    if all(x is not None for x in parts):
        r["swap_added_ms"] = r["swap_ms"] - r["swap_a_kittyd_ms"] - r["swap_b_worker_load_ms"]
        r["separate_added_ms"] = ((r["stop_a_ms"] - r["stop_a_kittyd_ms"])
                                  + (r["load_b_ms"] - r["load_b_worker_load_ms"]))
        r["overhead_matched_ms"] = r["swap_added_ms"] - r["separate_added_ms"]
    if r["swap_a_group_gone_ms"] is not None and r["swap_b_worker_load_ms"] is not None:
        # POST → B spawned is swap − B's spawn→healthy (less the response, well under a ms);
        # less A's end, what the scheduler took between A gone and B's spawn.
        r["gap_a_gone_to_b_spawn_ms"] = r["swap_ms"] - r["swap_b_worker_load_ms"] - r["swap_a_group_gone_ms"]
    return r


def run(ctx: Ctx) -> dict:
    o = ctx.opts
    budget, key = budget_for(o.swap_memory_mb)
    engine = ["--tokens", "1", "--load-ms", str(o.swap_load_ms), "--memory-mb", str(o.swap_memory_mb)]
    models = [(m, engine, f"    memory: {key}\n    stop_timeout_seconds: 10\n") for m in MODELS]
    k = Kittyd(ctx.k.binary, ctx.fake, ctx.k.tmp / "swap", ctx.k.nofile, o.server_opts, o.cold_load_ms,
               tag="swap", memory={"budget": budget}, models=models, log_level="info")
    log(f"swap: own kittyd on 127.0.0.1:{k.port} (pid {k.pid}), memory.budget {budget}, models "
        f"{', '.join(MODELS)} with memory: {key}, --memory-mb {o.swap_memory_mb} --load-ms {o.swap_load_ms}")
    res: dict = {"budget": budget, "model_memory_key": key, "engine_memory_mb": o.swap_memory_mb,
                 "load_ms": o.swap_load_ms, "rounds": o.swap_rounds, "pause_s": PAUSE_S}
    try:
        mem = k.ok("GET", "/kitty/system/memory")
        res["memory_at_start"] = mem
        gpus = mem.get("gpus") or []
        # Without a GPU the recovery wait is nil: host memory is back when the victim's group is.
        res["gpus"] = len(gpus)
        res["recovery_wait_ms"] = 0.0 if not gpus else None
        # Warm-up: one swap each way (the first runs also teach kittyd the learned footprints).
        for a, b in (MODELS, MODELS[::-1]):
            w = one_round(k, a, b)
            if not w["verified"]:
                raise MeasurementError(f"warm-up swap {a}→{b} did not evict: after it {w['after']}", w)
        rounds = []
        for i in range(o.swap_rounds):
            a, b = MODELS if i % 2 == 0 else MODELS[::-1]
            r = one_round(k, a, b)
            rounds.append(r)
            log(f"swap round {i + 1}: {a}→{b} {r['swap_ms']:.1f} ms; stop {a} {r['stop_a_ms']:.1f} + load {b} "
                f"{r['load_b_ms']:.1f} → overhead {r['overhead_ms']:+.1f} ms; after: {r['after']}")
        settle(k)
        res["samples"] = rounds
        res["expected_after"] = {m: statuses(k)[m].get("memory") for m in MODELS}
        bad = [i + 1 for i, r in enumerate(rounds) if not r["verified"]]
        res["verified"] = len(rounds) - len(bad)
        if bad:
            raise MeasurementError(f"swap rounds {bad} did not evict A for B (A stopped and B ready "
                                   f"expected): their figures are invalid", res)
        for f in ("swap_ms", "stop_a_ms", "load_b_ms", "overhead_ms", "stop_a_group_gone_ms",
                  "swap_a_group_gone_ms", "stop_a_kittyd_ms", "swap_a_kittyd_ms", "load_b_worker_load_ms", "swap_b_worker_load_ms",
                  "gap_a_gone_to_b_spawn_ms", "swap_added_ms", "separate_added_ms", "overhead_matched_ms"):
            v = [r.get(f) for r in rounds if r.get(f) is not None]
            res[f + "_median"] = median(v)
            res[f + "_p90"] = pct(v, 0.9)
        res["overhead_ms_all"] = [r["overhead_ms"] for r in rounds]
        res["log_confirms"] = sum(r["log_says_evicted"] for r in rounds)
        log(f"swap: median {res['swap_ms_median']:.1f} ms = stop {res['stop_a_ms_median']:.1f} + load "
            f"{res['load_b_ms_median']:.1f} + overhead {res['overhead_ms_median']:+.1f} ms (p90 "
            f"{res['overhead_ms_p90']:+.1f}); engine times matched {fmt(res['overhead_matched_ms_median'], ' ms')}; "
            f"A gone → B spawned {fmt(res['gap_a_gone_to_b_spawn_ms_median'], ' ms')}")
    finally:
        k.stop()
        res["kittyd_log_tail"] = k.tail(40).splitlines()
    return res


def rows(r: dict) -> list[Row]:
    n = r["rounds"]
    wait = r.get("recovery_wait_ms")
    wait_s = "recovery wait 0 here: no GPU" if wait == 0 else "GPU present: recovery wait not subtracted"
    target = f"≤ {TARGET_OVERHEAD_MS:g} ms (issue 9)"

    def met(x: float | None) -> bool | None:
        return None if x is None else x - (wait or 0) <= TARGET_OVERHEAD_MS

    over, matched = r["overhead_ms_median"], r.get("overhead_matched_ms_median")
    return [
        Row(f"A→B swap under a one-model budget ({r['budget']}; --memory-mb {r['engine_memory_mb']}, "
            f"--load-ms {r['load_ms']}): POST ensure B → 200, median of {n}", "—", fmt(r["swap_ms_median"], " ms")),
        Row("  A's release alone / B's cold ensure alone, median", "—",
            f"{fmt(r['stop_a_ms_median'], ' ms')} / {fmt(r['load_b_ms_median'], ' ms')}"),
        Row(f"swap overhead: swap − (stop A + load B) per round, median ({wait_s})", target, fmt(over, " ms"),
            met(over)),
        Row("  the same, p10 / p90 (spread: the engine's exit time varies from run to run)", "—",
            f"{fmt(pct(r['overhead_ms_all'], 0.1), ' ms')} / {fmt(r['overhead_ms_p90'], ' ms')}"),
        Row("swap overhead, engine times matched: the same less each step's engine time as kittyd saw it "
            "(stop: log, stopping → group gone; load: W.load_seconds), median", target, fmt(matched, " ms"),
            met(matched)),
        Row("  in the swap: A's group gone (1 ms poll) → B spawned (swap − B's load_seconds − A gone), median",
            "—", fmt(r.get("gap_a_gone_to_b_spawn_ms_median"), " ms")),
        Row("swaps that really evicted (A stopped, B ready after each; GET /kitty/system/workers)",
            f"{n} of {n} (issue 9)", f"{r['verified']} of {n}; kittyd's log says so for {r['log_confirms']}",
            r["verified"] == n),
    ]
