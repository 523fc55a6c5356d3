"""End-to-end on the real engine: llama.cpp's llama-server with SmolLM2-135M, through kittyd.

Needs scripts/install_engine.sh (scripts/test.sh runs it): KITTY_LLAMA_SERVER and
KITTY_TEST_MODEL, or ~/.cache/kitty/engine.env.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from kitty_testkit import free_port, pid_exists, real_engine, require_binary

pytestmark = pytest.mark.real_model


def _engine() -> tuple[str, str]:
    eng = real_engine()
    if isinstance(eng, str):
        pytest.skip(eng)
    return str(eng[0]), str(eng[1])


def _mem_available() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no MemAvailable")


def _llama_server_pids() -> list[int]:
    pids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if (d / "comm").read_text().strip() == "llama-server":
                    pids.append(int(d.name))
            except OSError:
                pass
    return pids


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    server, model = _engine()
    tmp = tmp_path_factory.mktemp("real")
    broken = tmp / "truncated.gguf"
    with open(model, "rb") as src, open(broken, "wb") as dst:
        dst.write(src.read(1 << 20))  # a valid GGUF header, tensor data cut off
    not_gguf = tmp / "not_a_model.gguf"
    not_gguf.write_bytes(b"this is not a model\n" * 100)
    port = free_port()
    common = {"backend": "llama_server", "llama_server_bin": server, "threads": 2,
              "parallel": 1, "start_timeout_seconds": 120, "stop_timeout_seconds": 10}
    config = {
        "server": {"listen": f"127.0.0.1:{port}", "logs_dir": str(tmp / "logs"),
                   "state_dir": str(tmp / "state")},
        "models": {
            "smol": {**common, "model_path": model, "ctx": 2048, "idle_shutdown_seconds": 600},
            "smol_1k": {**common, "model_path": model, "ctx": 1024, "idle_shutdown_seconds": 600},
            "smol_progress": {**common, "model_path": model, "ctx": 768, "idle_shutdown_seconds": 600},
            "truncated": {**common, "model_path": str(broken), "ctx": 512},
            "not_gguf": {**common, "model_path": str(not_gguf)},
        },
    }
    cfg = tmp / "kitty.yaml"
    cfg.write_text(json.dumps(config))  # JSON is YAML
    kittyd = str(require_binary("KITTYD", "build/kittyd"))
    log = open(tmp / "kittyd.log", "wb")
    proc = subprocess.Popen([kittyd, "--config", str(cfg)], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail("kittyd did not start: " + (tmp / "kittyd.log").read_text())
    yield url
    proc.send_signal(signal.SIGTERM)
    try:
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()


def _worker(url: str, model: str) -> dict:
    return httpx.get(f"{url}/kitty/workers/{model}", timeout=10).json()


def test_chat_and_completion_return_real_text(daemon):
    # The first request starts the worker: kittyd waits through llama-server's 503 "Loading
    # model" and only then proxies, so the very first answer is a real one.
    r = httpx.post(f"{daemon}/v1/chat/completions", timeout=180, json={
        "model": "smol", "max_tokens": 16, "temperature": 0,
        "messages": [{"role": "user", "content": "What is the capital of France?"}]})
    assert r.status_code == 200, r.text
    text = r.json()["choices"][0]["message"]["content"]
    assert text.strip()
    assert r.json()["model"] == "smol"  # the model id, not the GGUF path

    r = httpx.post(f"{daemon}/v1/completions", timeout=60, json={
        "model": "smol", "prompt": "The sky is", "max_tokens": 8, "temperature": 0})
    assert r.status_code == 200, r.text
    assert r.json()["choices"][0]["text"].strip()

    w = _worker(daemon, "smol")
    assert w["status"] == "ready" and w["rss_mb"] > 20, w


def test_streaming_chat_and_completion(daemon):
    for path, body in [
        ("/v1/chat/completions",
         {"messages": [{"role": "user", "content": "Count to five."}]}),
        ("/v1/completions", {"prompt": "Once upon a time"}),
    ]:
        events, text = 0, ""
        with httpx.stream("POST", f"{daemon}{path}", timeout=60,
                          json={"model": "smol", "max_tokens": 12, "stream": True, **body}) as r:
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("text/event-stream")
            for line in r.iter_lines():
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                events += 1
                choice = json.loads(line[6:])["choices"]
                if choice:
                    c = choice[0]
                    text += (c.get("delta") or {}).get("content") or c.get("text") or ""
        assert events >= 3, path
        assert text.strip(), path


def test_second_model_over_same_gguf_runs_alongside(daemon):
    httpx.post(f"{daemon}/kitty/workers/smol/ensure", timeout=180).raise_for_status()
    r = httpx.post(f"{daemon}/v1/completions", timeout=180, json={
        "model": "smol_1k", "prompt": "Hello", "max_tokens": 4})
    assert r.status_code == 200, r.text
    a, b = _worker(daemon, "smol"), _worker(daemon, "smol_1k")
    assert a["status"] == b["status"] == "ready"
    assert a["pid"] != b["pid"] and a["port"] != b["port"]
    cmdline = Path(f"/proc/{b['pid']}/cmdline").read_bytes().split(b"\0")
    assert b"--ctx-size" in cmdline and cmdline[cmdline.index(b"--ctx-size") + 1] == b"1024"


def test_release_frees_the_memory(daemon):
    # Start from nothing running, measure, load, release, measure again.
    httpx.post(f"{daemon}/kitty/workers/release-all", timeout=60).raise_for_status()
    assert not _llama_server_pids_of(daemon)
    time.sleep(0.5)
    before = _mem_available()
    w = httpx.post(f"{daemon}/kitty/workers/smol/ensure", timeout=180).json()
    httpx.post(f"{daemon}/v1/completions", timeout=60,
               json={"model": "smol", "prompt": "Warm up", "max_tokens": 8}).raise_for_status()
    loaded = _mem_available()
    pid = w["pid"]
    anon = 0  # the worker's anonymous memory: what must come back (its file pages stay cached)
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            anon = int(line.split()[1]) * 1024
    r = httpx.post(f"{daemon}/kitty/workers/smol/release", timeout=60)
    assert r.status_code == 200 and r.json()["status"] == "stopped"
    assert not pid_exists(pid)
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)
    time.sleep(0.5)
    after = _mem_available()
    # The margin covers everything else on the machine moving meanwhile; the file pages of
    # the model stay in the page cache, where MemAvailable counts most of them.
    margin = 96 << 20
    print(f"\nMemAvailable: before {before >> 20} MiB, loaded {loaded >> 20} MiB "
          f"(rss {w['rss_mb']} MiB, anon {anon >> 20} MiB), after release {after >> 20} MiB")
    assert after >= before - margin, (before, loaded, after)


def _llama_server_pids_of(daemon: str) -> list[int]:
    ours = {w["pid"] for w in httpx.get(f"{daemon}/kitty/system/workers").json()["workers"]
            if w["pid"]}
    return [p for p in _llama_server_pids() if p in ours]


def test_broken_model_file_fails_with_log_tail(daemon):
    r = httpx.post(f"{daemon}/v1/completions", timeout=120,
                   json={"model": "truncated", "prompt": "x", "max_tokens": 2})
    assert r.status_code == 503, r.text
    err = r.json()["error"]
    assert err["code"] == "worker_start_failed"
    assert "exited" in err["message"]
    assert err["log_tail"], err
    w = _worker(daemon, "truncated")
    assert w["status"] == "failed" and w["pid"] is None


def test_not_gguf_is_refused_before_spawn(daemon):
    r = httpx.post(f"{daemon}/v1/completions", timeout=30,
                   json={"model": "not_gguf", "prompt": "x"})
    assert r.status_code == 503, r.text
    err = r.json()["error"]
    assert "not a GGUF file" in err["message"] and "not_a_model.gguf" in err["message"]
    assert _worker(daemon, "not_gguf")["started_at"] is None  # nothing was spawned


def test_models_show_gguf_metadata(daemon):
    data = httpx.get(f"{daemon}/v1/models", timeout=10).json()["data"]
    smol = next(m for m in data if m["id"] == "smol")
    assert smol["gguf"]["architecture"] == "llama", smol
    assert smol["gguf"]["context_length"] > 0


def test_the_gguf_estimate_is_close_to_what_kittyd_learns(daemon):
    """Issue 9: the footprint estimated from the GGUF header against the peak kittyd measures and
    learns from a real run (the figures are printed: run with -s to see them)."""
    before = _worker(daemon, "smol_1k")["memory"]
    assert before["basis"] in ("estimate", "learned"), before
    assert before["estimate_bytes"] and "weights" in before["estimate_explanation"], before
    r = httpx.post(f"{daemon}/v1/completions", timeout=120,
                   json={"model": "smol_1k", "prompt": "Hello", "max_tokens": 4})
    assert r.status_code == 200, r.text
    # A sample after the load: the run counts only if kittyd saw it loaded.
    deadline = time.monotonic() + 10
    while (_worker(daemon, "smol_1k")["memory"]["rss_bytes"] or 0) == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(2.5)  # one more 2 s sample, taken with the model loaded and served
    assert httpx.post(f"{daemon}/kitty/workers/smol_1k/release", timeout=60).status_code == 200
    m = _worker(daemon, "smol_1k")["memory"]
    assert m["basis"] == "learned" and m["learned_bytes"], m
    err = m["estimate_error"]
    print(f"\nSmolLM2-135M ctx 1024: estimate {m['estimate_bytes'] / 2**20:.1f} MiB "
          f"({m['estimate_explanation']}), learned {m['learned_bytes'] / 2**20:.1f} MiB, "
          f"error {err * 100:+.1f}%")
    assert abs(err) <= 0.25, m


def test_ollama_clients_use_the_real_model_through_kittyd(daemon):
    """The official ollama client against kittyd's Ollama API, a real llama-server behind it."""
    import ollama

    client = ollama.Client(host=daemon, timeout=180)
    r = client.chat(model="smol", messages=[{"role": "user", "content": "What is the capital of France?"}],
                    options={"num_predict": 12, "temperature": 0})
    assert r.done and r.message.content.strip(), r
    assert r.eval_count > 0 and r.prompt_eval_count > 0 and r.done_reason in ("stop", "length"), r
    parts = list(client.generate(model="smol", prompt="The sky is", stream=True, options={"num_predict": 8}))
    assert parts[-1].done and "".join(p.response for p in parts).strip(), parts
    shown = client.show("smol")
    assert shown.details.family == "llama" and shown.details.quantization_level, shown.details
    assert "smol" in [m.model for m in client.ps().models]


def _events(url: str, model: str) -> list[dict]:
    r = httpx.get(f"{url}/kitty/events", params={"model": model, "follow": "false"}, timeout=10)
    assert r.status_code == 200
    return [json.loads(line[6:]) for line in r.text.splitlines() if line.startswith("data: ")]


def test_load_progress_of_the_real_engine(daemon):
    """llama-server's own load lines move the start's phase: `loading` events with fractions that
    only grow, and `: loading N% (phase)` comments before the first token of a streamed request
    that asked for them (X-Kitty-Progress) and had to wait for the start."""
    httpx.post(f"{daemon}/kitty/workers/smol_progress/release", timeout=60).raise_for_status()
    before = {e["id"] for e in _events(daemon, "smol_progress")}
    lines = []
    with httpx.stream("POST", f"{daemon}/v1/chat/completions", timeout=180,
                      headers={"X-Kitty-Progress": "1"},
                      json={"model": "smol_progress", "max_tokens": 8, "stream": True,
                            "messages": [{"role": "user", "content": "Hi"}]}) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        assert r.headers["x-request-id"]
        lines = [line for line in r.iter_lines() if line]
    first_data = next(i for i, line in enumerate(lines) if line.startswith("data: "))
    comments = [line for line in lines[:first_data] if line.startswith(": loading")]
    assert comments, lines[:10]
    assert any("%" in c for c in comments), comments  # the engine told a phase, so a fraction
    assert lines[-1] == "data: [DONE]"
    assert not any(line.startswith(":") for line in lines[first_data:]), "comments only before the answer"

    loading = [e for e in _events(daemon, "smol_progress") if e["id"] not in before and e["kind"] == "loading"]
    phases = [e["reason"] for e in loading]
    # In load order, each once. Whether "loaded" is among them is a race: llama-server answers its
    # health check as it prints "model loaded", and the ready probe may land before the line is read.
    order = ["loading_model", "reading_metadata", "loading_tensors", "creating_context",
             "warming_up", "initializing_slots", "loaded"]
    assert phases and phases[0] == "loading_model", phases
    assert [order.index(p) for p in phases] == sorted({order.index(p) for p in phases}), phases
    fractions = [e["fraction"] for e in loading]
    assert fractions == sorted(fractions) and 0 < fractions[0] and fractions[-1] < 1, fractions
    kinds = [e["kind"] for e in _events(daemon, "smol_progress") if e["id"] not in before]
    assert kinds.index("spawned") < kinds.index("loading") and kinds[-1] == "ready", kinds

    # The official OpenAI client ignores the comments; the second load has the first to go by.
    from openai import OpenAI
    httpx.post(f"{daemon}/kitty/workers/smol_progress/release", timeout=60).raise_for_status()
    client = OpenAI(base_url=f"{daemon}/v1", api_key="none", timeout=180)
    stream = client.chat.completions.create(
        model="smol_progress", max_tokens=8, stream=True, extra_headers={"X-Kitty-Progress": "1"},
        messages=[{"role": "user", "content": "Hi"}])
    text = "".join((c.choices[0].delta.content or "") for c in stream if c.choices)
    assert text.strip()
    w = _worker(daemon, "smol_progress")
    assert w["status"] == "ready" and w["progress"] is None and w["load_seconds"] > 0, w


def test_a_failed_start_after_progress_ends_the_stream_with_an_error_event(daemon):
    """The answer began with progress comments, so a start that fails ends it with an SSE error
    event, which the OpenAI client raises."""
    from openai import APIError, OpenAI
    client = OpenAI(base_url=f"{daemon}/v1", api_key="none", timeout=120, max_retries=0)
    with pytest.raises(APIError) as info:
        for _ in client.chat.completions.create(
                model="truncated", max_tokens=4, stream=True, extra_headers={"X-Kitty-Progress": "1"},
                messages=[{"role": "user", "content": "Hi"}]):
            pass
    assert "truncated" in str(info.value), info.value
