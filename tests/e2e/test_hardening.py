"""Issue 8's hardening, black-box: kittyd's descriptors under a chaos of killed workers, an auto
port held by a live connection, slow and hostile clients, HTTP edge cases, and the fd limit.

Each test starts its own kittyd (they change server settings or count descriptors)."""

import json
import os
import signal
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest

from kitty_e2e import fake_model
from kitty_testkit import wait_until as wait_for


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def send_and_read_all(port, data, read=True, timeout=5.0):
    """Sends raw bytes on a fresh connection; returns everything read until close (or timeout)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        if not read:
            return b""
        out = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
        except socket.timeout:
            pass
        return out


def head_and_body(raw):
    head, _, body = raw.partition(b"\r\n\r\n")
    return head.decode("latin-1"), body


# --- chaos ----------------------------------------------------------------------------------------


def test_chaos_of_killed_workers_leaks_no_descriptors(start_kittyd, fake_bin):
    """Workers SIGKILLed every 0.5 s while 12 clients stream: every request ends, and once the
    models are released kittyd's descriptors are back to what they were before (issue 8: they
    grew 15 -> 92, connections to dead workers stayed in CLOSE-WAIT)."""
    models = {f"m{i}": fake_model(fake_bin, f"m{i}", "--token-ms", "2", "--tokens", "200")
              for i in range(2)}
    d = start_kittyd(models)
    for m in models:
        d.ensure(m)
        d.release(m)
    baseline = fd_count(d.proc.pid)

    stop = threading.Event()
    outcomes = {"ok": 0, "error_event": 0, "http_error": 0, "other": []}
    lock = threading.Lock()

    def client(i):
        model = f"m{i % 2}"
        with httpx.Client(base_url=d.url, timeout=30) as c:
            while not stop.is_set():
                try:
                    with c.stream("POST", "/v1/chat/completions",
                                  json={"model": model, "stream": True, "max_tokens": 200,
                                        "messages": [{"role": "user", "content": "x"}]}) as r:
                        text = "".join(r.iter_text())
                        kind = ("http_error" if r.status_code != 200 else
                                "error_event" if '"error"' in text else
                                "ok" if "[DONE]" in text else None)
                except httpx.HTTPError as exc:
                    kind = None
                    text = repr(exc)
                with lock:
                    if kind:
                        outcomes[kind] += 1
                    else:
                        outcomes["other"].append(text[-300:])

    threads = [threading.Thread(target=client, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 12
    while time.monotonic() < deadline:
        time.sleep(0.5)
        for w in d.workers().values():
            if w["pid"]:
                try:
                    os.kill(w["pid"], signal.SIGKILL)
                except ProcessLookupError:
                    pass
    stop.set()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads), "a client hung"
    assert not outcomes["other"], f"requests that ended without an answer: {outcomes['other'][:3]}"
    assert outcomes["ok"] > 0 and outcomes["error_event"] + outcomes["http_error"] > 0, outcomes

    for m in models:
        d.release(m)
    assert wait_for(lambda: fd_count(d.proc.pid) <= baseline, 10), (
        f"kittyd holds {fd_count(d.proc.pid)} descriptors, {baseline} before the chaos "
        f"({outcomes}):\n" + "\n".join(sorted(os.readlink(f'/proc/{d.proc.pid}/fd/{f}')
                                             for f in os.listdir(f'/proc/{d.proc.pid}/fd'))))


# --- ports ----------------------------------------------------------------------------------------


def test_auto_port_held_by_a_live_connection_is_never_seen_by_the_client(start_kittyd, fake_bin):
    """A port of the auto range held by another process's live outgoing connection looks free to
    a connect probe, but a worker's bind there fails: kittyd must skip it or retry elsewhere."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    # Two consecutive ports below the kernel's ephemeral range (where other connections would
    # take them at random): the first held by a live outgoing connection, the second free.
    import random

    for _ in range(100):
        first = random.randrange(20000, 28000)
        second = socket.socket()
        second.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            second.bind(("127.0.0.1", first + 1))
        except OSError:
            continue
        finally:
            second.close()
        holder = socket.socket()
        try:
            holder.bind(("127.0.0.1", first))
        except OSError:
            holder.close()
            continue
        holder.connect(server.getsockname())
        break
    else:
        pytest.skip("no free port pair found")
    accepted, _ = server.accept()
    try:
        d = start_kittyd({"m": fake_model(fake_bin, "m")},
                         server={"auto_ports": f"{first}-{first + 1}"})
        for _ in range(3):  # several starts: every one must avoid the held port
            r = d.client.post("/v1/completions", json={"model": "m", "prompt": "hi", "max_tokens": 2})
            assert r.status_code == 200, r.text
            assert d.worker("m")["port"] == first + 1
            d.release("m")
    finally:
        accepted.close()
        holder.close()
        server.close()


# --- slow and hostile clients ---------------------------------------------------------------------


def test_half_a_request_gets_408_after_the_header_deadline(start_kittyd, fake_bin):
    d = start_kittyd({"m": fake_model(fake_bin, "m")}, server={"header_timeout_seconds": 1})
    t0 = time.monotonic()
    raw = send_and_read_all(d.port, b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Le")
    elapsed = time.monotonic() - t0
    head, body = head_and_body(raw)
    assert head.startswith("HTTP/1.1 408"), raw
    assert json.loads(body)["error"]["code"] == "request_timeout"
    assert elapsed < 4, f"answered after {elapsed:.1f}s"


def test_a_body_that_never_arrives_gets_408(start_kittyd, fake_bin):
    d = start_kittyd({"m": fake_model(fake_bin, "m")}, server={"body_timeout_seconds": 1})
    raw = send_and_read_all(d.port, b"POST /v1/completions HTTP/1.1\r\nHost: x\r\n"
                              b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"mo")
    head, body = head_and_body(raw)
    assert head.startswith("HTTP/1.1 408"), raw
    assert json.loads(body)["error"]["code"] == "request_timeout"


def test_a_thousand_stalled_half_requests_do_not_starve_others(start_kittyd, fake_bin):
    d = start_kittyd({"m": fake_model(fake_bin, "m")}, server={"header_timeout_seconds": 30})
    d.ensure("m")
    stalled = []
    try:
        for _ in range(1000):
            s = socket.create_connection(("127.0.0.1", d.port))
            s.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\n")
            stalled.append(s)
        t0 = time.monotonic()
        assert httpx.get(d.url + "/health", timeout=5).status_code == 200
        for _ in range(20):
            r = d.client.post("/v1/completions", json={"model": "m", "prompt": "hi", "max_tokens": 2})
            assert r.status_code == 200, r.text
        assert time.monotonic() - t0 < 10
    finally:
        for s in stalled:
            s.close()


def test_at_the_connection_cap_the_oldest_idle_connection_makes_room(start_kittyd, fake_bin):
    d = start_kittyd({"m": fake_model(fake_bin, "m")}, server={"max_connections": 20})
    idle = []
    for _ in range(20):
        s = socket.create_connection(("127.0.0.1", d.port), timeout=5)
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert b"200 OK" in s.recv(4096)
        idle.append(s)  # keep-alive: idle now
    # The 21st client is served; the oldest idle connection was closed for it.
    r = httpx.get(d.url + "/health", timeout=5)
    assert r.status_code == 200
    idle[0].settimeout(5)
    assert idle[0].recv(1) == b"", "the oldest idle connection should have been closed"
    for s in idle:
        s.close()


def test_at_the_connection_cap_with_none_idle_a_newcomer_gets_503(start_kittyd, fake_bin):
    d = start_kittyd({"m": fake_model(fake_bin, "m")},
                     server={"max_connections": 10, "header_timeout_seconds": 30})
    busy = []
    try:
        for _ in range(10):  # each is reading a request header: busy, never shed
            s = socket.create_connection(("127.0.0.1", d.port), timeout=5)
            s.sendall(b"POST /v1/completions HTTP/1.1\r\n")
            busy.append(s)
        time.sleep(0.3)
        raw = send_and_read_all(d.port, b"")
        head, body = head_and_body(raw)
        assert head.startswith("HTTP/1.1 503"), raw
        assert json.loads(body)["error"]["code"] == "server_busy"
    finally:
        for s in busy:
            s.close()
    # Once they are gone, service resumes.
    assert wait_for(lambda: httpx.get(d.url + "/health", timeout=2).status_code == 200, 5)


def test_kittyd_raises_its_open_file_limit(start_kittyd, fake_bin):
    d = start_kittyd({"m": fake_model(fake_bin, "m")})
    limits = Path(f"/proc/{d.proc.pid}/limits").read_text()
    line = next(l for l in limits.splitlines() if l.startswith("Max open files"))
    soft, hard = line.split()[3:5]
    assert soft == hard, line


# --- HTTP edge cases ------------------------------------------------------------------------------


def test_http10_client_streams_close_delimited_never_chunked(start_kittyd, fake_bin):
    d = start_kittyd({"m": fake_model(fake_bin, "m", "--tokens", "5")})
    body = json.dumps({"model": "m", "stream": True, "prompt": "hi", "max_tokens": 5}).encode()
    raw = send_and_read_all(d.port, b"POST /v1/completions HTTP/1.0\r\nContent-Type: application/json\r\n"
                              b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    head, payload = head_and_body(raw)
    assert head.startswith("HTTP/1.0 200"), head
    assert "chunked" not in head.lower(), head
    assert b"data: [DONE]" in payload
    assert not payload.startswith(b"0") and b"\r\n0\r\n" not in payload, payload[:200]


def test_transfer_encodings_other_than_chunked_are_501(start_kittyd, fake_bin):
    d = start_kittyd({"m": fake_model(fake_bin, "m")})
    raw = send_and_read_all(d.port, b"POST /v1/completions HTTP/1.1\r\nHost: x\r\n"
                              b"Transfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
    head, body = head_and_body(raw)
    assert head.startswith("HTTP/1.1 501"), raw
    assert json.loads(body)["error"]["code"] == "unsupported"


def test_path_traversal_never_reaches_the_worker(start_kittyd, fake_bin):
    d = start_kittyd({"m": fake_model(fake_bin, "m", "--log-requests")})
    d.ensure("m")
    for target in (b"/v1/../../shutdown", b"/v1/%2e%2e/shutdown", b"/v1/../v1/../../shutdown"):
        raw = send_and_read_all(d.port, b"POST " + target + b" HTTP/1.1\r\nHost: x\r\n"
                                  b"Content-Type: application/json\r\nContent-Length: 13\r\n"
                                  b"Connection: close\r\n\r\n{\"model\":\"m\"}")
        head, body = head_and_body(raw)
        assert head.startswith("HTTP/1.1 404"), raw
        assert json.loads(body)["error"]["code"] == "not_found"
    assert d.worker("m")["status"] == "ready"
    assert "/shutdown" not in d.worker_log("m")


def test_oversized_header_is_431(start_kittyd, fake_bin):
    d = start_kittyd({"m": fake_model(fake_bin, "m")})
    raw = send_and_read_all(d.port, b"GET /health HTTP/1.1\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n")
    head, body = head_and_body(raw)
    assert head.startswith("HTTP/1.1 431"), raw[:200]
    assert json.loads(body)["error"]["code"] == "header_too_large"
