"""Shared helpers for the black-box suites: a real kittyd with fake_engine models on real sockets.

Binaries: $KITTYD else build/kittyd, $FAKE_ENGINE else build/fake_engine (relative paths are taken
from the repository root). A missing binary fails the test loudly (scripts/test.sh builds them).

`start_kittyd(models, server=...)` starts a kittyd with its own temp config, logs and state dir and
waits for GET /health. Every pid the test sees in /kitty/system/workers (and every child kittyd
has when it is stopped) is remembered; teardown sends SIGTERM, waits up to 15 s, then SIGKILLs, and
fails the test if any of those processes is still alive.

Test modules in this directory may define their own fixtures (test_kittyctl.py does); the names
here are distinct from theirs.
"""

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

# Test modules import these helpers as `kitty_e2e` (with --import-mode=importlib a test file cannot
# import its sibling conftest.py by name).
sys.modules.setdefault("kitty_e2e", sys.modules[__name__])

REPO = Path(__file__).resolve().parents[2]
KITTYD_START_WAIT_S = 20.0
KITTYD_STOP_WAIT_S = 15.0


def e2e_binary(env, rel):
    p = Path(os.environ[env]) if os.environ.get(env) else Path(rel)
    p = p if p.is_absolute() else REPO / p
    if not (p.is_file() and os.access(p, os.X_OK)):
        pytest.fail(f"{p} is not built (set ${env}, or run the README's test command, which builds it)",
                    pytrace=False)
    return p


def free_tcp_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- processes ------------------------------------------------------------------------------------
# A process that died but was not reaped yet (its parent is gone and init may be slow) still
# answers kill(pid, 0); /proc tells a zombie apart, so "alive" here means "running, not a zombie".


def _proc_stat(pid):
    """(state, ppid, pgrp) from /proc/<pid>/stat, or None if there is no such process."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2:].split()
    return fields[0], int(fields[1]), int(fields[2])


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    st = _proc_stat(pid)
    if st is None:
        return not Path("/proc/self").exists()  # no /proc: trust kill()
    return st[0] not in ("Z", "X")


def group_alive(pgid):
    """Whether any live (non-zombie) process is in process group `pgid`."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    if not Path("/proc/self").exists():
        return True
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = _proc_stat(int(entry))
            if st and st[2] == pgid and st[0] not in ("Z", "X"):
                return True
    return False


def children_of(pid):
    """Live pids whose parent is `pid` (via /proc; empty where there is none)."""
    out = []
    if not Path("/proc/self").exists():
        return out
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = _proc_stat(int(entry))
            if st and st[1] == pid and st[0] not in ("Z", "X"):
                out.append(int(entry))
    return out


def pids_with_cmdline(needle):
    """Live pids whose command line contains `needle`."""
    out = []
    if not Path("/proc/self").exists():
        return out
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(
                errors="replace")
        except OSError:
            continue
        if needle in cmd and pid_alive(int(entry)):
            out.append(int(entry))
    return out


def wait_for(pred, timeout, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(interval)
    return bool(pred())


# --- configs --------------------------------------------------------------------------------------


def fake_model(fake, model_id, *flags, **keys):
    """A `backend: command` model running fake_engine; `keys` are more model keys."""
    m = {"backend": "command",
         "command": [str(fake), "--port", "${PORT}", "--model-id", model_id, *map(str, flags)],
         "shutdown_path": "/shutdown",
         "stop_timeout_seconds": 3}
    m.update(keys)
    return m


# --- the daemon -----------------------------------------------------------------------------------


class Kittyd:
    """One kittyd process with a JSON (= YAML) config written under `workdir`."""

    def __init__(self, kittyd, workdir, models, server=None, state_dir=None, admin_key=None,
                 wait=True):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_tcp_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.logs_dir = self.workdir / "logs"
        self.state_dir = Path(state_dir) if state_dir else self.workdir / "state"
        self.admin_key = admin_key
        self.seen_pids = set()
        # Workers' auto ports: a random block above the kernel's ephemeral range, away from the
        # default 41000-41999 that other kittyds on this machine (other suites) pick from.
        first = random.randrange(61000, 64800, 200)
        cfg = {"server": {"listen": f"127.0.0.1:{self.port}", "logs_dir": str(self.logs_dir),
                          "state_dir": str(self.state_dir),
                          "auto_ports": f"{first}-{first + 199}"},
               "models": models}
        cfg["server"].update(server or {})
        n = len(list(self.workdir.glob("kitty*.yaml")))
        self.config_path = self.workdir / f"kitty{n or ''}.yaml"
        self.config_path.write_text(json.dumps(cfg, indent=2))
        self.log_path = self.workdir / f"kittyd{n or ''}.log"
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([str(kittyd), "--config", str(self.config_path)],
                                     stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=self.workdir,
                                     start_new_session=True)
        self.client = httpx.Client(base_url=self.url, timeout=30)
        if wait and not wait_for(self._healthy, KITTYD_START_WAIT_S):
            self.stop(check=False)
            pytest.fail(f"kittyd at {self.url} not healthy after {KITTYD_START_WAIT_S}s\n"
                        f"{self.log_text()}")

    # --- HTTP ---

    def _admin_headers(self, headers=None):
        h = dict(headers or {})
        if self.admin_key and "Authorization" not in h:
            h["Authorization"] = f"Bearer {self.admin_key}"
        return h

    def _healthy(self):
        if self.proc.poll() is not None:
            pytest.fail(f"kittyd exited with {self.proc.returncode}\n{self.log_text()}")
        try:
            return httpx.get(self.url + "/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def admin(self, method, path, **kw):
        kw["headers"] = self._admin_headers(kw.get("headers"))
        r = self.client.request(method, path, **kw)
        self._remember(r)
        return r

    def _remember(self, r):
        try:
            j = r.json()
        except ValueError:
            return
        if not isinstance(j, dict):
            return
        for w in j.get("workers", [j]):
            if isinstance(w, dict) and isinstance(w.get("pid"), int):
                self.seen_pids.add(w["pid"])

    def workers(self):
        r = self.admin("GET", "/kitty/system/workers")
        assert r.status_code == 200, r.text
        return {w["model_id"]: w for w in r.json()["workers"]}

    def worker(self, model):
        return self.workers()[model]

    def ensure(self, model):
        r = self.admin("POST", f"/kitty/workers/{model}/ensure")
        assert r.status_code == 200, r.text
        return r.json()

    def release(self, model, force=False):
        r = self.admin("POST", f"/kitty/workers/{model}/release" + ("?force=true" if force else ""))
        assert r.status_code == 200, r.text
        return r.json()

    def worker_log(self, model):
        try:
            return (self.logs_dir / f"{model}.log").read_text(errors="replace")
        except OSError:
            return ""

    def log_text(self, last=80):
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-last:])
        except OSError as exc:
            return f"(no log: {exc})"

    # --- stopping ---

    def remember_children(self):
        if self.proc.poll() is None:
            self.seen_pids.update(children_of(self.proc.pid))

    def stop(self, check=True):
        """SIGTERM, ≤15 s, SIGKILL. With `check`, fails if a worker pid seen is still alive."""
        self.remember_children()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(KITTYD_STOP_WAIT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.client.close()
        if not self._log.closed:
            self._log.close()
        if check:
            left = [p for p in sorted(self.seen_pids) if p != self.proc.pid]
            wait_for(lambda: not any(pid_alive(p) for p in left), 3)
            alive = [p for p in left if pid_alive(p)]
            assert not alive, (f"worker processes outlived kittyd: {alive}\n{self.log_text()}")


@pytest.fixture(scope="session")
def kittyd_bin():
    return e2e_binary("KITTYD", "build/kittyd")


@pytest.fixture(scope="session")
def fake_bin():
    return e2e_binary("FAKE_ENGINE", "build/fake_engine")


@pytest.fixture
def start_kittyd(kittyd_bin, tmp_path):
    """Factory: start_kittyd(models, server=None, state_dir=None, admin_key=None, wait=True,
    name="d") → Kittyd, stopped (and checked) at teardown unless the test stopped it already."""
    started = []

    def start(models, name="d", **kw):
        d = Kittyd(kittyd_bin, tmp_path / name, models, **kw)
        started.append(d)
        return d

    yield start
    errors = []
    for d in started:
        try:
            d.stop(check=True)
        except AssertionError as exc:
            errors.append(str(exc))
    assert not errors, "\n".join(errors)
