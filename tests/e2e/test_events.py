"""GET /kitty/events and `kittyctl events` (issue 12): the lifecycle as server-sent events with
ids, replayed on connect and after Last-Event-ID, filtered by model, with heartbeats; a reader
that stops reading is dropped with a last event instead of growing kittyd's memory."""

import json
import socket
import subprocess
import threading
import time

import httpx

from kitty_e2e import fake_model
from kitty_testkit import require_binary, wait_until


def events(d, **params):
    """The events kittyd still holds, as dicts (follow=false: the replay only)."""
    params.setdefault("follow", "false")
    headers = {}
    if "last_event_id" in params and params.get("as_header"):
        headers["Last-Event-ID"] = str(params.pop("last_event_id"))
    params.pop("as_header", None)
    r = d.client.get("/kitty/events", params=params, headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/event-stream")
    out = []
    for block in r.text.split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
        if "data" in lines:
            e = json.loads(lines["data"])
            assert lines["id"] == str(e["id"]) and lines["event"] == e["kind"], block
            out.append(e)
    return out


def test_start_request_release_is_this_exact_sequence(start_kittyd, fake_bin):
    d = start_kittyd({"a": fake_model(fake_bin, "a"), "b": fake_model(fake_bin, "b")})
    r = d.client.post("/v1/completions", json={"model": "a", "prompt": "x", "max_tokens": 2})
    assert r.status_code == 200
    d.release("a")
    d.ensure("b")
    got = events(d, model="a")
    assert [e["kind"] for e in got] == ["starting", "spawned", "ready", "stopping", "stopped"], got
    assert all(e["model"] == "a" for e in got)
    ids = [e["id"] for e in got]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert got[1]["pid"] == got[2]["pid"] > 0
    assert got[0]["time"].endswith("Z")
    # Unfiltered: b's events too, in order after a's.
    kinds = [(e["model"], e["kind"]) for e in events(d)]
    assert kinds[-3:] == [("b", "starting"), ("b", "spawned"), ("b", "ready")], kinds


def test_replay_after_last_event_id(start_kittyd, fake_bin):
    d = start_kittyd({"a": fake_model(fake_bin, "a")})
    d.ensure("a")
    d.release("a")
    everything = events(d)
    cut = everything[1]["id"]
    after = events(d, last_event_id=cut, as_header=True)
    assert [e["id"] for e in after] == [e["id"] for e in everything if e["id"] > cut]
    assert events(d, last_event_id=everything[-1]["id"]) == []
    assert d.client.get("/kitty/events", params={"model": "nope"}).status_code == 404


def test_a_follower_sees_events_as_they_happen_and_heartbeats(start_kittyd, fake_bin):
    d = start_kittyd({"a": fake_model(fake_bin, "a")})
    seen, lines = [], []

    def follow():
        with httpx.stream("GET", d.url + "/kitty/events", params={"heartbeat": "0.2"}, timeout=30) as r:
            for line in r.iter_lines():
                lines.append(line)
                if line.startswith("data: "):
                    seen.append((time.monotonic(), json.loads(line[6:])))
                    if seen[-1][1]["kind"] == "stopped":
                        return

    t = threading.Thread(target=follow, daemon=True)
    t.start()
    time.sleep(0.5)  # a heartbeat or two before anything happens
    t0 = time.monotonic()
    d.ensure("a")
    assert wait_until(lambda: any(e["kind"] == "ready" for _, e in seen), 5), lines
    ready_at = next(at for at, e in seen if e["kind"] == "ready")
    assert ready_at - t0 < 2, "the event arrives as it happens"
    d.release("a")
    t.join(10)
    assert not t.is_alive()
    assert ": heartbeat" in lines
    assert [e["kind"] for _, e in seen] == ["starting", "spawned", "ready", "stopping", "stopped"]


def test_a_reader_that_stops_reading_is_dropped_with_a_last_event(start_kittyd, fake_bin):
    d = start_kittyd({"a": fake_model(fake_bin, "a")})
    d.ensure("a")
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)  # fills at once: kittyd's writes block
    s.connect(("127.0.0.1", d.port))
    s.sendall(b"GET /kitty/events HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(0.2)
    # Far more events than a reader may have pending (1,024): holds taken and dropped.
    for _ in range(1200):
        h = d.admin("POST", "/kitty/workers/a/hold", json={"lease_seconds": 60}).json()["hold_id"]
        d.admin("DELETE", f"/kitty/holds/{h}")
    s.settimeout(10)
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    text = data.decode()
    assert text.rstrip().endswith("}"), text[-300:]
    assert "event: dropped" in text[-400:], text[-400:]
    assert "Last-Event-ID" in text[-400:]
    # kittyd is fine and still counts.
    assert events(d, model="a")[-1]["kind"] == "hold_ended"


def test_kittyctl_events(start_kittyd, fake_bin):
    d = start_kittyd({"a": fake_model(fake_bin, "a"), "b": fake_model(fake_bin, "b")})
    d.ensure("a")
    d.ensure("b")
    kittyctl = str(require_binary("KITTYCTL", "build/kittyctl"))
    out = subprocess.run([kittyctl, "--url", d.url, "events", "a"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    rows = out.stdout.splitlines()
    assert [r.split()[1] for r in rows] == ["starting", "spawned", "ready"], out.stdout
    assert all(r.split()[2] == "a" for r in rows)
    # -f follows: a release shows up while it runs.
    p = subprocess.Popen([kittyctl, "--url", d.url, "events", "-f", "--json", "a"], stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)
        d.release("a")
        kinds = []
        deadline = time.monotonic() + 10
        while "stopped" not in kinds and time.monotonic() < deadline:
            line = p.stdout.readline()
            if line:
                kinds.append(json.loads(line)["kind"])
        assert kinds[-2:] == ["stopping", "stopped"], kinds
    finally:
        p.terminate()
        p.wait(5)
    assert p.returncode == 0


def test_restart_is_a_release_then_a_start(start_kittyd, fake_bin):
    d = start_kittyd({"a": fake_model(fake_bin, "a")})
    first = d.ensure("a")
    last = events(d, model="a")[-1]["id"]
    r = d.client.post("/kitty/workers/a/restart")
    assert r.status_code == 200, r.text
    w = r.json()
    assert w["status"] == "ready" and w["pid"] != first["pid"]
    d.seen_pids.add(w["pid"])
    kinds = [e["kind"] for e in events(d, model="a", last_event_id=last)]
    assert kinds == ["stopping", "stopped", "starting", "spawned", "ready"], kinds
    assert d.client.post("/kitty/workers/nope/restart").status_code == 404
    assert d.client.get("/kitty/workers/a/restart").status_code == 405
