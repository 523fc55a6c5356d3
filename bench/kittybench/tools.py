"""The measuring tools: kitty_loadgen (bench/loadgen.cc) and wrk."""
from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import threading
import time
from pathlib import Path

from .util import log

BENCH = Path(__file__).resolve().parent.parent
REPO = BENCH.parent
LOADGEN_SOURCES = [BENCH / "loadgen.cc", BENCH / "loadgen_common.h", BENCH / "loadgen_hold.h"]


def loadgen_binary() -> Path:
    """$LOADGEN, or build-bench/kitty_loadgen compiled from bench/loadgen.cc when missing or older
    than any of its sources (the CMake target `kitty_loadgen` builds the same file)."""
    if os.environ.get("LOADGEN"):
        return Path(os.environ["LOADGEN"]).resolve()
    newest = max(s.stat().st_mtime for s in LOADGEN_SOURCES)
    for cand in (REPO / "build" / "kitty_loadgen", REPO / "build-bench" / "kitty_loadgen"):
        if cand.is_file() and cand.stat().st_mtime >= newest:
            return cand
    out = REPO / "build-bench" / "kitty_loadgen"
    out.parent.mkdir(parents=True, exist_ok=True)
    cxx = os.environ.get("CXX", "c++")
    cmd = [cxx, "-O2", "-std=c++20", "-include", "utility", "-DBOOST_ASIO_NO_DEPRECATED",
           "-DBOOST_BEAST_USE_STD_STRING_VIEW", str(LOADGEN_SOURCES[0]), "-o", str(out), "-lpthread"]
    log("compiling the load generator (once): " + " ".join(cmd))
    subprocess.run(cmd, check=True)
    return out


def wrk_binary() -> str | None:
    return os.environ.get("WRK") or shutil.which("wrk")


class Tools:
    def __init__(self, loadgen: Path, wrk: str | None):
        self.loadgen = loadgen
        self.wrk = wrk

    def run(self, args: list[str], timeout: float = 300) -> dict:
        """One request/stream run of the load generator; its JSON summary."""
        r = subprocess.run([str(self.loadgen)] + args, capture_output=True, text=True, timeout=timeout)
        if r.returncode != 0 and not r.stdout.strip():
            raise RuntimeError(f"loadgen {' '.join(args)} failed: {r.stderr.strip()}")
        return json.loads(r.stdout)

    def requests(self, url: str, body: str | None, concurrency: int, duration: float, warmup: float,
                 method: str = "POST", timeout_s: int = 30) -> dict:
        args = ["--url", url, "--concurrency", str(concurrency), "--duration", str(duration),
                "--warmup", str(warmup), "--method", method, "--timeout", str(timeout_s)]
        if body is not None:
            args += ["--body", body]
        return self.run(args, timeout=duration + warmup + 2 * timeout_s + 30)

    def requests_bg(self, url: str, concurrency: int, duration: float, method: str = "GET",
                    body: str | None = None) -> "Background":
        """A request run in the background (e.g. a status poller); .result() waits for its JSON."""
        args = ["--url", url, "--concurrency", str(concurrency), "--duration", str(duration),
                "--warmup", "0", "--method", method, "--timeout", "10"]
        if body is not None:
            args += ["--body", body]
        return Background([str(self.loadgen)] + args)

    def streams(self, url: str, body: str, concurrency: int, duration: float, warmup: float,
                reconnect: bool = False) -> dict:
        args = ["--mode", "stream", "--url", url, "--body", body, "--concurrency", str(concurrency),
                "--streams", "0", "--duration", str(duration), "--warmup", str(warmup),
                "--reconnect", "1" if reconnect else "0"]
        return self.run(args, timeout=duration + warmup + 120)

    def hold(self, url: str, body: str, kind: str, n: int, ready_timeout: float = 60,
             connect_batch: int = 256) -> "Hold":
        return Hold(self.loadgen, url, body, kind, n, ready_timeout, connect_batch)

    def wrk_run(self, url: str, body: str | None, connections: int, duration: float,
                threads: int = 2, method: str = "POST") -> dict:
        """wrk with bench/wrk/post.lua; returns its KB_RESULT JSON plus rps."""
        if not self.wrk:
            raise RuntimeError("wrk not found: run bench/setup.sh (or set $WRK)")
        env = dict(os.environ, KB_METHOD=method, KB_BODY=body or "")
        cmd = [self.wrk, f"-t{min(threads, connections)}", f"-c{connections}", f"-d{duration}s",
               "--timeout", "10s", "-s", str(BENCH / "wrk" / "post.lua"), url]
        r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=duration + 60)
        line = next((ln for ln in r.stdout.splitlines() if ln.startswith("KB_RESULT ")), None)
        if line is None:
            raise RuntimeError(f"wrk gave no result (exit {r.returncode}): {r.stdout[-500:]} {r.stderr[-500:]}")
        j = json.loads(line[len("KB_RESULT "):])
        j["rps"] = j["requests"] / (j["duration_us"] / 1e6) if j["duration_us"] else 0.0
        j["error_total"] = sum(j["errors"].values())
        j["connections"] = connections
        j["threads"] = min(threads, connections)
        return j


class Hold:
    """kitty_loadgen --mode hold in the background: many connections held open until finish().

    Lines it prints are read on a thread; ready() waits for the "ready" line, last_tick() is the
    newest progress line, finish() closes its stdin (it closes every connection) and returns the
    "done" line."""

    def __init__(self, loadgen: Path, url: str, body: str, kind: str, n: int, ready_timeout: float,
                 connect_batch: int):
        self.kind, self.n = kind, n
        self.proc = subprocess.Popen(
            [str(loadgen), "--mode", "hold", "--kind", kind, "--url", url, "--body", body,
             "--concurrency", str(n), "--ready-timeout", str(ready_timeout),
             "--connect-batch", str(connect_batch), "--tick", "0.5"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue = queue.Queue()
        self.tick: dict | None = None
        self.ready_line: dict | None = None
        self.done_line: dict | None = None
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.ready_timeout = ready_timeout

    def _read(self) -> None:
        for line in self.proc.stdout:
            try:
                j = json.loads(line)
            except ValueError:
                continue
            ev = j.get("event")
            if ev == "tick":
                self.tick = j
            elif ev == "ready":
                self.ready_line = j
                self.tick = j
                self.lines.put(j)
            elif ev == "done":
                self.done_line = j
                self.lines.put(j)
        self.lines.put(None)

    def ready(self) -> dict:
        try:
            j = self.lines.get(timeout=self.ready_timeout + 30)
        except queue.Empty:
            raise RuntimeError("hold: no 'ready' line from the load generator")
        if j is None:
            raise RuntimeError(f"hold: load generator exited: {self.proc.stderr.read()[-500:]}")
        return j

    def last_tick(self) -> dict | None:
        return self.tick

    def finish(self, timeout: float = 30) -> dict | None:
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        deadline = time.monotonic() + timeout
        while self.done_line is None and time.monotonic() < deadline and self._reader.is_alive():
            time.sleep(0.05)
        try:
            self.proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return self.done_line


class Background:
    def __init__(self, cmd: list[str]):
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def result(self, timeout: float = 120) -> dict:
        out, err = self.proc.communicate(timeout=timeout)
        if not out.strip():
            raise RuntimeError(f"background loadgen failed: {err.strip()[-500:]}")
        return json.loads(out)
