"""Fixtures that run a real kittyd (and real workers) for the kitty_client tests.

Binaries: ``$KITTYD`` else ``build/kittyd``; ``$FAKE_ENGINE`` else ``build/fake_engine`` (paths
relative to the repository root). Real-model tests use ``$KITTY_LLAMA_SERVER`` and
``$KITTY_TEST_MODEL``, else the values in ``${KITTY_CACHE_DIR:-~/.cache/kitty}/engine.env``
(written by scripts/install_engine.sh).

The helpers shared with the repository's black-box suites (binary lookup, free ports, pid checks,
waiting, the kittyd process) are in tests/support/kitty_testkit.py at the repository root, on
sys.path through pyproject.toml's ``pythonpath``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, AsyncIterator, Iterator

import pytest
from kitty_testkit import Kittyd, ollama_kittyd_config, real_engine, require_binary, require_real_ollama

from kitty_client import AsyncKittyClient, KittyClient

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


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
def kittyd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kittyd]:
    """A kittyd serving fake-engine models: big (alias large), small (idles out after 1 s),
    second, streamer, crasher (dies mid-stream) and broken (fails to start)."""
    exe = require_binary("KITTYD", "build/kittyd")
    fake = require_binary("FAKE_ENGINE", "build/fake_engine")
    d = Kittyd(exe, tmp_path_factory.mktemp("kittyd"), fake_models(fake))
    yield d
    d.stop()


@pytest.fixture()
def client(kittyd: Kittyd) -> Iterator[KittyClient]:
    with KittyClient(kittyd.url, timeout=120) as c:
        yield c


@pytest.fixture()
async def aclient(kittyd: Kittyd) -> AsyncIterator[AsyncKittyClient]:
    async with AsyncKittyClient(kittyd.url, timeout=120) as c:
        yield c


# --- real model -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def real_kittyd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kittyd]:
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
    d = Kittyd(exe, tmp_path_factory.mktemp("kittyd-real"), models)
    yield d
    d.stop()


@pytest.fixture(scope="session")
def ollama_kittyd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kittyd]:
    """A kittyd that starts a real `ollama serve` (scripts/install_ollama.sh) and serves the real
    SmolLM2 from inside it as `smol-ollama` (backend ollama, imported from a Modelfile). Its
    Ollama URL is in `d.ollama_url`."""
    ollama, gguf = require_real_ollama()
    tmp = tmp_path_factory.mktemp("kittyd-ollama")
    models, sections, ourl = ollama_kittyd_config(tmp, ollama, gguf, "smol-ollama")
    d = Kittyd(require_binary("KITTYD", "build/kittyd"), tmp, models, sections=sections)
    d.ollama_url = ourl  # type: ignore[attr-defined]
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
