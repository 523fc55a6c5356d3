"""`backend: remote` (issue 11): an OpenAI-compatible server kittyd never starts or stops, here a
second kittyd with an API key. The key comes from an environment variable named in the config and
is sent upstream, never shown in status or logs; a remote that is down makes the model fail, and
its requests go to the fallback chain like any model's."""

import signal

from kitty_e2e import fake_model
from kitty_testkit import wait_until

KEY = "sk-remote-secret-4242"


def chat(d, model, **kw):
    return d.client.post("/v1/chat/completions",
                         json={"model": model, "messages": [{"role": "user", "content": "hi"}], **kw})


def remote(url, **keys):
    m = {"backend": "remote", "remote_url": url, "remote_model": "tiny",
         "remote_api_key_env": "KITTY_TEST_REMOTE_KEY", "start_timeout_seconds": 20}
    m.update(keys)
    return m


def test_a_remote_model_serves_through_the_other_server_with_its_key(start_kittyd, fake_bin, monkeypatch):
    far = start_kittyd({"tiny": fake_model(fake_bin, "tiny")}, name="far", server={"api_keys": [KEY]}, admin_key=KEY)
    monkeypatch.setenv("KITTY_TEST_REMOTE_KEY", KEY)
    near = start_kittyd({"cloud": remote(far.url)}, name="near")

    r = chat(near, "cloud")
    assert r.status_code == 200, r.text
    assert r.headers["X-Kitty-Served-By"] == "cloud"
    assert far.worker("tiny")["status"] == "ready", "the far kittyd served it under its own name"
    s = near.worker("cloud")
    assert s["status"] == "ready" and s["backend"] == "remote", s
    assert s["upstream"]["remote_url"] == far.url and s["upstream"]["remote_model"] == "tiny", s
    # Streaming passes through too.
    with near.client.stream("POST", "/v1/chat/completions",
                            json={"model": "cloud", "stream": True,
                                  "messages": [{"role": "user", "content": "hi"}]}) as st:
        assert st.status_code == 200
        body = "".join(st.iter_text())
    assert "data: [DONE]" in body

    # Releasing the remote model stops nothing remote.
    near.release("cloud")
    assert near.worker("cloud")["status"] == "stopped"
    assert far.worker("tiny")["status"] == "ready"

    # The key shows nowhere: not in status, not in the daemon's or the agent's logs.
    assert KEY not in near.admin("GET", "/kitty/system/workers").text
    assert KEY not in near.log_text(10_000)
    assert KEY not in near.worker_log("cloud")


def test_a_refused_or_missing_key_is_a_clear_start_failure(start_kittyd, fake_bin, monkeypatch):
    far = start_kittyd({"tiny": fake_model(fake_bin, "tiny")}, name="far", server={"api_keys": [KEY]}, admin_key=KEY)
    monkeypatch.setenv("KITTY_TEST_REMOTE_KEY", "sk-wrong")
    monkeypatch.delenv("KITTY_TEST_NO_SUCH_KEY", raising=False)
    near = start_kittyd({"cloud": remote(far.url),
                         "nokey": remote(far.url, remote_api_key_env="KITTY_TEST_NO_SUCH_KEY")}, name="near")
    r = chat(near, "cloud")
    assert r.status_code in (502, 503), r.text
    err = r.json()["error"]
    assert "refused" in err["message"] or "401" in err["message"], err
    r = chat(near, "nokey")
    assert r.status_code in (500, 502, 503), r.text
    assert "KITTY_TEST_NO_SUCH_KEY" in r.json()["error"]["message"]


def test_a_remote_is_the_last_link_of_a_fallback_chain(start_kittyd, fake_bin, monkeypatch):
    far = start_kittyd({"tiny": fake_model(fake_bin, "tiny")}, name="far", server={"api_keys": [KEY]}, admin_key=KEY)
    monkeypatch.setenv("KITTY_TEST_REMOTE_KEY", KEY)
    near = start_kittyd({
        "local": fake_model(fake_bin, "local", "--fail-on-start", fallback=["cloud"]),
        "cloud": remote(far.url),
    }, name="near")
    r = chat(near, "local")
    assert r.status_code == 200, r.text
    assert r.headers["X-Kitty-Served-By"] == "cloud"

    # The remote goes away: the agent notices, the model fails, and says why.
    far.proc.send_signal(signal.SIGKILL)
    far.proc.wait()
    assert wait_until(lambda: near.worker("cloud")["status"] in ("failed", "stopped"), 30), near.worker("cloud")
    r = chat(near, "cloud")
    assert r.status_code in (502, 503), r.text
