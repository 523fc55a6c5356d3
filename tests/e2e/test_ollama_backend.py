"""The Ollama path on a real Ollama (issue 11): `ollama serve` built from its Go module
(scripts/install_ollama.sh), SmolLM2 imported into it from a Modelfile by kittyd itself.

- `backend: ollama`: load through /api/generate, serve through Ollama's OpenAI routes and, for
  kittyd's own Ollama API, straight through; release = unloaded and gone from /api/ps; Ollama
  dropping the model on its own is noticed.
- Supervision of the daemon kittyd started: SIGKILL → restarted; SIGSTOP → unhealthy, down,
  killed and restarted; the 4th failure in the hour → `down`, and the model's requests go to its
  fallback, a second kittyd as a `remote` model; `scripts/restart_ollama.sh` brings it back.
"""

import os
import signal
import subprocess
import time

import httpx
import pytest

from kitty_e2e import Kittyd, fake_model
from kitty_testkit import REPO, ollama_kittyd_config, pid_alive, require_binary, require_real_ollama, wait_until

pytestmark = pytest.mark.real_model

KEY = "sk-far-kittyd"
MODEL = "smol-ollama"
MSG = [{"role": "user", "content": "Say hello."}]


@pytest.fixture(scope="module")
def box(tmp_path_factory):
    ollama, gguf = require_real_ollama()
    tmp = tmp_path_factory.mktemp("ollama")
    kittyd = require_binary("KITTYD", "build/kittyd")
    fake = require_binary("FAKE_ENGINE", "build/fake_engine")
    far = Kittyd(kittyd, tmp / "far", {"tiny": fake_model(fake, "tiny")}, server={"api_keys": [KEY]}, admin_key=KEY)
    os.environ["KITTY_TEST_REMOTE_KEY"] = KEY
    models, sections, ourl = ollama_kittyd_config(
        tmp, ollama, gguf, MODEL, idle_shutdown_seconds=600, fallback=["cloud"],
        ollama={"health_interval_seconds": 1, "unhealthy_seconds": 1, "down_seconds": 3,
                "max_restarts_per_hour": 3, "start_timeout_seconds": 60})
    models["cloud"] = {"backend": "remote", "remote_url": far.url, "remote_model": "tiny",
                       "remote_api_key_env": "KITTY_TEST_REMOTE_KEY"}
    near = Kittyd(kittyd, tmp / "near", models, sections=sections)
    yield {"near": near, "far": far, "ollama_url": ourl, "tmp": tmp}
    pids = [p for p in [ollama_status(near).get("pid")] if p]
    near.stop(check=True)
    far.stop(check=True)
    os.environ.pop("KITTY_TEST_REMOTE_KEY", None)
    for p in pids:
        assert not pid_alive(p), "kittyd's ollama serve outlived it"


def ollama_status(d):
    r = d.admin("GET", "/kitty/ollama")
    assert r.status_code == 200, r.text
    return r.json()


def ollama_ps(url):
    return [m["name"] for m in httpx.get(f"{url}/api/ps", timeout=5).json()["models"]]


def chat(d, model=MODEL, **kw):
    return d.client.post("/v1/chat/completions", json={"model": model, "messages": MSG, "max_tokens": 8, **kw},
                         timeout=120)


def healthy_again(d, restarts):
    def ok():
        s = ollama_status(d)
        return s["health"] == "healthy" and s["restarts_last_hour"] == restarts and s
    return wait_until(ok, 60, 0.2)


def test_kittyd_starts_the_absent_daemon(box):
    near = box["near"]
    s = wait_until(lambda: (lambda s: s["health"] == "healthy" and s)(ollama_status(near)), 60, 0.2)
    assert s, ollama_status(near)
    assert s["started_by_kittyd"] and s["pid"] and s["version"] == "0.17.4", s
    near.seen_pids.add(s["pid"])
    r = httpx.get(f"{box['ollama_url']}/api/tags", timeout=5)  # seed §9.4
    assert r.status_code == 200


def test_load_serve_and_release_free_the_model_in_ollama(box):
    near, ourl = box["near"], box["ollama_url"]
    r = chat(near)
    assert r.status_code == 200, r.text + near.worker_log(MODEL)
    assert r.json()["choices"][0]["message"]["content"], r.json()
    assert r.headers["X-Kitty-Served-By"] == MODEL
    w = near.worker(MODEL)
    assert w["status"] == "ready" and w["backend"] == "ollama", w
    assert w["upstream"]["ollama_model"].startswith("smollm2") and w["upstream"]["size_bytes"] > 50 << 20, w
    assert "smollm2:latest" in ollama_ps(ourl)
    log = near.worker_log(MODEL)
    assert "creating 'smollm2'" in log and "loaded 'smollm2'" in log, log

    near.release(MODEL)
    assert near.worker(MODEL)["status"] == "stopped"
    assert ollama_ps(ourl) == [], "stopped in kittyd means unloaded in Ollama"


def test_kittyds_ollama_api_passes_through_to_an_ollama_backend(box):
    ollama_client = pytest.importorskip("ollama")
    near, ourl = box["near"], box["ollama_url"]
    c = ollama_client.Client(host=near.url)
    r = c.chat(model=MODEL, messages=MSG, options={"num_predict": 8, "temperature": 0})
    assert r.message.content and r.done, r
    parts = list(c.generate(model=MODEL, prompt="Once upon a time", stream=True, options={"num_predict": 8}))
    assert parts[-1].done and "".join(p.response for p in parts), parts
    assert MODEL in [m.model for m in c.ps().models]
    c.generate(model=MODEL, keep_alive=0)  # unload
    assert near.worker(MODEL)["status"] == "stopped"
    assert ollama_ps(ourl) == []


def test_ollama_dropping_the_model_on_its_own_is_noticed(box):
    near, ourl = box["near"], box["ollama_url"]
    near.ensure(MODEL)
    # Someone else tells Ollama to unload it (its own keep_alive or scheduler would do the same).
    httpx.post(f"{ourl}/api/generate", json={"model": "smollm2", "keep_alive": 0}, timeout=30)
    w = wait_until(lambda: (lambda w: w["status"] == "stopped" and w)(near.worker(MODEL)), 15, 0.2)
    assert w, near.worker(MODEL)
    assert w["last_exit"]["class"] == "evicted" and "on its own" in w["last_exit"]["message"], w
    assert chat(near).status_code == 200, "the next request loads it again"


def test_supervision_restarts_then_gives_up_and_requests_fall_back(box):
    near, ourl = box["near"], box["ollama_url"]
    # 1. SIGKILL: noticed (its exit), restarted, and the model loads again.
    pid = ollama_status(near)["pid"]
    os.kill(pid, signal.SIGKILL)
    s = healthy_again(near, 1)
    assert s and s["pid"] != pid, ollama_status(near)
    near.seen_pids.add(s["pid"])
    assert httpx.get(f"{ourl}/api/tags", timeout=5).status_code == 200
    assert wait_until(lambda: chat(near).status_code == 200, 60, 1), near.worker(MODEL)

    # 2. SIGSTOP: classed unhealthy, then down; the frozen daemon is killed and started again.
    pid = s["pid"]
    os.kill(pid, signal.SIGSTOP)
    seen = set()
    def restarted():
        st = ollama_status(near)
        seen.add(st["health"])
        return st["restarts_last_hour"] == 2 and st["health"] == "healthy" and st
    s = wait_until(restarted, 60, 0.1)
    assert s, ollama_status(near)
    assert "unhealthy" in seen and ({"down", "starting"} & seen), seen
    assert wait_until(lambda: not pid_alive(pid), 10), "the frozen daemon's process is gone"
    near.seen_pids.add(s["pid"])

    # 3. Once more, then the 4th failure in the hour: kittyd gives up.
    os.kill(s["pid"], signal.SIGKILL)
    s = healthy_again(near, 3)
    assert s, ollama_status(near)
    os.kill(s["pid"], signal.SIGKILL)
    s = wait_until(lambda: (lambda s: s["gave_up"] and s)(ollama_status(near)), 30, 0.2)
    assert s and s["health"] == "down" and not s["pid"], ollama_status(near)
    out = subprocess.run([str(require_binary("KITTYCTL", "build/kittyctl")), "--url", near.url, "ollama", "status"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 1 and "down" in out.stdout and "gave up" in out.stdout, out

    # Its model's requests go to the fallback at once: the remote kittyd.
    t0 = time.monotonic()
    r = chat(near)
    assert r.status_code == 200, r.text
    assert r.headers["X-Kitty-Served-By"] == "cloud"
    assert time.monotonic() - t0 < 10, "no wait for a daemon nobody restarts"

    # 4. The reset hook: scripts/restart_ollama.sh brings it back.
    env = dict(os.environ, KITTYCTL=str(require_binary("KITTYCTL", "build/kittyctl")))
    out = subprocess.run([str(REPO / "scripts" / "restart_ollama.sh"), "--url", near.url],
                         capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out
    assert "healthy" in out.stdout, out.stdout
    s = ollama_status(near)
    assert s["health"] == "healthy" and not s["gave_up"], s
    near.seen_pids.add(s["pid"])
    assert httpx.get(f"{ourl}/api/tags", timeout=5).status_code == 200
    r = chat(near)
    assert r.status_code == 200 and r.headers["X-Kitty-Served-By"] == MODEL, r.text
