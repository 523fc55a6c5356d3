"""Load progress (issue 12) with the fake engine, whose load takes a set time: status shows the
start's phase and elapsed time; a streamed request with X-Kitty-Progress gets `: loading ...`
comments while it waits, a fraction once an earlier load gives the expected time, then the
answer; a start that fails after the comments began ends the stream with an SSE error event.
(The real engine's phases: tests/e2e/test_real_model.py.)"""

import json
import socket
import threading
import time

from kitty_e2e import fake_model
from kitty_testkit import wait_until


def stream_lines(d, model, headers=None, **body):
    with d.client.stream("POST", "/v1/completions", headers=headers or {},
                         json={"model": model, "prompt": "x", "max_tokens": 3, "stream": True, **body}) as r:
        return r.status_code, r.headers, [line for line in r.iter_lines() if line]


def test_comments_while_it_loads_then_the_answer(start_kittyd, fake_bin):
    d = start_kittyd({"a": fake_model(fake_bin, "a", "--load-ms", "1200")})
    status, headers, lines = stream_lines(d, "a", {"X-Kitty-Progress": "1"})
    assert status == 200 and headers["content-type"].startswith("text/event-stream")
    first = next(i for i, line in enumerate(lines) if line.startswith("data: "))
    comments = lines[:first]
    # Nothing the fake engine prints is a phase, and there is no earlier load: no fraction.
    assert len(comments) >= 2 and all(c.startswith(": loading (") for c in comments), comments
    assert any(c.startswith(": loading (starting, ") for c in comments), comments
    assert lines[-1] == "data: [DONE]"
    assert all(line.startswith("data: ") for line in lines[first:])

    # The second load is measured against the first: a percentage that grows.
    d.release("a")
    _, _, lines = stream_lines(d, "a", {"X-Kitty-Progress": "1"})
    pct = [int(c.split()[2].rstrip("%")) for c in lines if c.startswith(": loading ") and "%" in c]
    assert len(pct) >= 2 and pct == sorted(pct) and pct[-1] < 100, lines
    assert lines[-1] == "data: [DONE]"


def test_without_the_header_or_without_stream_nothing_changes(start_kittyd, fake_bin):
    d = start_kittyd({"a": fake_model(fake_bin, "a", "--load-ms", "500")})
    _, _, lines = stream_lines(d, "a")
    assert not any(line.startswith(":") for line in lines)
    d.release("a")
    r = d.client.post("/v1/completions", headers={"X-Kitty-Progress": "1"},
                      json={"model": "a", "prompt": "x", "max_tokens": 2})
    assert r.status_code == 200 and r.json()["choices"], r.text


def test_status_shows_the_phase_while_it_starts(start_kittyd, fake_bin):
    d = start_kittyd({"a": fake_model(fake_bin, "a", "--load-ms", "2000")})
    t = threading.Thread(target=lambda: d.ensure("a"))
    t.start()
    w = wait_until(lambda: (x := d.client.get("/kitty/workers/a").json())["status"] == "starting"
                   and x["progress"] and x["progress"]["elapsed_seconds"] > 0.2 and x, 10)
    assert w["progress"]["phase"] in ("starting", "waiting_for_room"), w["progress"]
    assert w["progress"]["expected_seconds"] is None  # no earlier load
    t.join(30)
    assert d.client.get("/kitty/workers/a").json()["progress"] is None


def test_a_start_that_fails_ends_the_stream_with_an_error_event(start_kittyd, fake_bin):
    d = start_kittyd({"bad": fake_model(fake_bin, "bad", "--load-ms", "1200", "--fail-on-start")})
    status, _, lines = stream_lines(d, "bad", {"X-Kitty-Progress": "1"})
    assert status == 200  # the answer began with the comments
    assert lines[0].startswith(": loading")
    last = json.loads(lines[-1][len("data: "):])
    assert last["error"]["code"] == "worker_start_failed" and "bad" in last["error"]["message"], last


def test_a_client_that_leaves_while_it_loads(start_kittyd, fake_bin):
    d = start_kittyd({"a": fake_model(fake_bin, "a", "--load-ms", "1000")})
    body = json.dumps({"model": "a", "prompt": "x", "max_tokens": 2, "stream": True}).encode()
    s = socket.create_connection(("127.0.0.1", d.port))
    s.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"X-Kitty-Progress: 1\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    assert b": loading" in s.recv(4096)
    s.close()
    # The start goes on; the request's slot is not kept.
    w = wait_until(lambda: (x := d.client.get("/kitty/workers/a").json())["status"] == "ready" and x, 10)
    time.sleep(0.3)
    assert d.client.get("/kitty/workers/a").json()["in_flight"] == 0, w
