"""Black-box tests of kittyd's OpenAI-compatible gateway and admin API (docs/API.md), with
fake_engine workers on real sockets.

One kittyd per module (`gw`) serves most tests; each test uses its own model(s) or releases what it
needs stopped, so the order does not matter. Tests needing other server settings start their own.
"""

import concurrent.futures
import json
import os
import re
import subprocess
import threading
import time

import httpx
import pytest
from openai import OpenAI

from kitty_e2e import Kittyd, fake_model
from kitty_testkit import group_alive, pid_alive, wait_until

PROMPT = "Say something deterministic"


def expected_text(prompt, tokens=16):
    """fake_engine's answer: "echo: <first 32 bytes of the prompt>" " tok1" … " tok<n-1>"."""
    return "echo: " + prompt[:32] + "".join(f" tok{i}" for i in range(1, tokens))


def chat_body(model, prompt=PROMPT, **kw):
    return {"model": model, "messages": [{"role": "user", "content": prompt}], **kw}


def sse_events(lines):
    """The `data:` payloads of an SSE stream, in order (as strings)."""
    out = []
    for line in lines:
        if line.startswith("data:"):
            out.append(line[len("data:"):].strip())
    return out


def chat_delta_text(events):
    text = ""
    for e in events:
        if e == "[DONE]":
            continue
        j = json.loads(e)
        for c in j.get("choices", []):
            text += (c.get("delta") or {}).get("content") or ""
    return text


def assert_error(r, status, code):
    assert r.status_code == status, f"expected {status} {code}, got {r.status_code}: {r.text}"
    body = r.json()
    assert isinstance(body.get("error"), dict), body
    err = body["error"]
    assert err.get("code") == code, body
    assert isinstance(err.get("message"), str) and err["message"], body
    assert isinstance(err.get("type"), str) and err["type"], body
    return err


@pytest.fixture(scope="module")
def gw(kittyd_bin, fake_bin, tmp_path_factory):
    f = fake_bin
    models = {
        "a": fake_model(f, "a", "--load-ms", "100", aliases=["alpha"]),
        "b": fake_model(f, "b", "--log-requests"),
        "slow": fake_model(f, "slow", "--token-ms", "50", "--tokens", "100"),
        "longstream": fake_model(f, "longstream", "--token-ms", "50", "--tokens", "100"),
        "broken": fake_model(f, "broken", "--load-ms", "100", "--fail-on-start"),
        "crashy": fake_model(f, "crashy", "--crash-mid-stream"),
        "burst": fake_model(f, "burst", "--load-ms", "300"),
        "held": fake_model(f, "held", idle_shutdown_seconds=1),
        "admin": fake_model(f, "admin"),
    }
    d = Kittyd(kittyd_bin, tmp_path_factory.mktemp("gw"), models,
               server={"max_body_bytes": "1MiB"})
    yield d
    d.stop(check=True)


@pytest.fixture(autouse=True)
def fresh_connections(request):
    """Each test talks to the module's kittyd over connections of its own, so that a connection a
    previous test left in a bad state cannot fail it (keep-alive reuse has a test of its own)."""
    if "gw" not in request.fixturenames:
        yield
        return
    d = request.getfixturevalue("gw")
    d.client.close()
    d.client = httpx.Client(base_url=d.url, timeout=30)
    yield
    d.client.close()
    d.client = httpx.Client(base_url=d.url, timeout=30)


def post(d, path, body=None, **kw):
    if body is not None and "content" not in kw:
        kw["json"] = body
    return d.client.post(path, **kw)


# --- streaming ------------------------------------------------------------------------------------


def test_streamed_chat_arrives_as_ordered_sse_events_httpx(gw):
    events = []
    with gw.client.stream("POST", "/v1/chat/completions",
                          json=chat_body("a", stream=True)) as r:
        assert r.status_code == 200, r.read()
        assert r.headers["content-type"].startswith("text/event-stream")
        events = sse_events(r.iter_lines())
    assert len(events) > 3, events
    assert events[-1] == "[DONE]"
    assert events.count("[DONE]") == 1
    chunks = [json.loads(e) for e in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chat_delta_text(events) == expected_text(PROMPT)
    assert chunks[-1]["choices"][0]["finish_reason"] in ("stop", "length") or any(
        c["choices"] and c["choices"][0].get("finish_reason") for c in chunks)


def test_streamed_chat_with_the_openai_sdk(gw):
    client = OpenAI(base_url=f"{gw.url}/v1", api_key="x", max_retries=0)
    stream = client.chat.completions.create(
        model="a", messages=[{"role": "user", "content": PROMPT}], stream=True)
    pieces = []
    n = 0
    for chunk in stream:
        n += 1
        if chunk.choices and chunk.choices[0].delta.content:
            pieces.append(chunk.choices[0].delta.content)
    assert n > 3
    assert "".join(pieces) == expected_text(PROMPT)


def test_keep_alive_connection_serves_requests_after_a_stream(gw):
    """One connection: streamed, non-streamed, streamed, non-streamed (clients such as the openai
    SDK reuse their connections)."""
    with httpx.Client(base_url=gw.url, timeout=30,
                      limits=httpx.Limits(max_connections=1, max_keepalive_connections=1)) as c:
        for i in range(2):
            with c.stream("POST", "/v1/completions",
                          json={"model": "a", "prompt": f"s{i}", "max_tokens": 3,
                                "stream": True}) as r:
                assert r.status_code == 200
                events = sse_events(r.iter_lines())
            assert events[-1] == "[DONE]"
            r = c.post("/v1/completions", json={"model": "a", "prompt": f"n{i}", "max_tokens": 3})
            assert r.status_code == 200, r.text
            assert r.json()["choices"][0]["text"] == expected_text(f"n{i}", 3)


def test_non_streamed_answer_is_the_workers_json_unchanged(gw):
    body = chat_body("a", max_tokens=5)
    r = post(gw, "/v1/chat/completions", body)
    assert r.status_code == 200, r.text
    via_gateway = r.json()
    port = gw.worker("a")["port"]
    direct = httpx.post(f"http://127.0.0.1:{port}/v1/chat/completions", json=body, timeout=10)
    assert direct.status_code == 200, direct.text
    direct = direct.json()
    for j in (via_gateway, direct):
        j.pop("id", None)
        j.pop("created", None)
    assert via_gateway == direct
    assert via_gateway["choices"][0]["message"]["content"] == expected_text(PROMPT, 5)

    client = OpenAI(base_url=f"{gw.url}/v1", api_key="x", max_retries=0)
    c = client.completions.create(model="a", prompt="plain completion", max_tokens=3)
    assert c.choices[0].text == expected_text("plain completion", 3)


def test_two_models_in_turn(gw):
    for model in ("a", "b"):
        r = post(gw, "/v1/completions", {"model": model, "prompt": f"to {model}", "max_tokens": 2})
        assert r.status_code == 200, r.text
        assert r.json()["model"] == model
        assert r.json()["choices"][0]["text"] == expected_text(f"to {model}", 2)
    ws = gw.workers()
    assert ws["a"]["status"] == "ready" and ws["b"]["status"] == "ready"
    assert ws["a"]["pid"] != ws["b"]["pid"]


# --- request errors -------------------------------------------------------------------------------


def test_unknown_model_is_404_with_the_available_list(gw):
    r = post(gw, "/v1/chat/completions", chat_body("nope"))
    err = assert_error(r, 404, "model_not_found")
    assert "nope" in err["message"]
    for m in ("a", "b", "broken", "slow"):
        assert re.search(rf"\b{m}\b", err["message"]), err["message"]
    assert set(err["available"]) >= {"a", "b", "broken", "slow", "crashy", "burst"}


def test_invalid_json_is_400(gw):
    r = post(gw, "/v1/chat/completions", content=b"{not json",
             headers={"Content-Type": "application/json"})
    assert_error(r, 400, "invalid_json")


def test_missing_model_is_400(gw):
    r = post(gw, "/v1/chat/completions", {"messages": [{"role": "user", "content": "hi"}]})
    assert_error(r, 400, "missing_model")


def test_body_over_the_limit_is_413(gw):
    big = {"model": "a", "prompt": "x" * (1024 * 1024 + 10)}
    r = post(gw, "/v1/completions", big)
    assert_error(r, 413, "body_too_large")
    # The daemon is still fine afterwards.
    assert gw.client.get("/health").status_code == 200


def test_worker_that_fails_to_start_is_503_with_the_log_tail(gw):
    r = post(gw, "/v1/chat/completions", chat_body("broken"))
    err = assert_error(r, 503, "worker_start_failed")
    assert "fake failure" in err["message"], err
    assert any("fake failure" in line for line in err.get("log_tail", [])), err
    assert gw.worker("broken")["status"] == "failed"
    gw.release("broken")


def test_upstream_dies_before_answering_is_502(gw):
    r = post(gw, "/v1/chat/completions", chat_body("crashy"))
    assert_error(r, 502, "upstream_error")


def test_upstream_dies_mid_stream_ends_with_an_error_event(gw):
    with gw.client.stream("POST", "/v1/chat/completions",
                          json=chat_body("crashy", stream=True)) as r:
        assert r.status_code == 200, r.read()
        events = sse_events(r.iter_lines())
    assert len(events) >= 2, events
    assert "[DONE]" not in events
    body_events = []
    for e in events:
        try:
            body_events.append(json.loads(e))
        except ValueError:
            pytest.fail(f"SSE event is not JSON (an event cut short or two run together): {e!r}\n"
                        f"all events: {events}")
    assert "choices" in body_events[0]
    last = body_events[-1]
    assert "error" in last, events
    assert last["error"]["code"] == "upstream_error", last
    assert isinstance(last["error"]["message"], str) and last["error"]["message"]
    # Some of the answer came through before the crash.
    assert chat_delta_text(events[:-1]).startswith("echo: ")


# --- client disconnect ----------------------------------------------------------------------------


def test_client_disconnect_mid_stream_cancels_the_upstream_request(gw):
    w = gw.ensure("slow")
    port = w["port"]
    with httpx.Client(base_url=gw.url, timeout=30) as c:
        with c.stream("POST", "/v1/chat/completions", json=chat_body("slow", stream=True)) as r:
            assert r.status_code == 200
            got = 0
            for line in r.iter_lines():
                if line.startswith("data:"):
                    got += 1
                    if got == 2:
                        break
    # The connection is closed now (the client and its pool are gone).

    def cancelled():
        ws = gw.worker("slow")
        st = httpx.get(f"http://127.0.0.1:{port}/fake/stats", timeout=5).json()
        return ws["in_flight"] == 0 and st["cancelled"] >= 1 and st["in_flight"] == 0

    assert wait_until(cancelled, 1.5), (gw.worker("slow"),
                                      httpx.get(f"http://127.0.0.1:{port}/fake/stats").json())
    r = post(gw, "/v1/completions", {"model": "slow", "prompt": "again", "max_tokens": 2})
    assert r.status_code == 200, r.text
    assert r.json()["choices"][0]["text"] == expected_text("again", 2)


# --- one start for many waiters -------------------------------------------------------------------


def test_32_concurrent_requests_to_a_stopped_model_start_it_once(gw):
    assert gw.worker("burst")["status"] == "stopped"
    barrier = threading.Barrier(32)

    def one(i):
        with httpx.Client(base_url=gw.url, timeout=30) as c:
            barrier.wait()
            r = c.post("/v1/completions",
                       json={"model": "burst", "prompt": f"req {i}", "max_tokens": 2})
            return r.status_code, r.json()

    with concurrent.futures.ThreadPoolExecutor(32) as pool:
        results = list(pool.map(one, range(32)))
    assert [s for s, _ in results] == [200] * 32, [r for r in results if r[0] != 200][:3]
    for i, (_, j) in enumerate(results):
        assert j["choices"][0]["text"] == expected_text(f"req {i}", 2)
    w = gw.worker("burst")
    assert w["status"] == "ready"
    assert w["requests_total"] == 32, w
    log = gw.worker_log("burst")
    assert log.count("fake_engine: listening on") == 1, log
    assert f"pid={w['pid']}" in log


# --- /v1/models and aliases -----------------------------------------------------------------------


def test_models_lists_every_model_with_status_and_aliases(gw):
    r = gw.client.get("/v1/models")
    assert r.status_code == 200, r.text
    j = r.json()
    assert j["object"] == "list"
    by_id = {m["id"]: m for m in j["data"]}
    assert set(by_id) == {"a", "b", "slow", "longstream", "broken", "crashy", "burst", "held",
                          "admin"}
    for m in by_id.values():
        assert m["object"] == "model" and m["owned_by"] == "kitty"
        assert m["status"] in ("stopped", "starting", "ready", "stopping", "failed")
        assert isinstance(m["aliases"], list)
        assert m["backend"] == "command"
    assert by_id["a"]["aliases"] == ["alpha"]


def test_an_alias_routes_to_its_model(gw):
    r = post(gw, "/v1/completions", {"model": "alpha", "prompt": "via alias", "max_tokens": 2})
    assert r.status_code == 200, r.text
    assert r.json()["model"] == "a"
    assert gw.worker("a")["status"] == "ready"


# --- admin ----------------------------------------------------------------------------------------


def test_ensure_then_release_kills_the_worker(gw):
    w = gw.ensure("admin")
    assert w["status"] == "ready" and isinstance(w["pid"], int) and w["pid"] > 0
    pid = w["pid"]
    assert pid_alive(pid)
    assert gw.admin("GET", "/kitty/workers/admin").json()["pid"] == pid
    r = gw.release("admin")
    assert r["status"] == "stopped"
    # Release returns once the process group is gone.
    assert not pid_alive(pid), f"pid {pid} alive after release returned"
    assert not group_alive(pid)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert gw.worker("admin")["status"] == "stopped"


def test_unknown_worker_is_404(gw):
    r = gw.admin("GET", "/kitty/workers/nope")
    err = assert_error(r, 404, "model_not_found")
    assert "a" in err["available"]


def test_forced_release_cuts_a_long_stream(gw):
    gw.ensure("longstream")
    result = {}

    def consume():
        t0 = time.monotonic()
        try:
            with httpx.Client(base_url=gw.url, timeout=30) as c:
                with c.stream("POST", "/v1/chat/completions",
                              json=chat_body("longstream", stream=True)) as r:
                    result["status"] = r.status_code
                    events = []
                    try:
                        for line in r.iter_lines():
                            if line.startswith("data:"):
                                events.append(line[5:].strip())
                    except httpx.HTTPError as exc:
                        result["exc"] = repr(exc)
                    result["events"] = events
        finally:
            result["seconds"] = time.monotonic() - t0

    t = threading.Thread(target=consume)
    t.start()
    assert wait_until(lambda: gw.worker("longstream")["in_flight"] == 1, 5)
    time.sleep(0.3)  # a few tokens out
    w = gw.release("longstream", force=True)
    assert w["status"] == "stopped"
    t.join(10)
    assert not t.is_alive()
    assert result["status"] == 200
    events = result["events"]
    assert "[DONE]" not in events, events
    # 100 tokens at 50 ms would take 5 s; the cut ends it far sooner.
    assert len([e for e in events if '"content"' in e]) < 90, events


def test_release_all(gw):
    pids = [gw.ensure(m)["pid"] for m in ("a", "b")]
    r = gw.admin("POST", "/kitty/workers/release-all")
    assert r.status_code == 200, r.text
    ws = {w["model_id"]: w for w in r.json()["workers"]}
    assert all(w["status"] in ("stopped", "failed") for w in ws.values()), ws
    assert ws["a"]["status"] == "stopped" and ws["b"]["status"] == "stopped"
    assert not any(pid_alive(p) for p in pids)


def test_logs_tail(gw):
    gw.ensure("b")
    for i in range(6):  # --log-requests: a line per request
        r = post(gw, "/v1/completions", {"model": "b", "prompt": f"log {i}", "max_tokens": 1})
        assert r.status_code == 200
    r = gw.admin("GET", "/kitty/workers/b/logs?tail=5")
    assert r.status_code == 200, r.text
    j = r.json()
    assert j["model_id"] == "b"
    assert len(j["lines"]) == 5, j
    everything = gw.admin("GET", "/kitty/workers/b/logs?tail=1000").json()["lines"]
    assert len(everything) > 5
    assert everything[-5:] == j["lines"]


def test_hold_keeps_an_idle_model_alive_while_renewed(gw):
    gw.release("held")
    r = gw.admin("POST", "/kitty/workers/held/hold", json={"lease_seconds": 2, "owner": "e2e"})
    assert r.status_code == 200, r.text
    h = r.json()
    assert h["model_id"] == "held" and h["hold_id"] and h["lease_seconds"] == 2
    w = gw.worker("held")
    assert w["status"] == "ready"
    pid = w["pid"]
    assert [x["owner"] for x in w["holds"]] == ["e2e"]
    # idle_shutdown_seconds is 1: only the renewed hold keeps it up for 3 s.
    t_end = time.monotonic() + 3
    while time.monotonic() < t_end:
        time.sleep(0.7)
        rr = gw.admin("POST", f"/kitty/holds/{h['hold_id']}/renew")
        assert rr.status_code == 200, rr.text
        assert rr.json()["hold_id"] == h["hold_id"]
    w = gw.worker("held")
    assert w["status"] == "ready" and w["pid"] == pid, w
    d = gw.admin("DELETE", f"/kitty/holds/{h['hold_id']}")
    assert d.status_code == 200, d.text
    assert d.json()["released"] is True
    # Now the idle countdown runs and the model stops on its own.
    assert wait_until(lambda: gw.worker("held")["status"] == "stopped", 6), gw.worker("held")
    assert wait_until(lambda: not pid_alive(pid), 2)


def test_renew_of_an_unknown_hold_is_404(gw):
    r = gw.admin("POST", "/kitty/holds/h-does-not-exist/renew")
    assert_error(r, 404, "hold_not_found")


# --- API keys (a daemon of its own) ---------------------------------------------------------------


def test_api_keys_guard_v1_and_admin_keys_guard_kitty(start_kittyd, fake_bin):
    d = start_kittyd({"a": fake_model(fake_bin, "a")}, name="keys",
                     server={"api_keys": ["k1"], "admin_keys": ["adm"]}, admin_key="adm")
    c = httpx.Client(base_url=d.url, timeout=30)
    try:
        body = {"model": "a", "prompt": "key", "max_tokens": 1}
        assert_error(c.post("/v1/completions", json=body), 401, "invalid_api_key")
        assert_error(c.post("/v1/completions", json=body, headers={"Authorization": "Bearer nope"}),
                     401, "invalid_api_key")
        assert_error(c.get("/v1/models"), 401, "invalid_api_key")
        ok = c.post("/v1/completions", json=body, headers={"Authorization": "Bearer k1"})
        assert ok.status_code == 200, ok.text
        assert c.get("/v1/models", headers={"Authorization": "Bearer k1"}).status_code == 200
        # An admin key may do what an API key may: kittyctl carries one key for both.
        assert c.get("/v1/models", headers={"Authorization": "Bearer adm"}).status_code == 200
        out = subprocess.run([os.environ.get("KITTYCTL", "build/kittyctl"), "--url", d.url, "--api-key", "adm", "models"],
                             capture_output=True, text=True, timeout=30)
        assert out.returncode == 0 and "a" in out.stdout, out
        sdk = OpenAI(base_url=f"{d.url}/v1", api_key="k1", max_retries=0)
        assert sdk.completions.create(model="a", prompt="sdk", max_tokens=1).choices[0].text

        assert_error(c.get("/kitty/system/workers"), 401, "invalid_api_key")
        assert_error(c.get("/kitty/system/workers", headers={"Authorization": "Bearer k1"}),
                     401, "invalid_api_key")
        adm = c.get("/kitty/system/workers", headers={"Authorization": "Bearer adm"})
        assert adm.status_code == 200, adm.text
        d._remember(adm)
        h = c.get("/health")
        assert h.status_code == 200 and h.json()["status"] == "ok"
    finally:
        c.close()


def test_one_model_is_openais_model_object(start_kittyd, fake_bin):
    d = start_kittyd({"small": fake_model(fake_bin, "small", alias="tiny")})
    client = OpenAI(base_url=d.url + "/v1", api_key="none")
    m = client.models.retrieve("tiny")
    assert m.id == "small" and m.object == "model" and m.owned_by == "kitty", m
    assert isinstance(m.created, int) and m.created > 1_600_000_000, m
    listed = {x.id: x for x in client.models.list().data}
    assert listed["small"].model_extra["aliases"] == m.model_extra["aliases"] == ["tiny"], m
