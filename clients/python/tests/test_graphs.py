"""The example graphs: the seed's §9.3 graph-driven cleanup and the two-phase graph."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import load_example
from kitty_testkit import Kittyd, pid_exists

from kitty_client import KittyClient


def check_research_graph(client: KittyClient, model: str) -> None:
    app = load_example("research_graph").build_research_graph(client, model, max_tokens=32)
    out = app.invoke({"question": "What is a process group?"})
    assert isinstance(out["research"], str) and out["research"].strip()
    pid = out["worker"]["pid"]
    assert isinstance(pid, int) and pid > 0
    assert out["released"]["status"] == "stopped"
    # Seed §9.3: after the graph completes, the worker's pid is dead ...
    assert not pid_exists(pid), f"worker pid {pid} is still alive after the graph released it"
    # ... and workers() shows it stopped.
    by_id = {w["model_id"]: w for w in client.workers()}
    canonical = out["worker"]["model_id"]
    assert by_id[canonical]["status"] == "stopped", by_id[canonical]


def test_research_graph_releases_worker_fake(client: KittyClient) -> None:
    check_research_graph(client, "big")


@pytest.mark.real_model
def test_research_graph_releases_worker_real_model(real_kittyd: Kittyd) -> None:
    with KittyClient(real_kittyd.url, timeout=300) as client:
        check_research_graph(client, "smol")
        # Also by its id, as the README's default config names it.
        check_research_graph(client, "smollm2-135m")


@pytest.mark.real_model
def test_research_graph_releases_an_ollama_backed_model(ollama_kittyd: Kittyd) -> None:
    """The same tools and graph for a model inside Ollama: the release unloads it from Ollama."""
    import httpx

    with KittyClient(ollama_kittyd.url, timeout=300) as client:
        check_research_graph(client, "smol-ollama")
    ps = httpx.get(f"{ollama_kittyd.ollama_url}/api/ps", timeout=10).json()  # type: ignore[attr-defined]
    assert ps["models"] == [], ps


class SpyClient(KittyClient):
    """Records, at the moment the second model is first called, whether the big one is gone."""

    def __init__(self, url: str, big: str, second: str) -> None:
        super().__init__(url, timeout=120)
        self.big, self.second = big, second
        self.big_pid: int | None = None
        self.observed: list[dict[str, Any]] = []

    def ensure(self, model: str) -> dict[str, Any]:
        if model == self.second:
            self._observe()
        w = super().ensure(model)
        if model == self.big:
            self.big_pid = w["pid"]
        return w

    def chat_raw(self, model: str, messages: Any, **params: Any) -> dict[str, Any]:
        if model == self.second:
            self._observe()
        return super().chat_raw(model, messages, **params)

    def _observe(self) -> None:
        assert self.big_pid is not None
        self.observed.append({"big_status": self.worker(self.big)["status"],
                              "big_pid_alive": pid_exists(self.big_pid)})


def test_two_phase_graph_first_model_gone_before_second_answers(kittyd: Kittyd) -> None:
    mod = load_example("two_phase_graph")
    with SpyClient(kittyd.url, "big", "second") as spy:
        out = mod.build_two_phase_graph(spy, "big", "second", max_tokens=8).invoke({"topic": "memory"})
        assert out["draft"] and out["final"]
        assert spy.observed, "the second model was never called"
        for o in spy.observed:
            assert o == {"big_status": "stopped", "big_pid_alive": False}, spy.observed
        assert out["big_released"]["status"] == "stopped"
        assert out["second_worker"]["pid"] != out["big_worker"]["pid"]
        assert spy.worker("second")["status"] == "stopped"
