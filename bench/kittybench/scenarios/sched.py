"""The scheduler's decision time (issue 9: ≤ 100 µs with 100 configured models): runs the C++
microbenchmark bench/sched_bench.cc (Google Benchmark; CMake builds it as `sched_bench` when the
library is found: `ninja -C build sched_bench`) and reports its real time per iteration, median and
worst over --sched-reps repetitions. The figure with a target is every benchmark at 100 models
(name ending in /100: BM_PlanStart/100, the worst case where nothing fits, so every candidate is
sorted and walked); the others are listed for scale. Binary: $SCHED_BENCH, default
build/sched_bench. Needs no kittyd.

What it covers: sched::PlanStart on a prepared holder list. The snapshot the manager builds before
asking (one Holder per worker from its state and the memory ledger) is not in this figure."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from ..context import Ctx
from ..tools import REPO
from ..util import MeasurementError, Row, binary_facts, fmt, log, median

NAME = "sched"
TARGET_US = 100.0
TARGET_SUFFIX = "/100"  # the benchmark argument = configured models
TO_US = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}


def sched_bench_binary() -> Path:
    p = Path(os.environ["SCHED_BENCH"]) if os.environ.get("SCHED_BENCH") else REPO / "build" / "sched_bench"
    if not p.is_file() or not os.access(p, os.X_OK):
        raise MeasurementError(f"sched_bench not found at {p} (set $SCHED_BENCH, or `ninja -C build sched_bench`; "
                               "CMake builds it only when Google Benchmark is installed: libbenchmark-dev)")
    return p.resolve()


def build_type(binary: Path) -> str | None:
    """CMAKE_BUILD_TYPE of the build directory the binary sits in, when it is one."""
    try:
        for line in (binary.parent / "CMakeCache.txt").read_text().splitlines():
            if line.startswith("CMAKE_BUILD_TYPE:"):
                return line.split("=", 1)[1] or None
    except OSError:
        pass
    return None


def run(ctx: Ctx) -> dict:
    binary = sched_bench_binary()
    reps, min_time = ctx.opts.sched_reps, ctx.opts.sched_min_time
    argv = [str(binary), "--benchmark_format=json", f"--benchmark_repetitions={reps}",
            f"--benchmark_min_time={min_time:g}"]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        raise MeasurementError(f"{binary.name} exited with {p.returncode}: {p.stderr.strip()[-500:]}")
    try:
        out = json.loads(p.stdout)
    except ValueError as e:
        raise MeasurementError(f"{binary.name}: no JSON on stdout ({e}): {p.stdout[:200]!r}")
    runs: dict[str, list[float]] = {}
    for b in out.get("benchmarks", []):
        if b.get("run_type", "iteration") != "iteration" or b.get("error_occurred"):
            continue
        runs.setdefault(b["run_name"], []).append(b["real_time"] * TO_US[b.get("time_unit", "ns")])
    if not runs:
        raise MeasurementError(f"{binary.name} reported no benchmark runs")
    bench = {name: {"real_us": v, "median_us": median(v), "max_us": max(v)} for name, v in runs.items()}
    targeted = [n for n in bench if n.endswith(TARGET_SUFFIX)]
    if not targeted:
        raise MeasurementError(f"{binary.name}: no benchmark at 100 models (name ending in {TARGET_SUFFIX}); "
                               f"ran {list(bench)}", {"benchmarks": bench})
    res = {"binary": binary_facts(binary), "build_type": build_type(binary), "argv": argv[1:],
           "reps": reps, "min_time_s": min_time, "context": out.get("context"), "benchmarks": bench,
           "targeted": targeted}
    for n, b in bench.items():
        log(f"sched: {n}: median {b['median_us']:.3f} µs, worst {b['max_us']:.3f} µs over {len(b['real_us'])}")
    return res


def rows(r: dict) -> list[Row]:
    out = []
    bt = f", {r['build_type']} build" if r.get("build_type") else ""
    for n in r["targeted"]:
        b = r["benchmarks"][n]
        out.append(Row(f"scheduler decision, 100 models (sched_bench {n}{bt}): median of {r['reps']} / worst",
                       f"≤ {TARGET_US:g} µs (issue 9)", f"{fmt(b['median_us'], ' µs', 2)} / {fmt(b['max_us'], ' µs', 2)}",
                       b["median_us"] <= TARGET_US))
    for n, b in r["benchmarks"].items():
        if n not in r["targeted"]:
            out.append(Row(f"  for scale: sched_bench {n}, median", "—", fmt(b["median_us"], " µs", 3)))
    return out
