"""Every error code of docs/API.md, made by a real kittyd from outside: the request that causes it,
the status, the body's `type`, `code` and `reason`, and the Python client's exception.

The expected status of each code and the set of valid reasons are read from docs/API.md's tables
(kitty_testkit), so this file checks the daemon against the contract, not against a copy of it;
`test_every_documented_code_is_triggered_here` fails when the docs gain a code nobody triggers.

Where the Python client can make the request itself it does, and the test checks the exception it
raises. Requests no client would send (bad JSON, odd methods, raw-socket edge cases) are made with
httpx or a socket, and their answer goes through the client's own mapping (`error_from_response`),
which is what the client would raise.

One kittyd per module (`errd`) serves the codes its config allows; codes that need other server
settings, or that end the daemon, start their own.
"""

import json
import os
import signal
import socket
import threading
import time

import httpx
import pytest

from kitty_client import (
    AuthenticationError,
    BadRequest,
    HoldNotFound,
    KittyClient,
    KittyError,
    MethodNotAllowed,
    ModelNotFound,
    NoRoom,
    NoRoomBusy,
    RequestTimeout,
    RequestTooLarge,
    RouteNotFound,
    ServerBusy,
    ShuttingDown,
    Unsupported,
    UpstreamError,
    WorkerStartFailed,
    WorkerStartTimeout,
    WorkerStopping,
    error_from_payload,
)
from kitty_client.errors import error_from_response
from kitty_e2e import Kittyd, fake_model
from kitty_testkit import (
    documented_error_codes,
    documented_error_reasons,
    documented_error_type,
    in_thread,
    joined,
    pid_alive,
    post_head,
    raw_request,
    read_response,
    wait_until,
)

DOC_STATUS = documented_error_codes()
DOC_REASONS = set(documented_error_reasons())
# Only kittyd's own failures produce internal_error ("a client should never see them").
NOT_TRIGGERABLE = {"internal_error"}

TRIGGERED = {}  # code -> names of the tests here that make kittyd answer it


def triggers(*codes):
    """Marks a test as one that makes kittyd answer `codes` (for the coverage test at the end)."""
    def mark(fn):
        for code in codes:
            TRIGGERED.setdefault(code, []).append(fn.__name__)
        return fn
    return mark


# --- checking an answer against the contract -------------------------------------------------------


def check_error(status, body, code, reason=None, *, cls):
    """`status` and `body` (bytes) are kittyd's answer; it must be docs/API.md's status for `code`,
    an OpenAI-shaped error with the documented `type`, `code` and `reason` (None: no reason), and
    the Python client must map it to exactly `cls`. Returns the `error` object."""
    if reason is not None:
        assert (code, reason) in DOC_REASONS, f"test bug: ({code}, {reason}) is not in docs/API.md"
    want = DOC_STATUS[code]
    assert status == want, f"expected {want} {code}/{reason}, got {status}: {body[:600]!r}"
    try:
        payload = json.loads(body)
    except ValueError:
        pytest.fail(f"HTTP {status} body is not JSON: {body[:600]!r}")
    err = payload.get("error") if isinstance(payload, dict) else None
    assert isinstance(err, dict), payload
    assert err.get("code") == code, err
    assert err.get("type") == documented_error_type(status), err
    assert isinstance(err.get("message"), str) and err["message"], err
    assert err.get("reason") == reason, err
    e = error_from_response(status, body)
    assert type(e) is cls, f"the client maps {code}/{reason} to {type(e).__name__}, not {cls.__name__}"
    assert (e.status, e.code, e.reason) == (status, code, reason)
    return err


def check_response(r, code, reason=None, *, cls):
    return check_error(r.status_code, r.content, code, reason, cls=cls)


def check_raised(exc, code, reason=None, *, cls):
    """An exception the client raised for a request it made itself."""
    assert type(exc) is cls, f"{type(exc).__name__}: {exc}"
    assert (exc.status, exc.code, exc.reason) == (DOC_STATUS[code], code, reason), repr(exc)


def client_error(call):
    """The KittyError `call()` raises; fails the test if it returns."""
    with pytest.raises(KittyError) as ei:
        call()
    return ei.value


# --- the module's daemon --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def foreign_listener():
    """A port held by a process that is not a worker (this one): a fixed-port model cannot bind."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    yield s
    s.close()


@pytest.fixture(scope="module")
def errd(kittyd_bin, fake_bin, tmp_path_factory, foreign_listener):
    tmp = tmp_path_factory.mktemp("errors")
    text_exe = tmp / "not_a_program.txt"
    text_exe.write_text("this is a text file, not a program\n")
    text_exe.chmod(0o755)  # executable bit, no #! line, not ELF: execve fails with ENOEXEC
    not_gguf = tmp / "not_a_model.gguf"
    not_gguf.write_bytes(b"this is not a model\n" * 50)
    f = fake_bin
    models = {
        "a": fake_model(f, "a"),
        "slow": fake_model(f, "slow", "--token-ms", "100", "--tokens", "60"),  # 6 s per answer
        "slowstart": fake_model(f, "slowstart", "--load-ms", "5000"),
        "exits": fake_model(f, "exits", "--load-ms", "100", "--fail-on-start"),
        "textfile": {"backend": "command", "command": [str(text_exe), "--port", "${PORT}"]},
        "nomodelpath": {"backend": "command",
                        "command": [str(f), "--port", "${PORT}", "--model", "${MODEL_PATH}"]},
        "notgguf": {"backend": "llama_server", "llama_server_bin": str(f),
                    "model_path": str(not_gguf)},
        "fixedport": fake_model(f, "fixedport", port=foreign_listener.getsockname()[1]),
        "neverhealthy": fake_model(f, "neverhealthy", "--never-healthy", start_timeout_seconds=1),
    }
    d = Kittyd(kittyd_bin, tmp, models, server={"max_body_bytes": "1MiB"})
    yield d
    d.stop(check=True)


@pytest.fixture
def http(errd):
    """A fresh connection pool per test: a connection an earlier test left odd cannot fail this one."""
    with httpx.Client(base_url=errd.url, timeout=30) as c:
        yield c


@pytest.fixture
def kitty(errd):
    with KittyClient(errd.url, timeout=60) as c:
        yield c


def completion(model, **kw):
    return {"model": model, "prompt": "x", "max_tokens": 2, **kw}


# --- 400 ------------------------------------------------------------------------------------------


@triggers("invalid_json")
def test_invalid_json(http):
    r = http.post("/v1/chat/completions", content=b"{not json",
                  headers={"Content-Type": "application/json"})
    check_response(r, "invalid_json", cls=BadRequest)


@triggers("missing_model")
def test_missing_model(http):
    r = http.post("/v1/completions", json={"prompt": "no model"})
    check_response(r, "missing_model", cls=BadRequest)


@triggers("invalid_request")
def test_invalid_request_lease_out_of_range(errd, http, kitty):
    r = http.post("/kitty/workers/a/hold", json={"lease_seconds": -1})
    check_response(r, "invalid_request", cls=BadRequest)
    e = client_error(lambda: kitty.create_hold("a", lease_seconds=-1))
    check_raised(e, "invalid_request", cls=BadRequest)


@triggers("invalid_request")
def test_invalid_request_malformed_request_line(errd):
    # docs/API.md: invalid_request also covers "the request line/target is malformed".
    r = raw_request(errd.port, b"GET /health HTTX/1.1\r\nHost: kittyd\r\n\r\n")
    check_error(r.status, r.body, "invalid_request", cls=BadRequest)


# --- 401 ------------------------------------------------------------------------------------------


@triggers("invalid_api_key")
def test_invalid_api_key(start_kittyd, fake_bin):
    d = start_kittyd({"a": fake_model(fake_bin, "a")}, name="keys",
                     server={"api_keys": ["right"]}, admin_key="right")
    r = httpx.post(d.url + "/v1/completions", json=completion("a"),
                   headers={"Authorization": "Bearer wrong"}, timeout=30)
    check_response(r, "invalid_api_key", cls=AuthenticationError)
    with KittyClient(d.url, api_key="wrong") as c:
        check_raised(client_error(lambda: c.complete("a", "x")), "invalid_api_key",
                     cls=AuthenticationError)
        # admin_keys fall back to api_keys: the admin routes refuse the wrong key too.
        check_raised(client_error(c.workers), "invalid_api_key", cls=AuthenticationError)


# --- 404 ------------------------------------------------------------------------------------------


@triggers("model_not_found")
def test_model_not_found(http, kitty):
    r = http.post("/v1/completions", json=completion("no-such-model"))
    err = check_response(r, "model_not_found", cls=ModelNotFound)
    assert "a" in err["available"] and "slow" in err["available"], err
    e = client_error(lambda: kitty.complete("no-such-model", "x"))
    check_raised(e, "model_not_found", cls=ModelNotFound)
    assert e.model == "no-such-model" and "a" in e.available


@triggers("not_found")
def test_not_found_unknown_route(http):
    for path in ("/v1/no-such-route", "/kitty/no-such-route", "/nothing/here"):
        check_response(http.get(path), "not_found", cls=RouteNotFound)


@triggers("not_found")
def test_not_found_target_that_normalises_outside_the_routes(errd):
    # docs/API.md: "also any target that normalises outside kittyd's routes". /v1/../../shutdown
    # must not reach a worker's /shutdown.
    pid = errd.ensure("a")["pid"]
    body = json.dumps(completion("a")).encode()
    r = raw_request(errd.port, post_head(b"/v1/../../shutdown", len(body)) + body)
    check_error(r.status, r.body, "not_found", cls=RouteNotFound)
    time.sleep(0.3)  # a forwarded /shutdown would be stopping the worker by now
    w = errd.worker("a")
    assert w["status"] == "ready" and w["pid"] == pid and pid_alive(pid), w


@triggers("hold_not_found")
def test_hold_not_found(http, kitty):
    check_response(http.post("/kitty/holds/h-does-not-exist/renew"), "hold_not_found",
                   cls=HoldNotFound)
    check_response(http.delete("/kitty/holds/h-does-not-exist"), "hold_not_found",
                   cls=HoldNotFound)
    check_raised(client_error(lambda: kitty.renew_hold("h-does-not-exist")), "hold_not_found",
                 cls=HoldNotFound)
    # A hold that existed and was dropped is as gone.
    h = kitty.create_hold("a", lease_seconds=30)
    kitty.drop_hold(h["hold_id"])
    check_raised(client_error(lambda: kitty.drop_hold(h["hold_id"])), "hold_not_found",
                 cls=HoldNotFound)


# --- 405 ------------------------------------------------------------------------------------------


@triggers("method_not_allowed")
def test_method_not_allowed(http):
    check_response(http.post("/health"), "method_not_allowed", cls=MethodNotAllowed)
    check_response(http.delete("/kitty/system/workers"), "method_not_allowed",
                   cls=MethodNotAllowed)


@triggers("method_not_allowed")
def test_method_not_allowed_on_a_gateway_route(http):
    # POST /v1/chat/completions exists; a GET of it is the wrong method, not an unknown route.
    check_response(http.get("/v1/chat/completions"), "method_not_allowed", cls=MethodNotAllowed)


# --- 408 ------------------------------------------------------------------------------------------


@triggers("request_timeout")
def test_request_timeout_on_a_header_that_never_ends(start_kittyd, fake_bin):
    d = start_kittyd({"a": fake_model(fake_bin, "a")}, name="slowheader",
                     server={"header_timeout_seconds": 1})
    with socket.create_connection(("127.0.0.1", d.port), timeout=10) as s:
        s.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: kittyd\r\nContent-Ty")  # and no more
        t0 = time.monotonic()
        r = read_response(s, timeout=10)
        waited = time.monotonic() - t0
    check_error(r.status, r.body, "request_timeout", cls=RequestTimeout)
    assert 0.8 <= waited <= 6, f"answered after {waited:.2f}s with header_timeout_seconds 1"
    assert r.closed, "kittyd kept the connection open after the 408"


# --- 413 / 431 ------------------------------------------------------------------------------------


@triggers("body_too_large")
def test_body_too_large(http, kitty):
    big = "x" * (1024 * 1024 + 10)  # over the module's max_body_bytes: 1MiB
    check_response(http.post("/v1/completions", json=completion("a", prompt=big)),
                   "body_too_large", cls=RequestTooLarge)
    check_raised(client_error(lambda: kitty.complete("a", big)), "body_too_large",
                 cls=RequestTooLarge)


@triggers("header_too_large")
def test_header_too_large(errd):
    body = json.dumps(completion("a")).encode()
    filler = b"X-Filler: " + b"a" * (70 * 1024) + b"\r\n"  # docs/API.md: the limit is 64 KiB
    r = raw_request(errd.port, post_head(b"/v1/completions", len(body), extra=filler) + body)
    check_error(r.status, r.body, "header_too_large", cls=RequestTooLarge)
    assert httpx.get(errd.url + "/health", timeout=10).status_code == 200


# --- 501 ------------------------------------------------------------------------------------------


@triggers("unsupported")
def test_unsupported_transfer_encoding(errd):
    body = json.dumps(completion("a")).encode()
    chunked = hex(len(body))[2:].encode() + b"\r\n" + body + b"\r\n0\r\n\r\n"
    head = (b"POST /v1/completions HTTP/1.1\r\nHost: kittyd\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: gzip, chunked\r\n\r\n")
    r = raw_request(errd.port, head + chunked)
    check_error(r.status, r.body, "unsupported", cls=Unsupported)


# --- 502 ------------------------------------------------------------------------------------------


def kill_when_in_flight(errd, model, pid):
    assert wait_until(lambda: errd.worker(model)["in_flight"] >= 1, 10), errd.worker(model)
    os.kill(pid, signal.SIGKILL)


@triggers("upstream_error")
def test_upstream_error_when_the_worker_is_killed_mid_request(errd, kitty):
    pid = errd.ensure("slow")["pid"]
    t, box = in_thread(lambda: httpx.post(errd.url + "/v1/completions", json=completion("slow", max_tokens=60),
                                          timeout=30))
    kill_when_in_flight(errd, "slow", pid)
    box = joined(t, box)
    assert "error" not in box, box["error"]
    check_response(box["result"], "upstream_error", "worker_crashed", cls=UpstreamError)

    # The same through the client.
    pid = errd.ensure("slow")["pid"]
    t, box = in_thread(lambda: kitty.complete("slow", "x", max_tokens=60))
    kill_when_in_flight(errd, "slow", pid)
    e = joined(t, box).get("error")
    check_raised(e, "upstream_error", "worker_crashed", cls=UpstreamError)


@triggers("upstream_error")
def test_upstream_error_event_when_the_worker_is_killed_mid_stream(errd, kitty):
    pid = errd.ensure("slow")["pid"]
    events = []
    with httpx.stream("POST", errd.url + "/v1/completions",
                      json=completion("slow", max_tokens=60, stream=True), timeout=30) as r:
        assert r.status_code == 200, r.read()
        for line in r.iter_lines():
            if line.startswith("data:"):
                events.append(line[len("data:"):].strip())
                if len(events) == 2:
                    os.kill(pid, signal.SIGKILL)
    last = json.loads(events[-1])
    err = last.get("error")
    assert isinstance(err, dict), events[-3:]
    assert (err.get("code"), err.get("reason")) == ("upstream_error", "worker_crashed"), err
    assert err.get("type") == "server_error" and err.get("message"), err
    e = error_from_payload(None, last)
    assert type(e) is UpstreamError and e.reason == "worker_crashed", repr(e)

    pid = errd.ensure("slow")["pid"]
    got = []

    def consume():
        for chunk in kitty.stream_complete("slow", "x", max_tokens=60):
            got.append(chunk)
            if len(got) == 2:
                os.kill(pid, signal.SIGKILL)

    e = client_error(consume)
    assert type(e) is UpstreamError and (e.code, e.reason) == ("upstream_error", "worker_crashed"), \
        repr(e)
    assert len(got) >= 2


# --- 503 worker_start_failed, one test per documented reason --------------------------------------


def check_start_failed(http, kitty, model, reason):
    err = check_response(http.post("/v1/completions", json=completion(model)),
                         "worker_start_failed", reason, cls=WorkerStartFailed)
    assert isinstance(err.get("log_tail"), list), err
    e = client_error(lambda: kitty.ensure(model))
    check_raised(e, "worker_start_failed", reason, cls=WorkerStartFailed)
    assert e.model == model
    return err, e


@triggers("worker_start_failed")
def test_worker_start_failed_exec_failed(errd, http, kitty):
    # issue 8: this answered HTTP 500 start_failed.
    err, e = check_start_failed(http, kitty, "textfile", "exec_failed")
    assert "not_a_program.txt" in err["message"], err


@triggers("worker_start_failed")
def test_worker_start_failed_exited(errd, http, kitty):
    err, e = check_start_failed(http, kitty, "exits", "exited")
    assert any("fake failure" in line for line in err["log_tail"]), err
    assert any("fake failure" in line for line in e.log_tail), e.log_tail


@triggers("worker_start_failed")
def test_worker_start_failed_port_in_use(errd, http, kitty, foreign_listener):
    err, _ = check_start_failed(http, kitty, "fixedport", "port_in_use")
    assert str(foreign_listener.getsockname()[1]) in err["message"], err


@triggers("worker_start_failed")
def test_worker_start_failed_launch_invalid(errd, http, kitty):
    err, _ = check_start_failed(http, kitty, "nomodelpath", "launch_invalid")
    assert "model_path" in err["message"], err


@triggers("worker_start_failed")
def test_worker_start_failed_model_file_invalid(errd, http, kitty):
    err, _ = check_start_failed(http, kitty, "notgguf", "model_file_invalid")
    assert "not_a_model.gguf" in err["message"], err


@triggers("worker_start_failed")
def test_worker_start_failed_no_free_port(start_kittyd, fake_bin):
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    try:
        port = holder.getsockname()[1]
        d = start_kittyd({"a": fake_model(fake_bin, "a")}, name="noport",
                         server={"auto_ports": f"{port}-{port}"})
        with httpx.Client(base_url=d.url, timeout=30) as http, KittyClient(d.url, timeout=30) as kitty:
            check_start_failed(http, kitty, "a", "no_free_port")
    finally:
        holder.close()


# --- 503 worker_stopping, shutting_down, server_busy ----------------------------------------------


@triggers("worker_stopping")
def test_worker_stopping_when_released_while_starting(errd, kitty):
    errd.release("slowstart")
    cli_t, cli_box = in_thread(lambda: kitty.complete("slowstart", "x"))
    raw_t, raw_box = in_thread(lambda: httpx.post(errd.url + "/v1/completions",
                                                  json=completion("slowstart"), timeout=30))
    assert wait_until(lambda: errd.worker("slowstart")["status"] == "starting", 10), \
        errd.worker("slowstart")
    # Both requests wait on the one start (its load takes 5 s); a request that came after the
    # release would start the model again and succeed, failing this test loudly.
    time.sleep(0.5)
    assert errd.release("slowstart")["status"] == "stopped"
    raw_box, cli_box = joined(raw_t, raw_box), joined(cli_t, cli_box)
    assert "error" not in raw_box, raw_box["error"]
    check_response(raw_box["result"], "worker_stopping", cls=WorkerStopping)
    check_raised(cli_box.get("error"), "worker_stopping", cls=WorkerStopping)


@triggers("shutting_down")
def test_shutting_down_for_a_request_completed_after_sigterm(start_kittyd, fake_bin):
    # A worker that ignores SIGTERM and /shutdown keeps kittyd stopping for its
    # stop_timeout_seconds (3 s); a request whose body arrives in that window is refused.
    d = start_kittyd({"a": fake_model(fake_bin, "a"),
                      "stubborn": fake_model(fake_bin, "stubborn", "--ignore-sigterm",
                                             "--hang-on-shutdown")}, name="stopping")
    d.ensure("stubborn")
    body = json.dumps(completion("a")).encode()
    with socket.create_connection(("127.0.0.1", d.port), timeout=10) as s:
        s.sendall(post_head(b"/v1/completions", len(body)) + body[:5])
        time.sleep(0.3)  # kittyd has the header: the connection is a request in progress
        d.proc.send_signal(signal.SIGTERM)

        def stopping():
            # Today kittyd closes its listener at SIGTERM; a kittyd that kept it open would say
            # so in /health or refuse with 503. Any of the three shows it is stopping.
            try:
                h = httpx.get(d.url + "/health", timeout=1)
            except httpx.ConnectError:
                return True
            return h.status_code == 503 or h.json().get("status") == "shutting_down"

        assert wait_until(stopping, 5), "kittyd does not look like stopping after SIGTERM"
        assert d.proc.poll() is None, "kittyd exited before the stubborn worker was stopped"
        s.sendall(body[5:])
        r = read_response(s, timeout=10)
    check_error(r.status, r.body, "shutting_down", cls=ShuttingDown)
    assert d.proc.wait(20) == 0, d.log_text()


@triggers("server_busy")
def test_server_busy_over_max_connections(start_kittyd, fake_bin):
    d = start_kittyd({"slow": fake_model(fake_bin, "slow", "--token-ms", "100", "--tokens", "40")},
                     name="busy", server={"max_connections": 2})
    d.ensure("slow")
    # Only busy connections from here on: the fixture's own keep-alive connection could be closed
    # by kittyd to make room (docs: idle ones go first), which is not what this test is about.
    d.client.close()
    d.client = httpx.Client(base_url=d.url, timeout=30)
    started = [threading.Event(), threading.Event()]

    def stream(ev):
        with httpx.Client(timeout=30) as c, c.stream(
                "POST", d.url + "/v1/completions",
                json={"model": "slow", "prompt": "busy", "max_tokens": 40, "stream": True}) as r:
            assert r.status_code == 200, r.read()
            n = 0
            for line in r.iter_lines():
                if line.startswith("data:"):
                    n += 1
                    ev.set()
            return n

    streams = [in_thread(lambda ev=ev: stream(ev)) for ev in started]
    for ev in started:
        assert ev.wait(10), "a stream did not begin"
    # Two connections with a request in flight: kittyd is at max_connections, none is idle.
    with httpx.Client(timeout=10) as c:
        r = c.post(d.url + "/v1/completions", json={"model": "slow", "prompt": "one more"})
    check_response(r, "server_busy", cls=ServerBusy)
    with KittyClient(d.url, timeout=10) as kitty:
        check_raised(client_error(kitty.health), "server_busy", cls=ServerBusy)
    for t, box in streams:
        box = joined(t, box)
        assert "error" not in box, box["error"]
        assert box["result"] >= 40, box
    # The cap counts connections, not requests over time: with the streams done, room again.
    with KittyClient(d.url, timeout=30) as kitty:
        assert kitty.health()["status"] == "ok"


@triggers("no_room")
def test_no_room_when_pinned_models_hold_the_budget(start_kittyd, fake_bin):
    # 1 GiB with two pinned 300 MiB models running: a third one of 450 MiB cannot fit, and nothing
    # may be stopped for it. The answer names the pinned holders. The pinned ones really hold
    # their 300 MiB: once sampled, the scheduler counts what a running worker holds, not its
    # `memory:` key (with 20 MiB each, a sample between the two calls below let `big` fit).
    models = {name: fake_model(fake_bin, name, "--memory-mb", "300", memory="300MiB", pinned=True)
              for name in ("p1", "p2")}
    models["big"] = fake_model(fake_bin, "big", "--memory-mb", "20", memory="450MiB")
    d = start_kittyd(models, name="noroom", memory={"budget": "1GiB"})
    d.ensure("p1")
    d.ensure("p2")
    err = check_response(d.client.post("/v1/completions", json=completion("big")),
                         "no_room", cls=NoRoom)
    assert "pinned" in err["message"] and "p1" in err["message"] and "p2" in err["message"], err
    assert err.get("model_id") == "big", err
    assert d.worker("big")["status"] == "stopped"
    with KittyClient(d.url, timeout=30) as kitty:
        check_raised(client_error(lambda: kitty.ensure("big")), "no_room", cls=NoRoom)
    # Nothing was stopped to try.
    assert {m: w["status"] for m, w in d.workers().items() if m != "big"} == {"p1": "ready", "p2": "ready"}


@triggers("no_room_busy")
def test_no_room_busy_when_models_in_use_hold_the_budget(start_kittyd, fake_bin):
    # Two 300 MiB models in 700 MiB, one held and one held too: `c` would fit once either is
    # released, so the answer is "not now" (429 with Retry-After), at once with wait_seconds 0.
    models = {name: fake_model(fake_bin, name, "--memory-mb", "20", memory="300MiB") for name in "abc"}
    d = start_kittyd(models, name="busy", memory={"budget": "700MiB", "wait_seconds": 0})
    for name in "ab":
        r = d.admin("POST", f"/kitty/workers/{name}/hold", json={"lease_seconds": 60})
        assert r.status_code == 200 and r.json()["was_ready"] is False, r.text
    r = d.client.post("/v1/completions", json=completion("c"))
    err = check_response(r, "no_room_busy", cls=NoRoomBusy)
    assert r.headers.get("retry-after") == "2", dict(r.headers)
    assert "a (" in err["message"] and "b (" in err["message"], err
    assert err.get("model_id") == "c", err
    # The same through the hold route a router uses, and through Ollama's shape.
    r = d.admin("POST", "/kitty/workers/c/hold", json={"lease_seconds": 5})
    check_response(r, "no_room_busy", cls=NoRoomBusy)
    assert r.headers.get("retry-after") == "2"
    r = d.client.post("/api/generate", json={"model": "c", "prompt": "x", "stream": False})
    assert r.status_code == 429 and r.json()["code"] == "no_room_busy" and r.headers.get("retry-after") == "2", r.text
    # Once a hold ends, the same request is served.
    holds = d.worker("a")["holds"]
    assert d.admin("DELETE", f"/kitty/holds/{holds[0]['id']}").status_code == 200
    assert d.client.post("/v1/completions", json=completion("c")).status_code == 200


# --- 504 ------------------------------------------------------------------------------------------


@triggers("start_timeout")
def test_start_timeout(http, kitty):
    err = check_response(http.post("/v1/completions", json=completion("neverhealthy")),
                         "start_timeout", cls=WorkerStartTimeout)
    assert "1s" in err["message"] or "1 s" in err["message"], err
    e = client_error(lambda: kitty.ensure("neverhealthy"))
    check_raised(e, "start_timeout", cls=WorkerStartTimeout)
    assert isinstance(e, WorkerStartFailed) and e.model == "neverhealthy"


# --- coverage -------------------------------------------------------------------------------------


def test_every_documented_code_is_triggered_here():
    documented = set(DOC_STATUS)
    assert NOT_TRIGGERABLE <= documented, "NOT_TRIGGERABLE names a code docs/API.md does not list"
    missing = documented - NOT_TRIGGERABLE - set(TRIGGERED)
    assert not missing, f"docs/API.md codes with no end-to-end trigger in this file: {sorted(missing)}"
    unknown = set(TRIGGERED) - documented
    assert not unknown, f"codes triggered here that docs/API.md does not list: {sorted(unknown)}"
    start_reasons = {r for c, r in DOC_REASONS if c == "worker_start_failed"}
    tested = {name.removeprefix("test_worker_start_failed_") for name in TRIGGERED["worker_start_failed"]}
    assert start_reasons <= tested, f"start-failure reasons without a test: {start_reasons - tested}"
