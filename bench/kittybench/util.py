"""Small helpers shared by every scenario: logging, statistics, /proc readers, machine facts."""
from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class MeasurementError(Exception):
    """A step that ran but could not produce valid numbers; `partial` keeps what it measured."""

    def __init__(self, msg: str, partial=None):
        super().__init__(msg)
        self.partial = partial


def pct(v: list[float], q: float) -> float | None:
    s = sorted(v)
    if not s:
        return None
    pos = q * (len(s) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def median(v: list[float]) -> float | None:
    v = [x for x in v if x is not None]
    return statistics.median(v) if v else None


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or not b:
        return None
    return a / b


@dataclass
class Row:
    """One line of the results table. `met` is None where there is no target."""
    metric: str
    target: str
    measured: str
    met: bool | None = None


def fmt(x, unit: str = "", nd: int = 1) -> str:
    if x is None:
        return "n/a"
    return f"{x:,.{nd}f}{unit}"


def fmt_pct(r: float | None) -> str:
    return "n/a" if r is None else f"{r * 100:.0f} %"


def fmt_bytes_s(x: float | None) -> str:
    return "n/a" if x is None else f"{x / 1e6:,.1f} MB/s"


# --- /proc ----------------------------------------------------------------------------------------

def rss_kb(pid: int) -> int | None:
    """VmRSS of one process in KiB (None if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def cpu_s(pid: int) -> float | None:
    """User + system CPU seconds a process has used so far."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) "
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime (fields 14, 15)


def fd_count(pid: int) -> int | None:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


def fd_limits(pid: int) -> tuple[int, int] | None:
    """(soft, hard) RLIMIT_NOFILE of a running process."""
    try:
        for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
            if line.startswith("Max open files"):
                parts = line.split()
                return int(parts[3]), int(parts[4])
    except (OSError, ValueError, IndexError):
        return None
    return None


def system_busy() -> tuple[int, int]:
    """(busy, total) jiffies over all cores, from /proc/stat."""
    f = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = f[3] + (f[4] if len(f) > 4 else 0)
    return sum(f) - idle, sum(f)


class CpuMeter:
    """CPU seconds used by some pids, by our waited-for children (the load generator, wrk) and the
    machine's busy share, between start() and stop()."""

    def __init__(self, pids: dict[str, int]):
        self.pids = {k: v for k, v in pids.items() if v}

    def start(self) -> "CpuMeter":
        self.t0 = time.monotonic()
        self.c0 = {k: cpu_s(p) for k, p in self.pids.items()}
        r = os.times()
        self.ch0 = r.children_user + r.children_system
        self.b0 = system_busy()
        return self

    def stop(self) -> dict:
        wall = time.monotonic() - self.t0
        out = {"wall_s": wall}
        for k, p in self.pids.items():
            c1 = cpu_s(p)
            out[k + "_cpu_s"] = None if c1 is None or self.c0[k] is None else c1 - self.c0[k]
        r = os.times()
        out["clients_cpu_s"] = r.children_user + r.children_system - self.ch0
        b1 = system_busy()
        dt = b1[1] - self.b0[1]
        out["machine_busy"] = (b1[0] - self.b0[0]) / dt if dt > 0 else None
        return out


def top_cpu_consumers(seconds: float = 1.0, n: int = 4) -> list[dict]:
    """The processes using the most CPU over `seconds` (what we compete with)."""
    def sample() -> dict[int, tuple[str, float]]:
        out = {}
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                stat = Path(f"/proc/{d}/stat").read_text()
            except OSError:
                continue
            comm = stat[stat.index("(") + 1:stat.rindex(")")]
            c = cpu_s(int(d))
            if c is not None:
                out[int(d)] = (comm, c)
        return out

    a = sample()
    time.sleep(seconds)
    b = sample()
    use = []
    for pid, (comm, c1) in b.items():
        if pid in a and pid != os.getpid():
            d = (c1 - a[pid][1]) / seconds
            if d > 0.02:
                use.append({"pid": pid, "comm": comm, "cpu": round(d, 2)})
    use.sort(key=lambda x: -x["cpu"])
    return use[:n]


def binary_facts(path: Path) -> dict:
    """Where a binary came from: its git commit when it sits in a build dir of a work tree."""
    facts = {"path": str(path)}
    try:
        facts["mtime_utc"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(path.stat().st_mtime))
    except OSError:
        pass
    for d in (path.parent, path.parent.parent):
        try:
            r = subprocess.run(["git", "-C", str(d), "log", "-1", "--format=%h %cI %s"],
                               capture_output=True, text=True, timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            break
        if r.returncode == 0 and r.stdout.strip():
            facts["commit"] = r.stdout.strip()
            dirty = subprocess.run(["git", "-C", str(d), "status", "--porcelain", "--untracked-files=no"],
                                   capture_output=True, text=True, timeout=5)
            facts["dirty"] = bool(dirty.stdout.strip())
            break
    if os.environ.get("KITTYD_COMMIT") and path.name == "kittyd":
        facts["commit"] = os.environ["KITTYD_COMMIT"]
    return facts


def machine_info() -> dict:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load = list(os.getloadavg())
    except OSError:
        load = None
    n = os.cpu_count() or 0
    try:
        mem_kb = int(Path("/proc/meminfo").read_text().split("\n", 1)[0].split()[1])
    except (OSError, ValueError, IndexError):
        mem_kb = None
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return {
        "nproc": n,
        "cpu_model": cpu,
        "mem_gib": round(mem_kb / 1024 / 1024, 1) if mem_kb else None,
        "loadavg_at_start": load,
        "loaded": bool(load and load[0] > 0.5 * n),
        "top_cpu_at_start": top_cpu_consumers(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "runner_nofile": [soft, hard],
        "time_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
