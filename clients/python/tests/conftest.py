"""Fixtures that run a real kittyd (and real workers) for the kitty_client tests.

Binaries: ``$KITTYD`` else ``build/kittyd``; ``$FAKE_ENGINE`` else ``build/fake_engine`` (paths
relative to the repository root). Real-model tests use ``$KITTY_LLAMA_SERVER`` and
``$KITTY_TEST_MODEL``, else the values in ``${KITTY_CACHE_DIR:-~/.cache/kitty}/engine.env``
(written by scripts/install_engine.sh).
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, AsyncIterator, Iterator

import httpx
import pytest

from kitty_client import AsyncKittyClient, KittyClient

REPO = Path(__file__).resolve().parents[3]
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
START_WAIT_S = 30.0
STOP_WAIT_S = 10.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def binary(env: str, rel: str) -> Path:
    p = Path(os.environ[env]) if os.environ.get(env) else REPO / rel
    return p if p.is_absolute() else REPO / p


def require_binary(env: str, rel: str) -> Path:
    p = binary(env, rel)
    if not (p.is_file() and os.access(p, os.X_OK)):
        pytest.fail(f"{p} not found or not executable: build it (ninja -C build {p.name}) or set ${env}")
    return p


def pid_alive(pid: int) -> bool:
    """True while a process with this pid exists (a zombie counts: kittyd must reap its workers)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def wait_until(pred: Any, timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(interval)
    return bool(pred())


class Daemon:
    """One kittyd process with its own config, logs and state under a temp dir."""

    def __init__(self, kittyd: Path, workdir: Path, models: dict[str, Any]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workdir = workdir
        self.config_path = workdir / "kitty.yaml"
        self.log_path = workdir / "kittyd.log"
        config = {
            "server": {
                "listen": f"127.0.0.1:{self.port}",
                "logs_dir": str(workdir / "logs"),
                "state_dir": str(workdir / "state"),
            },
            "models": models,
        }
        # JSON is YAML: no YAML library needed and no quoting surprises.
        self.config_path.write_text(json.dumps(config, indent=2))
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [str(kittyd), "--config", str(self.config_path)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=workdir,
        )
        self._wait_healthy()

    def log_text(self, last: int = 60) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError as exc:
            return f"(no log: {exc})"
        return "\n".join(lines[-last:])

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + START_WAIT_S
        last = ""
        while time.monotonic() < deadline:
            rc = self.proc.poll()
            if rc is not None:
                self._log.close()
                pytest.fail(f"kittyd exited with {rc} before becoming healthy\n"
                            f"config {self.config_path}\n--- kittyd log ---\n{self.log_text()}")
            try:
                r = httpx.get(self.url + "/health", timeout=1.0)
                if r.status_code == 200:
                    return
                last = f"HTTP {r.status_code}: {r.text[:200]}"
            except httpx.TransportError as exc:
                last = repr(exc)
            time.sleep(0.05)
        self.stop()
        pytest.fail(f"kittyd at {self.url} not healthy after {START_WAIT_S}s ({last})\n"
                    f"--- kittyd log ---\n{self.log_text()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_WAIT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


def fake_models(fake: Path) -> dict[str, Any]:
    f = str(fake)

    def cmd(model_id: str, *extra: str) -> list[str]:
        return [f, "--port", "${PORT}", "--model-id", model_id, *extra]

    return {
        "big": {"backend": "command", "command": cmd("big", "--load-ms", "200"), "aliases": ["large"],
                "health_path": "/health", "shutdown_path": "/shutdown", "idle_shutdown_seconds": 60},
        "small": {"backend": "command", "command": cmd("small"), "idle_shutdown_seconds": 1},
        "second": {"backend": "command", "command": cmd("second", "--load-ms", "100"),
                   "shutdown_path": "/shutdown", "idle_shutdown_seconds": 60},
        "streamer": {"backend": "command", "command": cmd("streamer", "--tokens", "8", "--token-ms", "20"),
                     "idle_shutdown_seconds": 60},
        "crasher": {"backend": "command",
                    "command": cmd("crasher", "--tokens", "40", "--token-ms", "10", "--crash-mid-stream"),
                    "idle_shutdown_seconds": 60},
        "broken": {"backend": "command", "command": cmd("broken", "--load-ms", "100", "--fail-on-start"),
                   "idle_shutdown_seconds": 60},
    }


@pytest.fixture(scope="session")
def kittyd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    """A kittyd serving fake-engine models: big (alias large), small (idles out after 1 s),
    second, streamer, crasher (dies mid-stream) and broken (fails to start)."""
    exe = require_binary("KITTYD", "build/kittyd")
    fake = require_binary("FAKE_ENGINE", "build/fake_engine")
    d = Daemon(exe, tmp_path_factory.mktemp("kittyd"), fake_models(fake))
    yield d
    d.stop()


@pytest.fixture()
def client(kittyd: Daemon) -> Iterator[KittyClient]:
    with KittyClient(kittyd.url, timeout=120) as c:
        yield c


@pytest.fixture()
async def aclient(kittyd: Daemon) -> AsyncIterator[AsyncKittyClient]:
    async with AsyncKittyClient(kittyd.url, timeout=120) as c:
        yield c


# --- real model -------------------------------------------------------------------------------


def _engine_env() -> dict[str, str]:
    """KITTY_* values from engine.env (KEY=VALUE lines, `export` and quotes allowed)."""
    cache = Path(os.environ.get("KITTY_CACHE_DIR") or Path.home() / ".cache" / "kitty")
    path = cache / "engine.env"
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
    """(llama-server, model) or the reason the real-model tests cannot run."""
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


@pytest.fixture(scope="session")
def real_kittyd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    """A kittyd serving the real SmolLM2-135M as `smollm2-135m` (alias `smol`), like the README's
    default config."""
    eng = real_engine()
    if isinstance(eng, str):
        pytest.skip(eng)
    server, model = eng
    exe = require_binary("KITTYD", "build/kittyd")
    models = {
        "smollm2-135m": {
            "backend": "llama_server", "aliases": ["smol"], "model_path": str(model),
            "llama_server_bin": str(server), "ctx": 2048, "threads": 2, "parallel": 1,
            "idle_shutdown_seconds": 300, "start_timeout_seconds": 180,
        }
    }
    d = Daemon(exe, tmp_path_factory.mktemp("kittyd-real"), models)
    yield d
    d.stop()


def load_example(name: str) -> Any:
    """Import clients/python/examples/<name>.py as a module."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"kitty_examples_{name}", EXAMPLES / f"{name}.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod
