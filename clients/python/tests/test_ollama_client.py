"""OllamaClient (seed 000 §7.1's calls) against a live kittyd's Ollama-compatible API."""

from __future__ import annotations

import pytest
from kitty_testkit import Kittyd, pid_exists, wait_until

from kitty_client import KittyClient, ModelNotFound, OllamaClient, WorkerStartFailed


def test_completion_chat_and_embed(kittyd: Kittyd) -> None:
    with OllamaClient(kittyd.url) as ollama:
        assert ollama.completion("big", "Say something", options={"num_predict": 4})
        assert ollama.completion("large", "hi", system="be brief")  # aliases route too
        assert ollama.chat("second", [{"role": "user", "content": "hello"}])
        vectors = ollama.embed("second", ["a", "b"])
        assert len(vectors) == 2 and len(vectors[0]) > 0


def test_load_keep_alive_and_unload(kittyd: Kittyd, client: KittyClient) -> None:
    with OllamaClient(kittyd.url) as ollama:
        ollama.load("second", keep_alive="10m")
        w = client.worker("second")
        assert w["status"] == "ready" and w["keep_alive_seconds"] == 600
        ollama.unload("second")
        assert client.worker("second")["status"] == "stopped"
        assert not pid_exists(w["pid"])
        ollama.completion("second", "x", keep_alive=0)  # answered, then unloaded
        assert wait_until(lambda: client.worker("second")["status"] == "stopped", 5)


def test_errors_are_the_clients_own(kittyd: Kittyd) -> None:
    with OllamaClient(kittyd.url) as ollama:
        with pytest.raises(ModelNotFound) as exc:
            ollama.completion("nope", "x")
        assert "big" in str(exc.value)
        with pytest.raises(WorkerStartFailed):
            ollama.completion("broken", "x")
