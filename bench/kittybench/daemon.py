"""kittyd on loopback with fake_engine models: the config, the process, the admin calls."""
from __future__ import annotations

import http.client
import json
import os
import random
import resource
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from .util import log

# The engine models every scenario may use. All run fake_engine; `direct` figures go to the
# worker's own port. stream: endless enough for a timed window; slow: a token a second, for
# streams held open; poll0..7: ready workers for the status-polling scenario.
N_POLL_MODELS = 8


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


def engine_prefix() -> list[str]:
    """Engines get the hard fd limit whatever kittyd's is: the benchmark measures kittyd, and 1,000
    slow streams need more than the 1,024 fds an engine would inherit from a kittyd started with
    the default soft limit."""
    p = shutil.which("prlimit")
    if not p:
        return []
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard == resource.RLIM_INFINITY:
        hard = 1 << 20
    return [p, f"--nofile={hard}:{hard}", "--"]


# A model of a config: (name, fake_engine args, extra YAML lines indented 4, e.g. "    memory: 450MiB\n").
ModelSpec = tuple[str, list[str], str]


def default_models(cold_load_ms: int) -> list[ModelSpec]:
    return (
        [("fast", ["--tokens", "1"], ""),
         ("stream", ["--tokens", "100000", "--token-ms", "0"], ""),
         ("slow", ["--tokens", "100000", "--token-ms", "1000"], ""),
         ("cold", ["--tokens", "1", "--load-ms", str(cold_load_ms)], ""),
         ("coop", ["--tokens", "1"], "    stop_timeout_seconds: 10\n"),
         ("stubborn", ["--tokens", "1", "--ignore-sigterm", "--hang-on-shutdown"], "    stop_timeout_seconds: 2\n")]
        + [(f"poll{i}", ["--tokens", "1"], "") for i in range(N_POLL_MODELS)]
    )


def write_config(path: Path, fake: Path, listen_port: int, tmp: Path, server_opts: dict[str, str],
                 cold_load_ms: int, memory: dict[str, str] | None = None,
                 models: list[ModelSpec] | None = None) -> None:
    """`memory`: keys of a top-level memory: section (issue 9: budget, reserve, max_models, ...),
    written only when given (kittyd's defaults otherwise). `models`: the model set (default: every
    model the shared daemon's scenarios use)."""
    lo, hi = free_port_range()
    prefix = [json.dumps(x) for x in engine_prefix()]
    f = json.dumps(str(fake))

    def model(name: str, args: list[str], extra: str = "") -> str:
        argv = ", ".join(prefix + [f, "--port", '"${PORT}"', "--model-id", name] + args)
        return (f"  {name}:\n    backend: command\n    command: [{argv}]\n"
                f"    port: auto\n    shutdown_path: /shutdown\n    idle_shutdown_seconds: 0\n{extra}")

    server = "".join(f"  {k}: {v}\n" for k, v in server_opts.items())
    mem = "".join(f"  {k}: {v}\n" for k, v in (memory or {}).items())
    text = (
        "server:\n"
        f"  listen: 127.0.0.1:{listen_port}\n"
        f"  auto_ports: {lo}-{hi}\n"
        f"  state_dir: {tmp / 'state'}\n"
        f"  logs_dir: {tmp / 'logs'}\n"
        + server
        + ("memory:\n" + mem if memory else "")
        + "models:\n"
        + "".join(model(name, args, extra)
                  for name, args, extra in (models if models is not None else default_models(cold_load_ms)))
    )
    path.write_text(text)


class Kittyd:
    """One kittyd process. `nofile`: the soft RLIMIT_NOFILE it starts with (None: inherit ours);
    a daemon that needs more must raise it itself (issue 8). `memory`, `models`: see write_config
    (a scenario that needs its own budget starts its own daemon in a directory of its own: its state
    dir, with the learned footprints, must not be shared). `log_level`: kittyd's --log-level."""

    name = "kittyd"

    def __init__(self, binary: Path, fake: Path, tmp: Path, nofile: int | None,
                 server_opts: dict[str, str], cold_load_ms: int, tag: str = "0",
                 memory: dict[str, str] | None = None, models: list[ModelSpec] | None = None,
                 log_level: str = "warn"):
        self.port = free_port()
        self.binary = binary
        self.nofile = nofile
        self.tmp = tmp
        tmp.mkdir(parents=True, exist_ok=True)
        self.config = tmp / f"kitty-{tag}.yaml"
        write_config(self.config, fake, self.port, tmp, server_opts, cold_load_ms, memory, models)
        self.log_path = tmp / f"kittyd-{tag}.log"
        self.log = open(self.log_path, "wb")
        env = dict(os.environ)
        env["KITTY_STATE_DIR"] = str(tmp / "state")

        def limit() -> None:
            if nofile is not None:
                hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
                resource.setrlimit(resource.RLIMIT_NOFILE, (min(nofile, hard), hard))

        self.proc = subprocess.Popen([str(binary), "--config", str(self.config), "--log-level", log_level],
                                     stdout=self.log, stderr=subprocess.STDOUT, env=env,
                                     start_new_session=True, preexec_fn=limit)
        self.pid = self.proc.pid
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

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def alive(self) -> bool:
        return self.proc.poll() is None

    def tail(self, n: int = 30) -> str:
        if not self.log.closed:
            self.log.flush()
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError as e:
            return f"(no log: {e})"

    def log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0

    def log_lines_since(self, offset: int) -> list[str]:
        try:
            with open(self.log_path, "rb") as f:
                f.seek(offset)
                return f.read().decode(errors="replace").splitlines()
        except OSError:
            return []

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

    def ensure(self, model: str) -> tuple[int, int]:
        """Starts the model's worker if needed; (its port, its pid)."""
        w = self.ok("POST", f"/kitty/workers/{model}/ensure", timeout=60)
        return int(w["port"]), int(w["pid"])

    def release(self, model: str) -> None:
        self.call("POST", f"/kitty/workers/{model}/release", timeout=60)

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


def timed_get(port: int, path: str, timeout: float) -> tuple[int, float]:
    """(status, ms) of one GET on a fresh connection; status 0 on a transport error or timeout."""
    t0 = time.perf_counter()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("GET", path)
        r = c.getresponse()
        r.read()
        return r.status, (time.perf_counter() - t0) * 1000
    except (OSError, http.client.HTTPException):
        return 0, (time.perf_counter() - t0) * 1000
    finally:
        c.close()


def timed_post(port: int, path: str, body: str, timeout: float) -> tuple[int, float]:
    t0 = time.perf_counter()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("POST", path, body=body, headers={"Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        return r.status, (time.perf_counter() - t0) * 1000
    except (OSError, http.client.HTTPException):
        return 0, (time.perf_counter() - t0) * 1000
    finally:
        c.close()
