#!/usr/bin/env python3
"""kittyd benchmark: proxy overhead, streaming throughput, cold start and release (issue 3 item 6).

One command (stdlib only):  python3 bench/run.py   (or bench/run.sh)

Starts its own kittyd on a free loopback port with fake_engine models, measures, stops everything
and writes bench/results/latest.json and bench/results/latest.md (also printed).

Binaries: $KITTYD and $FAKE_ENGINE (default build/kittyd, build/fake_engine); the load generator
$LOADGEN (default: build-bench/kitty_loadgen, compiled from bench/loadgen.cc with $CXX if missing or
older than its source).
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"

TARGETS = {
    "added_p50_us_1_client": 100.0,
    "stream_ratio": 0.90,
    "cold_start_overhead_ms": 20.0,
    "coop_release_ms": 100.0,
}

SMALL_BODY = '{"model":"%s","prompt":"hi","max_tokens":1}'


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --- binaries -----------------------------------------------------------------------------------

def find_binary(env: str, name: str) -> Path:
    if os.environ.get(env):
        p = Path(os.environ[env])
    else:
        p = REPO / "build" / name
    if not p.is_file() or not os.access(p, os.X_OK):
        sys.exit(f"bench: {name} not found at {p} (set ${env})")
    return p.resolve()


def loadgen_binary() -> Path:
    if os.environ.get("LOADGEN"):
        return Path(os.environ["LOADGEN"]).resolve()
    src = REPO / "bench" / "loadgen.cc"
    for cand in (REPO / "build" / "kitty_loadgen", REPO / "build-bench" / "kitty_loadgen"):
        if cand.is_file() and cand.stat().st_mtime >= src.stat().st_mtime:
            return cand
    out = REPO / "build-bench" / "kitty_loadgen"
    out.parent.mkdir(parents=True, exist_ok=True)
    cxx = os.environ.get("CXX", "c++")
    cmd = [cxx, "-O2", "-std=c++20", "-include", "utility", "-DBOOST_ASIO_NO_DEPRECATED",
           "-DBOOST_BEAST_USE_STD_STRING_VIEW", str(src), "-o", str(out), "-lpthread"]
    log("compiling the load generator (once): " + " ".join(cmd))
    subprocess.run(cmd, check=True)
    return out


# --- machine ------------------------------------------------------------------------------------

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
    return {
        "nproc": n,
        "cpu_model": cpu,
        "loadavg_at_start": load,
        "loaded": bool(load and load[0] > 0.5 * n),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "time_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


# --- kittyd -------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ephemeral_range() -> tuple[int, int]:
    try:
        lo, hi = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(lo), int(hi)
    except (OSError, ValueError):
        return 49152, 65535  # IANA's range, macOS's default


def free_port_range(width: int = 64) -> tuple[int, int]:
    """A run of free ports for the workers, outside the kernel's ephemeral range: the benchmark opens
    thousands of client connections, and a worker told to listen on a port that one of them holds as
    its local port fails with EADDRINUSE (seen with kittyd's default 41000-41999, inside Linux's
    32768-60999)."""
    import random
    rng = random.Random()
    elo, ehi = ephemeral_range()
    candidates = [b for b in range(10000, 65536 - width, width) if b + width <= elo or b > ehi]
    for _ in range(200):
        base = rng.choice(candidates)
        ok = True
        for p in range(base, base + width, 8):  # sample; kittyd probes each port itself anyway
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", p))
                except OSError:
                    ok = False
                    break
        if ok:
            return base, base + width - 1
    return candidates[0], candidates[0] + width - 1


def write_config(path: Path, fake: Path, listen_port: int, tmp: Path) -> None:
    lo, hi = free_port_range()
    f = json.dumps(str(fake))

    def model(name: str, args: list[str], extra: str = "") -> str:
        argv = ", ".join([f, "--port", '"${PORT}"', "--model-id", name] + args)
        return (f"  {name}:\n    backend: command\n    command: [{argv}]\n"
                f"    port: auto\n    shutdown_path: /shutdown\n    idle_shutdown_seconds: 0\n{extra}")

    text = (
        "server:\n"
        f"  listen: 127.0.0.1:{listen_port}\n"
        f"  auto_ports: {lo}-{hi}\n"
        f"  state_dir: {tmp / 'state'}\n"
        f"  logs_dir: {tmp / 'logs'}\n"
        "models:\n"
        + model("fast", ["--tokens", "1"])
        + model("stream", ["--tokens", "2000", "--token-ms", "0"])
        + model("cold", ["--tokens", "1", "--load-ms", "200"])
        + model("coop", ["--tokens", "1"], "    stop_timeout_seconds: 10\n")
        + model("stubborn", ["--tokens", "1", "--ignore-sigterm", "--hang-on-shutdown"],
                "    stop_timeout_seconds: 2\n")
    )
    path.write_text(text)


class Kittyd:
    def __init__(self, binary: Path, config: Path, port: int, log_path: Path):
        self.port = port
        self.log_path = log_path
        self.log = open(log_path, "wb")
        env = dict(os.environ)
        env["KITTY_STATE_DIR"] = str(config.parent / "state")
        self.proc = subprocess.Popen([str(binary), "--config", str(config), "--log-level", "warn"],
                                     stdout=self.log, stderr=subprocess.STDOUT, env=env,
                                     start_new_session=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"kittyd exited with {self.proc.returncode}:\n{self.tail()}")
            try:
                status, _ = self.call("GET", "/health", timeout=1)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.02)
        raise RuntimeError("kittyd did not answer /health within 20 s:\n" + self.tail())

    def tail(self, n: int = 30) -> str:
        if not self.log.closed:
            self.log.flush()
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError as e:
            return f"(no log: {e})"

    def call(self, method: str, path: str, body: str | None = None, timeout: float = 30):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            headers = {"Content-Type": "application/json"} if body is not None else {}
            c.request(method, path, body=body, headers=headers)
            r = c.getresponse()
            data = r.read()
            try:
                parsed = json.loads(data) if data else None
            except ValueError:
                parsed = data.decode(errors="replace")
            return r.status, parsed
        finally:
            c.close()

    def ok(self, method: str, path: str, body: str | None = None, timeout: float = 30):
        status, data = self.call(method, path, body, timeout)
        if status != 200:
            raise RuntimeError(f"{method} {path} -> {status}: {data}")
        return data

    def stop(self) -> int | None:
        """SIGTERM and wait; returns kittyd's exit code, or None if it was already gone (a crash)."""
        if self.proc.poll() is not None:
            self.log.close()
            return None
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            log("kittyd did not stop within 15 s of SIGTERM; killing its group")
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.log.close()
        return self.proc.returncode


# --- measurements -------------------------------------------------------------------------------

def loadgen(lg: Path, args: list[str]) -> dict:
    r = subprocess.run([str(lg)] + args, capture_output=True, text=True, timeout=120)
    if r.returncode != 0 and not r.stdout.strip():
        raise RuntimeError(f"loadgen {' '.join(args)} failed: {r.stderr.strip()}")
    return json.loads(r.stdout)


def worker_port(k: Kittyd, model: str) -> int:
    w = k.ok("POST", f"/kitty/workers/{model}/ensure")
    return int(w["port"])


class MeasurementError(Exception):
    """A step that ran but could not produce valid numbers; `partial` keeps what it measured."""

    def __init__(self, msg: str, partial):
        super().__init__(msg)
        self.partial = partial


def bench_latency(k: Kittyd, lg: Path, conc: list[int], duration: float, warmup: float) -> list[dict]:
    port = worker_port(k, "fast")
    body = SMALL_BODY % "fast"
    rows = []
    for c in conc:
        row = {"concurrency": c}
        # Direct first, then through kittyd, back to back, so both see the same machine load.
        for name, p in (("direct", port), ("kittyd", k.port)):
            r = loadgen(lg, ["--url", f"http://127.0.0.1:{p}/v1/completions", "--body", body,
                             "--concurrency", str(c), "--duration", str(duration),
                             "--warmup", str(warmup)])
            row[name] = r
            lat = r["latency_us"]
            log(f"latency c={c:<3} {name:<6} p50 {lat.get('p50', 0):8.1f} us  p99 {lat.get('p99', 0):9.1f} us"
                f"  {r['rps']:8.0f} req/s  errors {r['errors']}")
        d, v = row["direct"]["latency_us"], row["kittyd"]["latency_us"]
        valid = (row["direct"]["errors"] == 0 and row["kittyd"]["errors"] == 0
                 and d.get("n", 0) > 0 and v.get("n", 0) > 0)
        row["added_p50_us"] = v["p50"] - d["p50"] if valid else None
        row["added_p99_us"] = v["p99"] - d["p99"] if valid else None
        if not valid:
            raise MeasurementError(
                f"latency at {c} clients: direct {row['direct']['statuses']}, kittyd "
                f"{row['kittyd']['statuses']} (status 0 = transport error)", rows + [row])
        rows.append(row)
    return rows


def bench_stream(k: Kittyd, lg: Path, single_streams: int, many: int, many_tokens: int,
                 keepalive: bool) -> dict:
    port = worker_port(k, "stream")
    out: dict = {"connection": "keep-alive" if keepalive else "new connection per stream"}
    conn = ["--reconnect", "0" if keepalive else "1"]
    one = '{"model":"stream","prompt":"hi","stream":true}'
    for name, p in (("direct", port), ("kittyd", k.port)):
        r = loadgen(lg, ["--mode", "stream", "--url", f"http://127.0.0.1:{p}/v1/completions",
                         "--body", one, "--concurrency", "1", "--streams", str(single_streams),
                         "--warmup-streams", "2"] + conn)
        out.setdefault("single", {})[name] = r
        log(f"stream x1   {name:<6} {r['per_stream_events_per_s'].get('p50', 0):10.0f} events/s per stream"
            f" (median of {r['streams']}), errors {r['errors']}")
    s = out["single"]
    s["ratio"] = (s["kittyd"]["per_stream_events_per_s"].get("p50", 0)
                  / max(1e-9, s["direct"]["per_stream_events_per_s"].get("p50", 0)))
    body = '{"model":"stream","prompt":"hi","stream":true,"max_tokens":%d}' % many_tokens
    for name, p in (("direct", port), ("kittyd", k.port)):
        r = loadgen(lg, ["--mode", "stream", "--url", f"http://127.0.0.1:{p}/v1/completions",
                         "--body", body, "--concurrency", str(many), "--streams", "1",
                         "--warmup-streams", "1"] + conn)
        out.setdefault("many", {})[name] = r
        log(f"stream x{many} {name:<6} {r['events_per_s']:10.0f} events/s aggregate, "
            f"{r['streams']} streams, errors {r['errors']}")
    for part in ("single", "many"):
        for side in ("direct", "kittyd"):
            if out[part][side]["errors"]:
                raise MeasurementError(f"stream {part} {side}: statuses {out[part][side]['statuses']}", out)
    m = out["many"]
    m["ratio"] = m["kittyd"]["events_per_s"] / max(1e-9, m["direct"]["events_per_s"])
    m["concurrency"] = many
    m["tokens_per_stream"] = many_tokens
    return out


def first_byte_ms(port: int, body: str) -> tuple[float, int]:
    """Time from sending the request to the status line arriving, and the status."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        c.connect()
        c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        t0 = time.perf_counter()
        c.request("POST", "/v1/completions", body=body, headers={"Content-Type": "application/json"})
        r = c.getresponse()
        t1 = time.perf_counter()
        r.read()
        return (t1 - t0) * 1000, r.status
    finally:
        c.close()


def direct_cold_start_ms(fake: Path, load_ms: int) -> float:
    """The fake engine alone: spawn → first 200 from /health, polled every 1 ms."""
    port = free_port()
    t0 = time.perf_counter()
    p = subprocess.Popen([str(fake), "--port", str(port), "--load-ms", str(load_ms), "--tokens", "1"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                c.request("GET", "/health")
                if c.getresponse().status == 200:
                    return (time.perf_counter() - t0) * 1000
            except OSError:
                pass
            finally:
                c.close()
            if time.perf_counter() - t0 > 10:
                raise RuntimeError("fake_engine did not become healthy in 10 s")
            time.sleep(0.001)
    finally:
        p.terminate()
        p.wait()


def bench_cold(k: Kittyd, fake: Path, reps: int, load_ms: int = 200) -> dict:
    # A streamed request: its first byte is the response header, sent once the worker answers.
    body = '{"model":"cold","prompt":"hi","max_tokens":1,"stream":true}'
    samples, load_s, statuses = [], [], []
    for _ in range(reps):
        w = k.ok("GET", "/kitty/workers/cold")
        if w["status"] != "stopped":
            k.ok("POST", "/kitty/workers/cold/release")
        ms, status = first_byte_ms(k.port, body)
        statuses.append(status)
        samples.append(ms)
        w = k.ok("GET", "/kitty/workers/cold")
        if w.get("load_seconds") is not None:
            load_s.append(w["load_seconds"] * 1000)
        k.ok("POST", "/kitty/workers/cold/release")
    direct = [direct_cold_start_ms(fake, load_ms) for _ in range(max(3, reps // 2))]
    over = [s - load_ms for s in samples]
    res = {
        "load_ms": load_ms,
        "reps": reps,
        "statuses": statuses,
        "ttfb_ms": samples,
        "overhead_ms": over,
        "overhead_ms_median": statistics.median(over),
        "overhead_ms_p90": pct(over, 0.9),
        "worker_load_ms": load_s,  # kittyd's own spawn → healthy
        "worker_load_ms_median": statistics.median(load_s) if load_s else None,
        "direct_spawn_to_healthy_ms": direct,
        "direct_spawn_to_healthy_ms_median": statistics.median(direct),
    }
    log(f"cold start: ttfb median {statistics.median(samples):.1f} ms, overhead median "
        f"{res['overhead_ms_median']:.1f} ms p90 {res['overhead_ms_p90']:.1f} ms; kittyd spawn→healthy "
        f"{res['worker_load_ms_median']} ms; fake alone spawn→healthy {res['direct_spawn_to_healthy_ms_median']:.1f} ms")
    return res


def pct(v: list[float], q: float) -> float:
    s = sorted(v)
    if not s:
        return 0.0
    pos = q * (len(s) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def release_once(k: Kittyd, model: str) -> dict:
    w = k.ok("POST", f"/kitty/workers/{model}/ensure")
    pid = int(w["pid"])
    try:
        pgid = os.getpgid(pid)
    except ProcessLookupError:
        pgid = pid
    gone_at: list[float] = []
    stop = threading.Event()

    def poll(t0: float) -> None:
        while not stop.is_set():
            if not group_alive(pgid):
                gone_at.append(time.perf_counter() - t0)
                return
            time.sleep(0.001)

    t0 = time.perf_counter()
    th = threading.Thread(target=poll, args=(t0,), daemon=True)
    th.start()
    status, data = k.call("POST", f"/kitty/workers/{model}/release", timeout=60)
    call_ms = (time.perf_counter() - t0) * 1000
    th.join(timeout=5)
    stop.set()
    alive_after = group_alive(pgid)
    return {"call_ms": call_ms, "group_gone_ms": gone_at[0] * 1000 if gone_at else None,
            "status": status, "worker_status": (data or {}).get("status") if isinstance(data, dict) else None,
            "group_alive_after_call": alive_after, "pgid_equals_pid": pgid == pid}


def bench_release(k: Kittyd, coop_reps: int, stubborn_reps: int) -> dict:
    out = {}
    for model, reps in (("coop", coop_reps), ("stubborn", stubborn_reps)):
        samples = [release_once(k, model) for _ in range(reps)]
        calls = [s["call_ms"] for s in samples]
        gones = [s["group_gone_ms"] for s in samples if s["group_gone_ms"] is not None]
        out[model] = {
            "reps": reps,
            "samples": samples,
            "call_ms_median": statistics.median(calls),
            "call_ms_max": max(calls),
            "group_gone_ms_median": statistics.median(gones) if gones else None,
            "group_gone_ms_max": max(gones) if gones else None,
        }
        log(f"release {model:<8}: call median {out[model]['call_ms_median']:.1f} ms, group gone median "
            f"{out[model]['group_gone_ms_median']} ms")
    out["stubborn"]["stop_timeout_s"] = 2
    return out


# --- report -------------------------------------------------------------------------------------

def fmt(x, unit: str = "", nd: int = 1) -> str:
    if x is None:
        return "n/a"
    return f"{x:,.{nd}f}{unit}"


def table(res: dict) -> str:
    m = res["machine"]
    lines = [
        "# kittyd benchmark",
        "",
        f"Machine: {m['nproc']} cores, {m['cpu_model']}; load average at start "
        f"{', '.join(f'{x:.2f}' for x in (m['loadavg_at_start'] or []))}"
        + (" — **measured under load** (shared with builds)" if m["loaded"] else "")
        + f". {m['time_utc']}.",
        "",
        "| metric | target | measured | met? |",
        "| --- | --- | --- | --- |",
    ]

    def row(metric: str, target: str, measured: str, met) -> None:
        lines.append(f"| {metric} | {target} | {measured} | {'n/a' if met is None else ('yes' if met else 'NO')} |")

    lat = res.get("latency") or res.get("latency_partial")
    if lat:
        for r in lat:
            c = r["concurrency"]
            d, v = r["direct"], r["kittyd"]
            if r.get("added_p50_us") is None:
                row(f"added latency, {c} client{'s' if c > 1 else ''}", "—",
                    f"FAILED: direct statuses {d['statuses']}, kittyd statuses {v['statuses']}", False)
                continue
            tgt = f"≤ {TARGETS['added_p50_us_1_client']:.0f} µs" if c == 1 else "—"
            met = (r["added_p50_us"] <= TARGETS["added_p50_us_1_client"]) if c == 1 else None
            row(f"added latency p50, {c} client{'s' if c > 1 else ''} (direct {fmt(d['latency_us'].get('p50'))} → "
                f"kittyd {fmt(v['latency_us'].get('p50'))} µs)", tgt, fmt(r["added_p50_us"], " µs"), met)
            row(f"added latency p99, {c} client{'s' if c > 1 else ''} (direct {fmt(d['latency_us'].get('p99'))} → "
                f"kittyd {fmt(v['latency_us'].get('p99'))} µs)", "—", fmt(r["added_p99_us"], " µs"), None)
            row(f"throughput, {c} client{'s' if c > 1 else ''} (direct → kittyd)", "—",
                f"{fmt(d['rps'], '', 0)} → {fmt(v['rps'], '', 0)} req/s", None)
    st = res.get("stream")
    if st:
        s = st["single"]
        row(f"1 stream, 2000 tokens: events/s direct → kittyd", "≥ 90 % of direct",
            f"{fmt(s['direct']['per_stream_events_per_s'].get('p50'), '', 0)} → "
            f"{fmt(s['kittyd']['per_stream_events_per_s'].get('p50'), '', 0)} ({s['ratio'] * 100:.0f} %)",
            s["ratio"] >= TARGETS["stream_ratio"])
        mm = st["many"]
        row(f"{mm['concurrency']} streams × {mm['tokens_per_stream']} tokens: aggregate events/s direct → kittyd",
            "≥ 90 % of direct",
            f"{fmt(mm['direct']['events_per_s'], '', 0)} → {fmt(mm['kittyd']['events_per_s'], '', 0)} "
            f"({mm['ratio'] * 100:.0f} %)", mm["ratio"] >= TARGETS["stream_ratio"])
    cold = res.get("cold")
    if cold:
        row(f"cold start overhead, median (TTFB − load-ms {cold['load_ms']})",
            f"≤ {TARGETS['cold_start_overhead_ms']:.0f} ms", fmt(cold["overhead_ms_median"], " ms"),
            cold["overhead_ms_median"] <= TARGETS["cold_start_overhead_ms"])
        row("cold start overhead, p90", "—", fmt(cold["overhead_ms_p90"], " ms"), None)
        row("  of which spawn → healthy in kittyd (median) / fake_engine alone", "—",
            f"{fmt(cold['worker_load_ms_median'], ' ms')} / {fmt(cold['direct_spawn_to_healthy_ms_median'], ' ms')}",
            None)
    rel = res.get("release")
    if rel:
        c = rel["coop"]
        row("cooperative release: call duration, median", f"≤ {TARGETS['coop_release_ms']:.0f} ms",
            fmt(c["call_ms_median"], " ms"), c["call_ms_median"] <= TARGETS["coop_release_ms"])
        row("cooperative release: group gone (1 ms poll), median", f"≤ {TARGETS['coop_release_ms']:.0f} ms",
            fmt(c["group_gone_ms_median"], " ms"),
            None if c["group_gone_ms_median"] is None else c["group_gone_ms_median"] <= TARGETS["coop_release_ms"])
        s = rel["stubborn"]
        row(f"stubborn release (ignores SIGTERM, stop_timeout {s['stop_timeout_s']} s): call / group gone, median",
            f"≈ {s['stop_timeout_s'] * 1000} ms", f"{fmt(s['call_ms_median'], ' ms')} / {fmt(s['group_gone_ms_median'], ' ms')}",
            None)
    notes = [
        "Latency: `kitty_loadgen`, one thread and one keep-alive connection per client, non-streamed "
        "`POST /v1/completions` (max_tokens 1) against the worker's own port (direct) and kittyd, back to back.",
        "Streams: events are SSE blocks counted by the client; "
        + (st["connection"] if st else "new connection per stream") + ".",
        "Cold start: a streamed request to a stopped model (`--load-ms 200`); first byte = response header.",
        "Release: the release call's duration, and the runner polling `killpg(pgid, 0)` every 1 ms.",
    ]
    if m["loaded"]:
        notes.append("The load average was above half the core count: wake-up latency of kittyd's single "
                     "event-loop thread (vs the load generator's N threads) dominates these numbers.")
    lines += ["", "Notes:"] + [f"- {n}" for n in notes]
    if res.get("errors"):
        lines += ["", "Errors:"] + [f"- {e}" for e in res["errors"]]
    lines += ["", f"Raw numbers: bench/results/latest.json. Run: `bench/run.sh` ({res['elapsed_s']:.0f} s)."]
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=float, default=3.0, help="seconds per latency run (default 3)")
    ap.add_argument("--warmup", type=float, default=0.5, help="warm-up seconds per latency run")
    ap.add_argument("--concurrency", default="1,16,64", help="latency concurrencies (default 1,16,64)")
    ap.add_argument("--streams", type=int, default=256, help="concurrent streams (default 256)")
    ap.add_argument("--cold-reps", type=int, default=10)
    ap.add_argument("--release-reps", type=int, default=10)
    ap.add_argument("--stubborn-reps", type=int, default=3)
    ap.add_argument("--stream-keepalive", action="store_true",
                    help="reuse connections between streams (default: a new connection per stream)")
    ap.add_argument("--only", default="latency,stream,cold,release", help="comma-separated subset")
    ap.add_argument("--out", default=str(RESULTS), help="results directory")
    a = ap.parse_args()

    started = time.monotonic()
    kittyd_bin = find_binary("KITTYD", "kittyd")
    fake = find_binary("FAKE_ENGINE", "fake_engine")
    lg = loadgen_binary()
    res: dict = {"machine": machine_info(), "binaries": {"kittyd": str(kittyd_bin), "fake_engine": str(fake),
                                                         "loadgen": str(lg)},
                 "targets": TARGETS, "errors": []}
    log(f"machine: {res['machine']['nproc']} cores, load {res['machine']['loadavg_at_start']}")
    only = set(a.only.split(","))
    tmp = Path(tempfile.mkdtemp(prefix="kitty-bench-"))
    k = None
    try:
        port = free_port()
        cfg = tmp / "kitty.yaml"
        write_config(cfg, fake, port, tmp)
        k = Kittyd(kittyd_bin, cfg, port, tmp / "kittyd.log")
        log(f"kittyd up on 127.0.0.1:{port}")
        restarts = 0
        steps = [
            ("latency", lambda: bench_latency(k, lg, [int(x) for x in a.concurrency.split(",")],
                                              a.duration, a.warmup)),
            ("stream", lambda: bench_stream(k, lg, 20, a.streams, 200, a.stream_keepalive)),
            ("cold", lambda: bench_cold(k, fake, a.cold_reps)),
            ("release", lambda: bench_release(k, a.release_reps, a.stubborn_reps)),
        ]
        for name, fn in steps:
            if name not in only:
                continue
            try:
                res[name] = fn()
            except Exception as e:  # one broken measurement must not hide the others
                msg = f"{name}: {type(e).__name__}: {e}"
                if isinstance(e, MeasurementError):
                    res[name + "_partial"] = e.partial
                log(msg)
                res["errors"].append(msg)
            if k.proc.poll() is not None:
                # A crash must not take the remaining steps with it: note it, start a fresh kittyd.
                msg = f"kittyd died during '{name}' (exit status {k.proc.returncode}); log tail: " + \
                      " | ".join(k.tail(8).splitlines())
                log(msg)
                res["errors"].append(msg)
                k.stop()
                restarts += 1
                port = free_port()
                write_config(cfg, fake, port, tmp)
                k = Kittyd(kittyd_bin, cfg, port, tmp / f"kittyd-{restarts}.log")
                log(f"kittyd restarted on 127.0.0.1:{port}")
    finally:
        if k is not None:
            crashed_rc = k.proc.poll()
            rc = k.stop()
            res["kittyd_exit"] = rc if crashed_rc is None else f"died during the run with {crashed_rc}"
            if crashed_rc is not None:
                res["errors"].append(f"kittyd died during the run (exit status {crashed_rc}); see kittyd_log_tail")
            res["kittyd_log_tail"] = k.tail(40).splitlines()
        res["machine"]["loadavg_at_end"] = list(os.getloadavg())
        shutil.rmtree(tmp, ignore_errors=True)
    res["elapsed_s"] = time.monotonic() - started
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.json").write_text(json.dumps(res, indent=2) + "\n")
    md = table(res)
    (out / "latest.md").write_text(md)
    print(md)
    return 1 if res["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
