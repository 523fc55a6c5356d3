"""Test helpers shared by every Python suite: tests/ (kittyd, kittyctl, fake_engine black-box
tests) and clients/python/tests (the client against a live kittyd).

Standard library and pytest only, so that a suite that runs with --noconftest (test_kittyctl.py)
can use it. Both pytest configurations put this directory on sys.path (`pythonpath` in pytest.ini
and in clients/python/pyproject.toml); import it as `kitty_testkit`.

- binaries: `binary(env, rel)` / `require_binary(env, rel)`: $ENV, else `rel` under the repository
- ports: `free_port()`
- processes: `pid_exists` (a zombie counts), `pid_alive` (running, not a zombie), `group_alive`,
  `children_of`, `pids_with_cmdline`
- time and threads: `wait_until(pred, timeout)`, `in_thread(fn)` / `joined(thread, box)`
- raw HTTP, for requests no HTTP library will send: `raw_request`, `read_response`, `post_head`
- the daemon: `Kittyd` (one kittyd with its own config, logs and state under a temp dir)
- the real engine: `real_engine()` (llama-server and the SmolLM2 model, or why they are missing)
- the error contract: `documented_error_codes()` / `documented_error_reasons()`, read from
  docs/API.md's two error tables
"""

from __future__ import annotations

import json
import os
import random
import re
import shlex
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from dataclasses import dataclass
from typing import Any, Callable, TypeVar

import pytest

REPO = Path(__file__).resolve().parents[2]
KITTYD_START_WAIT_S = 30.0
KITTYD_STOP_WAIT_S = 15.0

T = TypeVar("T")

# --- binaries -------------------------------------------------------------------------------------


def binary(env: str, rel: str) -> Path:
    """$env if set, else `rel`; a relative path is taken from the repository root."""
    p = Path(os.environ[env]) if os.environ.get(env) else Path(rel)
    return p if p.is_absolute() else REPO / p


def require_binary(env: str, rel: str) -> Path:
    """`binary(env, rel)`, failing the test (not skipping it) when it is not built: a suite that
    silently skips because the build is missing proves nothing (scripts/test.sh builds them)."""
    p = binary(env, rel)
    if not (p.is_file() and os.access(p, os.X_OK)):
        pytest.fail(f"{p} not found or not executable: build it (ninja -C build {p.name}) "
                    f"or set ${env}", pytrace=False)
    return p


# --- ports ----------------------------------------------------------------------------------------


def free_port() -> int:
    """A loopback port nothing listens on right now (the kernel's pick, so not one in use)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- processes ------------------------------------------------------------------------------------
# Two questions, two functions. `pid_exists` counts a zombie: right for a worker whose parent is a
# live kittyd, which must reap it (a zombie there is a kittyd bug). `pid_alive` does not: right
# once the parent is gone, when init may be slow to reap; /proc tells a zombie apart.


def _proc_stat(pid: int) -> tuple[str, int, int] | None:
    """(state, ppid, pgrp) from /proc/<pid>/stat, or None if there is no such process."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # gone (ENOENT/ESRCH), or no /proc
        return None
    fields = raw[raw.rindex(")") + 2:].split()
    return fields[0], int(fields[1]), int(fields[2])


def pid_exists(pid: int) -> bool:
    """True while a process with this pid exists, a zombie included."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def pid_alive(pid: int) -> bool:
    """True while the process runs (exists and is not a zombie)."""
    if not pid_exists(pid):
        return False
    st = _proc_stat(pid)
    if st is None:
        return not Path("/proc/self").exists()  # no /proc: trust kill()
    return st[0] not in ("Z", "X")


def _live_stats() -> list[tuple[int, tuple[str, int, int]]]:
    out: list[tuple[int, tuple[str, int, int]]] = []
    if not Path("/proc/self").exists():
        return out
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = _proc_stat(int(entry))
            if st and st[0] not in ("Z", "X"):
                out.append((int(entry), st))
    return out


def group_alive(pgid: int) -> bool:
    """Whether any live (non-zombie) process is in process group `pgid`."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    if not Path("/proc/self").exists():
        return True
    return any(st[2] == pgid for _, st in _live_stats())


def children_of(pid: int) -> list[int]:
    """Live pids whose parent is `pid` (via /proc; empty where there is none)."""
    return [p for p, st in _live_stats() if st[1] == pid]


def pids_with_cmdline(needle: str) -> list[int]:
    """Live pids whose command line contains `needle`."""
    out: list[int] = []
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


# --- time -----------------------------------------------------------------------------------------


def wait_until(pred: Callable[[], T], timeout: float, interval: float = 0.05) -> T:
    """Polls `pred` until it returns something truthy or `timeout` seconds pass; returns its last
    value (so `assert wait_until(...)` fails when it never came true)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(interval)
    return pred()


def in_thread(fn: Callable[[], Any]) -> tuple[threading.Thread, dict[str, Any]]:
    """Runs fn() in a daemon thread; returns (thread, box). The box gets "result" or, if fn
    raised, "error" (the exception, for the test to assert on)."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["result"] = fn()
        except BaseException as exc:  # handed to the test, which asserts on it
            box["error"] = exc

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, box


def joined(t: threading.Thread, box: dict[str, Any], timeout: float = 30) -> dict[str, Any]:
    """Waits for an `in_thread` thread; fails if it is still running after `timeout`."""
    t.join(timeout)
    assert not t.is_alive(), f"{t.name} still running after {timeout}s"
    return box


# --- raw HTTP -------------------------------------------------------------------------------------


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes
    closed: bool  # the server closed the connection right after this response


def read_response(sock: socket.socket, timeout: float) -> RawResponse:
    """Reads one HTTP response with a Content-Length body (as kittyd's own answers have) from
    `sock`, then whether the server closes the connection within 2 s. Fails the test if the
    connection closes before a response."""
    sock.settimeout(timeout)
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            pytest.fail(f"the server closed the connection without an answer (got {buf[:300]!r})")
        buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed {length - len(body)} bytes short of the body"
        body += chunk
    sock.settimeout(2.0)
    try:
        closed = sock.recv(1) == b""
    except socket.timeout:
        closed = False
    except ConnectionResetError:
        closed = True
    return RawResponse(status, headers, body[:length], closed)


def raw_request(port: int, data: bytes, timeout: float = 10.0) -> RawResponse:
    """Sends `data` as is on a new loopback connection to `port` and reads the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        return read_response(s, timeout)


def post_head(path: bytes, length: int, extra: bytes = b"") -> bytes:
    """The header of a JSON POST of `length` bytes to `path`; `extra` is more header lines."""
    return (b"POST " + path + b" HTTP/1.1\r\nHost: kittyd\r\nContent-Type: application/json\r\n"
            + extra + b"Content-Length: " + str(length).encode() + b"\r\n\r\n")


# --- the daemon -----------------------------------------------------------------------------------


class Kittyd:
    """One kittyd process with a JSON (= YAML) config written under `workdir`.

    `server` adds or overrides keys of the config's `server` section; `memory`, when given, is
    the config's `memory` section; `sections` adds other top-level sections; `args` are more
    command-line arguments. Several daemons may share a
    workdir: the second writes kitty1.yaml and kittyd1.log. With `wait`, the constructor returns
    once GET /health answers 200 and fails the test if kittyd exits first.

    Every pid added to `seen_pids` (subclasses add the workers they see; `remember_children` adds
    kittyd's children) is checked by `stop(check=True)`: none may outlive kittyd.
    """

    def __init__(self, kittyd: Path, workdir: Path, models: dict[str, Any],
                 server: dict[str, Any] | None = None, state_dir: Path | None = None,
                 wait: bool = True, memory: dict[str, Any] | None = None,
                 sections: dict[str, Any] | None = None, args: list[str] | None = None) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.logs_dir = self.workdir / "logs"
        self.state_dir = Path(state_dir) if state_dir else self.workdir / "state"
        self.seen_pids: set[int] = set()
        # Workers' auto ports: a random block above the kernel's ephemeral range, away from the
        # default 41000-41999 that other kittyds on this machine (other suites) pick from.
        first = random.randrange(61000, 64800, 200)
        cfg: dict[str, Any] = {
            "server": {"listen": f"127.0.0.1:{self.port}", "logs_dir": str(self.logs_dir),
                       "state_dir": str(self.state_dir), "auto_ports": f"{first}-{first + 199}"},
            "models": models,
        }
        cfg["server"].update(server or {})
        if memory is not None:
            cfg["memory"] = memory
        cfg.update(sections or {})  # more top-level sections (ollama: ...)
        n = len(list(self.workdir.glob("kitty*.yaml")))
        self.config_path = self.workdir / f"kitty{n or ''}.yaml"
        self.config_path.write_text(json.dumps(cfg, indent=2))
        self.log_path = self.workdir / f"kittyd{n or ''}.log"
        self._log = open(self.log_path, "wb")
        # Its own session: a Ctrl-C meant for pytest does not reach kittyd, whose shutdown is what
        # the tests check.
        self.proc = subprocess.Popen([str(kittyd), "--config", str(self.config_path), *(args or [])],
                                     stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=self.workdir,
                                     start_new_session=True)
        if wait and not wait_until(self.healthy, KITTYD_START_WAIT_S):
            self.stop(check=False)
            pytest.fail(f"kittyd at {self.url} not healthy after {KITTYD_START_WAIT_S}s\n"
                        f"config {self.config_path}\n--- kittyd log ---\n{self.log_text()}")

    def healthy(self) -> bool:
        """GET /health answers 200; fails the test if kittyd has exited."""
        if self.proc.poll() is not None:
            pytest.fail(f"kittyd exited with {self.proc.returncode}\nconfig {self.config_path}\n"
                        f"--- kittyd log ---\n{self.log_text()}")
        try:
            with urllib.request.urlopen(self.url + "/health", timeout=1) as r:
                return bool(r.status == 200)
        except (urllib.error.URLError, OSError):
            return False  # not listening yet, or busy: poll again

    def log_text(self, last: int = 80) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-last:])
        except OSError as exc:
            return f"(no log: {exc})"

    def worker_log(self, model: str) -> str:
        try:
            return (self.logs_dir / f"{model}.log").read_text(errors="replace")
        except OSError:
            return ""

    def remember_children(self) -> None:
        if self.proc.poll() is None:
            self.seen_pids.update(children_of(self.proc.pid))

    def stop(self, check: bool = False) -> None:
        """SIGTERM, up to 15 s, then SIGKILL. With `check`, fails if a pid in `seen_pids` (or a
        child kittyd had when stopped) is still alive 3 s after kittyd is gone."""
        self.remember_children()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(KITTYD_STOP_WAIT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if not self._log.closed:
            self._log.close()
        if check:
            left = [p for p in sorted(self.seen_pids) if p != self.proc.pid]
            wait_until(lambda: not any(pid_alive(p) for p in left), 3)
            alive = [p for p in left if pid_alive(p)]
            assert not alive, f"worker processes outlived kittyd: {alive}\n{self.log_text()}"


# --- the real engine ------------------------------------------------------------------------------


def _engine_env(name: str = "engine.env") -> dict[str, str]:
    """KITTY_* values from engine.env (KEY=VALUE lines, `export` and quotes allowed), written by
    scripts/install_engine.sh into ${KITTY_CACHE_DIR:-~/.cache/kitty} (ollama.env: by
    scripts/install_ollama.sh)."""
    cache = Path(os.environ.get("KITTY_CACHE_DIR") or Path.home() / ".cache" / "kitty")
    path = cache / name
    out: dict[str, str] = {}
    if not path.is_file():
        return out
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        if line.startswith("export "):
            line = line[len("export "):]
        key, _, value = line.partition("=")
        parts = shlex.split(value) if value.strip() else [""]
        out[key.strip()] = os.path.expanduser(parts[0] if parts else "")
    return out


def real_engine() -> tuple[Path, Path] | str:
    """(llama-server, model) from $KITTY_LLAMA_SERVER / $KITTY_TEST_MODEL or engine.env, or the
    reason the real-model tests cannot run."""
    env = _engine_env()
    server = os.environ.get("KITTY_LLAMA_SERVER") or env.get("KITTY_LLAMA_SERVER")
    model = os.environ.get("KITTY_TEST_MODEL") or env.get("KITTY_TEST_MODEL")
    if not server or not model:
        return ("real engine not configured: set KITTY_LLAMA_SERVER and KITTY_TEST_MODEL or run "
                "scripts/install_engine.sh (writes ~/.cache/kitty/engine.env)")
    sp, mp = Path(os.path.expanduser(server)), Path(os.path.expanduser(model))
    if not sp.is_file():
        return f"llama-server not found at {sp} (KITTY_LLAMA_SERVER)"
    if not mp.is_file():
        return f"model not found at {mp} (KITTY_TEST_MODEL)"
    return sp, mp


def real_ollama() -> Path | str:
    """The `ollama` binary from $KITTY_OLLAMA or ollama.env, or why the Ollama tests cannot run."""
    path = os.environ.get("KITTY_OLLAMA") or _engine_env("ollama.env").get("KITTY_OLLAMA")
    if not path:
        return "no real ollama: set KITTY_OLLAMA or run scripts/install_ollama.sh (writes ~/.cache/kitty/ollama.env)"
    p = Path(os.path.expanduser(path))
    return p if p.is_file() else f"ollama not found at {p} (KITTY_OLLAMA)"


def require_real_ollama() -> tuple[Path, Path]:
    """(ollama, SmolLM2 GGUF) for the real-Ollama tests, or skips the test saying what is missing."""
    ollama, eng = real_ollama(), real_engine()
    if isinstance(ollama, str):
        pytest.skip(ollama)
    if isinstance(eng, str):
        pytest.skip(eng)
    return ollama, eng[1]


def ollama_kittyd_config(tmp: Path, ollama_bin: Path, gguf: Path, model_id: str,
                         **model_keys: Any) -> tuple[dict[str, Any], dict[str, Any], str]:
    """(models, sections, ollama_url) for a kittyd that starts its own `ollama serve` (HOME and
    OLLAMA_MODELS under `tmp`) and serves `gguf` from inside it as `model_id` (backend ollama,
    Ollama name `smollm2`, created from a Modelfile by kittyd). `model_keys` and `ollama` (a dict
    in model_keys) add to the model and to the ollama section."""
    modelfile = tmp / "Modelfile"
    modelfile.write_text(f"FROM {gguf}\n")
    url = f"http://127.0.0.1:{free_port()}"
    section = {"url": url, "manage": True, "bin": str(ollama_bin),
               "env": {"HOME": str(tmp / "ohome"), "OLLAMA_MODELS": str(tmp / "omodels")}}
    section.update(model_keys.pop("ollama", {}))
    model = {"backend": "ollama", "ollama_model": "smollm2", "ollama_url": url,
             "ollama_modelfile": str(modelfile), "start_timeout_seconds": 180, **model_keys}
    return {model_id: model}, {"ollama": section}, url


# --- the error contract ---------------------------------------------------------------------------
# docs/API.md's error tables are the contract between kittyd and its clients; the unit tests of the
# client's mapping and the end-to-end error tests both read them from the file, so that a code added
# to the docs fails both until it is mapped and triggered.

API_MD = REPO / "docs" / "API.md"


def _md_table(text: str, header: re.Pattern[str]) -> list[list[str]]:
    """The body rows, as cells, of the first markdown table whose header line matches `header`."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if header.match(line):
            rows = []
            for row in lines[i + 2:]:  # past the header and its | --- | line
                if not row.startswith("|"):
                    break
                rows.append([c.strip() for c in row.strip().strip("|").split("|")])
            return rows
    raise AssertionError(f"no table with a header like {header.pattern!r} in {API_MD}")


def _ticked(cell: str) -> list[str]:
    """The `backticked` words of a table cell."""
    return re.findall(r"`([a-z_]+)`", cell)


def documented_error_codes() -> dict[str, int]:
    """{code: HTTP status} from docs/API.md's `| status | `code` | when |` table, in its order."""
    out: dict[str, int] = {}
    for cells in _md_table(API_MD.read_text(), re.compile(r"^\|\s*status\s*\|\s*`code`\s*\|")):
        codes = _ticked(cells[1])
        assert cells[0].isdigit() and len(codes) == 1, f"unexpected row in the code table: {cells}"
        assert codes[0] not in out, f"{codes[0]} is listed twice in {API_MD}"
        out[codes[0]] = int(cells[0])
    return out


def documented_error_reasons() -> list[tuple[str, str]]:
    """(code, reason) pairs from docs/API.md's `| `code` | `reason` | cause |` table; a row naming
    several reasons gives one pair each."""
    out: list[tuple[str, str]] = []
    for cells in _md_table(API_MD.read_text(), re.compile(r"^\|\s*`code`\s*\|\s*`reason`\s*\|")):
        codes, reasons = _ticked(cells[0]), _ticked(cells[1])
        assert len(codes) == 1 and reasons, f"unexpected row in the reason table: {cells}"
        out.extend((codes[0], r) for r in reasons)
    return out


# docs/API.md: "`type` follows OpenAI's names: `invalid_request_error` (400, 404, 405, 408, 413, 431),
# `authentication_error` (401), `not_implemented_error` (501), `server_error` (429 and 5xx...)".
def documented_error_type(status: int) -> str:
    if status == 401:
        return "authentication_error"
    if status == 501:
        return "not_implemented_error"
    if status >= 500 or status == 429:
        return "server_error"
    return "invalid_request_error"
