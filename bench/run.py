#!/usr/bin/env python3
"""kittyd benchmark (issue 8): proxy throughput, latency, cold start, memory, many and hostile
connections, a loop that never blocks, release; (issue 9) the A→B swap under a memory budget and the
scheduler's decision time.

One command (stdlib Python + bench/loadgen.cc + wrk):  bench/run.sh [--quick] [--only a,b]

Starts its own kittyd on a free loopback port with fake_engine models, measures, stops everything
and writes bench/results/<name>.json and <name>.md (default name: latest; also printed).

Binaries: $KITTYD and $FAKE_ENGINE (default build/kittyd, build/fake_engine); the load generator
$LOADGEN (default: build-bench/kitty_loadgen, compiled from bench/loadgen.cc when missing or
older than its sources); wrk from PATH or $WRK (bench/setup.sh installs it).

Scenarios (--only): latency, stream, rps, loop, cold, release, swap, sched, memory, idle, slow; the
modules in bench/kittybench/scenarios/ say what each measures. sched runs $SCHED_BENCH (default
build/sched_bench, the CMake target sched_bench).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from kittybench import report  # noqa: E402
from kittybench.context import Ctx  # noqa: E402
from kittybench.daemon import Kittyd  # noqa: E402
from kittybench.scenarios import ALL, BY_NAME  # noqa: E402
from kittybench.tools import REPO, Tools, loadgen_binary, wrk_binary  # noqa: E402
from kittybench.util import (MeasurementError, Row, binary_facts, fd_count, fd_limits, log,  # noqa: E402
                             machine_info, rss_kb)

RESULTS = REPO / "bench" / "results"

# (full, quick) defaults; an explicit flag wins over both.
DEFAULTS = {
    "duration": (3.0, 1.0), "warmup": (0.5, 0.3), "stream_warmup": (1.0, 0.7), "rounds": (3, 1),
    "cold_reps": (10, 3), "release_reps": (10, 3), "stubborn_reps": (3, 1),
    "mem_streams": (1000, 200), "idle_conns": (10000, 2000), "idle_hold": (5.0, 1.0),
    "stalled": (1000, 200), "stall_seconds": (12.0, 3.0), "slow_window": (2.0, 1.0),
    "loop_duration": (4.0, 1.5), "ready_timeout": (30.0, 15.0),
    "swap_rounds": (10, 3), "sched_reps": (5, 2), "sched_min_time": (0.5, 0.1),
}


def find_binary(env: str, name: str) -> Path:
    p = Path(os.environ[env]) if os.environ.get(env) else REPO / "build" / name
    if not p.is_file() or not os.access(p, os.X_OK):
        sys.exit(f"bench: {name} not found at {p} (set ${env})")
    return p.resolve()


def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="a smoke run (about a minute): short runs, fewer connections")
    ap.add_argument("--only", default=",".join(m.NAME for m in ALL), help="comma-separated scenarios")
    ap.add_argument("--out", default=str(RESULTS), help="results directory (default bench/results)")
    ap.add_argument("--name", default="latest", help="results file name without extension (default latest)")
    ap.add_argument("--label", default="", help="a line saying what was measured, for the report's title")
    ap.add_argument("--note", action="append", default=[], help="a line for the report's notes (repeatable)")
    ap.add_argument("--duration", type=float, help="measured seconds per latency/stream/rps run (3; quick 1)")
    ap.add_argument("--warmup", type=float, help="warm-up seconds before each of those (0.5; quick 0.3)")
    ap.add_argument("--rounds", type=int, help="direct/kittyd rounds per figure, alternating order (3; quick 1)")
    ap.add_argument("--stream-warmup", type=float, help="warm-up seconds before a streaming window: "
                    "256 streams need about a second to all be flowing (1; quick 0.7)")
    ap.add_argument("--stream-concurrency", default="1,64,256", help="concurrent streams (default 1,64,256)")
    ap.add_argument("--single-tokens", type=int, default=2000, help="tokens per stream at 1 stream (2000)")
    ap.add_argument("--many-tokens", type=int, default=200, help="tokens per stream above 1 stream (200)")
    ap.add_argument("--stream-reconnect", action="store_true", help="a new connection per stream (default keep-alive)")
    ap.add_argument("--rps-connections", type=int, default=32, help="wrk connections (32)")
    ap.add_argument("--wrk-threads", type=int, default=2, help="wrk threads (2)")
    ap.add_argument("--cold-reps", type=int)
    ap.add_argument("--cold-load-ms", type=int, default=200, help="the cold model's --load-ms (200)")
    ap.add_argument("--release-reps", type=int)
    ap.add_argument("--stubborn-reps", type=int)
    ap.add_argument("--swap-rounds", type=int, help="A→B swaps, alternating which model is A (10; quick 3)")
    ap.add_argument("--swap-load-ms", type=int, default=300, help="the swap models' --load-ms (300)")
    ap.add_argument("--swap-memory-mb", type=int, default=400,
                    help="the swap models' --memory-mb (400): their memory: key is 50 MiB more, the "
                         "budget 1.75 times it, so one fits and two never do")
    ap.add_argument("--sched-reps", type=int, help="sched_bench repetitions (5; quick 2)")
    ap.add_argument("--sched-min-time", type=float, help="sched_bench seconds per benchmark and repetition (0.5; quick 0.1)")
    ap.add_argument("--mem-streams", type=int, help="slow streams held open for RSS per stream (1000; quick 200)")
    ap.add_argument("--idle-conns", type=int, help="idle keep-alive connections (10000; quick 2000)")
    ap.add_argument("--idle-hold", type=float, help="seconds to hold them idle (5; quick 1)")
    ap.add_argument("--stalled", type=int, help="stalled half-requests (1000; quick 200)")
    ap.add_argument("--stall-seconds", type=float, help="how long they stay (12; quick 3): set it past "
                    "server.header_timeout_seconds to see both sides of the deadline")
    ap.add_argument("--slow-window", type=float, help="seconds per p50 window of the normal clients (2; quick 1)")
    ap.add_argument("--slow-normal-clients", type=int, default=4, help="normal clients during the stall (4)")
    ap.add_argument("--slow-p50-factor", type=float, default=1.25, help="p50 may grow this much under stall (1.25)")
    ap.add_argument("--poll-clients", type=int, default=2, help="clients polling /kitty/system/workers (2)")
    ap.add_argument("--loop-duration", type=float, help="seconds per phase of the loop scenario (4; quick 1.5)")
    ap.add_argument("--ready-timeout", type=float, help="seconds to wait for held connections to set up (30; quick 15)")
    ap.add_argument("--kittyd-nofile", default="1024",
                    help="soft fd limit kittyd starts with: a number or 'inherit' (default 1024)")
    ap.add_argument("--kittyd-log-level", default="warn",
                    help="kittyd's --log-level (default warn; info adds the request log's line per request)")
    ap.add_argument("--server-opt", action="append", default=[], metavar="KEY=VALUE",
                    help="extra server: config key (e.g. header_timeout_seconds=3, max_connections=4096); "
                         "repeatable. Off by default: today's kittyd refuses unknown keys")
    a = ap.parse_args(argv)
    for k, (full, quick) in DEFAULTS.items():
        if getattr(a, k) is None:
            setattr(a, k, quick if a.quick else full)
    a.stream_concurrency = [int(x) for x in a.stream_concurrency.split(",") if x]
    a.only = [x.strip() for x in a.only.split(",") if x.strip()]
    bad = [x for x in a.only if x not in BY_NAME]
    if bad:
        ap.error(f"unknown scenario(s) {bad}; known: {', '.join(BY_NAME)}")
    a.server_opts = {}
    for kv in a.server_opt:
        k, sep, v = kv.partition("=")
        if not sep:
            ap.error(f"--server-opt wants KEY=VALUE, got {kv}")
        a.server_opts[k.strip()] = v.strip()
    a.kittyd_nofile_value = None if a.kittyd_nofile == "inherit" else int(a.kittyd_nofile)
    return a


def main(argv: list[str]) -> int:
    a = parse_args(argv)
    started = time.monotonic()
    kittyd_bin = find_binary("KITTYD", "kittyd")
    fake = find_binary("FAKE_ENGINE", "fake_engine")
    tools = Tools(loadgen_binary(), wrk_binary())
    if "rps" in a.only and not tools.wrk:
        log("wrk not found: the rps scenario will fail (run bench/setup.sh, or leave it out with --only)")
    res: dict = {
        "label": a.label, "argv": argv,
        "settings": {"mode": "quick" if a.quick else "full", "kittyd_nofile": a.kittyd_nofile,
                     "kittyd_log_level": a.kittyd_log_level,
                     "server_opts": a.server_opts,
                     "options": {k: v for k, v in vars(a).items() if k not in ("only",)}},
        "machine": machine_info(),
        "binaries": {"kittyd": binary_facts(kittyd_bin), "fake_engine": binary_facts(fake),
                     "loadgen": str(tools.loadgen), "wrk": tools.wrk},
        "errors": [], "notes": list(a.note), "scenarios": {},
    }
    m = res["machine"]
    log(f"machine: {m['nproc']} cores, load {m['loadavg_at_start']}, busy: {m['top_cpu_at_start']}")
    tmp = Path(tempfile.mkdtemp(prefix="kitty-bench-"))
    rows: list[Row] = []
    k = None
    restarts = 0

    def start_kittyd() -> Kittyd:
        d = Kittyd(kittyd_bin, fake, tmp, a.kittyd_nofile_value, a.server_opts, a.cold_load_ms, tag=str(restarts),
                  log_level=a.kittyd_log_level)
        log(f"kittyd up on 127.0.0.1:{d.port} (pid {d.pid}, fd limit {fd_limits(d.pid)})")
        return d

    try:
        try:
            k = start_kittyd()
        except RuntimeError as e:  # e.g. a --server-opt this kittyd does not know
            shutil.rmtree(tmp, ignore_errors=True)
            sys.exit(f"bench: kittyd did not start: {e}")
        time.sleep(0.3)
        start = {"rss_kb": rss_kb(k.pid), "fds": fd_count(k.pid), "nofile": fd_limits(k.pid)}
        res["kittyd_at_start"] = start
        ctx = Ctx(tools=tools, k=k, fake=fake, opts=a, start=start)
        ran_any = False
        for mod in ALL:
            if mod.NAME not in a.only:
                continue
            if getattr(mod, "FRESH_DAEMON", False) and ran_any:
                # RSS and fd figures from a kittyd whose heap earlier scenarios grew would hide
                # what this one costs (freed memory gets reused): start a fresh one.
                k.stop()
                restarts += 1
                k = start_kittyd()
                ctx.k = k
            ran_any = True
            log(f"--- {mod.NAME}")
            t0 = time.monotonic()
            try:
                r = mod.run(ctx)
                r["elapsed_s"] = time.monotonic() - t0
                r["loadavg_after"] = list(os.getloadavg())
                res["scenarios"][mod.NAME] = r
                rows += mod.rows(r)
            except Exception as e:  # one broken measurement must not hide the others
                msg = f"{mod.NAME}: {type(e).__name__}: {e}"
                if isinstance(e, MeasurementError) and e.partial is not None:
                    res["scenarios"][mod.NAME + "_partial"] = e.partial
                log(msg)
                res["errors"].append(msg)
                rows.append(Row(f"{mod.NAME}: FAILED", "—", str(e)[:200], False))
            if not k.alive():
                # A crash must not take the remaining scenarios with it: note it, start a fresh kittyd.
                msg = (f"kittyd died during '{mod.NAME}' (exit status {k.proc.returncode}); log tail: "
                       + " | ".join(k.tail(8).splitlines()))
                log(msg)
                res["errors"].append(msg)
                k.stop()
                restarts += 1
                k = start_kittyd()
                ctx.k = k
    finally:
        if k is not None:
            res["kittyd_at_end"] = {"rss_kb": rss_kb(k.pid), "fds": fd_count(k.pid)}
            crashed_rc = k.proc.poll()
            rc = k.stop()
            res["kittyd_exit"] = rc if crashed_rc is None else f"died with {crashed_rc}"
            if crashed_rc is not None:
                res["errors"].append(f"kittyd died during the run (exit status {crashed_rc})")
            res["kittyd_log_tail"] = k.tail(40).splitlines()
        m["loadavg_at_end"] = list(os.getloadavg())
        shutil.rmtree(tmp, ignore_errors=True)
    res["elapsed_s"] = time.monotonic() - started
    res["rows"] = [r.__dict__ for r in rows]
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    res["json_name"] = f"{a.name}.json"
    (out / f"{a.name}.json").write_text(json.dumps(res, indent=2, default=str) + "\n")
    md = report.render(res, rows)
    (out / f"{a.name}.md").write_text(md)
    print(md)
    return 1 if res["errors"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
