"""How workers end (issue 10): how an end kittyd did not ask for is classified and kept per
model (fake engines that crash, exit with a chosen status, fail to start, or are SIGKILLed from
outside), and the emergency stop of a second SIGTERM."""

import os
import signal

from kitty_e2e import fake_model
from kitty_testkit import group_alive, wait_until


def last_exit(d, name):
    return d.worker(name)["last_exit"]


def test_ends_nobody_asked_for_are_classified_and_counted(start_kittyd, fake_bin):
    d = start_kittyd({"crashy": fake_model(fake_bin, "crashy", "--crash-after", "1", "--exit-code", "3"),
                      "victim": fake_model(fake_bin, "victim"),
                      "broken": fake_model(fake_bin, "broken", "--fail-on-start", "--load-ms", "100"),
                      "calm": fake_model(fake_bin, "calm")})
    # Exits with status 3 right after its first answer.
    r = d.client.post("/v1/completions", json={"model": "crashy", "prompt": "x", "max_tokens": 2})
    assert r.status_code == 200, r.text
    assert wait_until(lambda: last_exit(d, "crashy") is not None, 10), d.worker("crashy")
    e = last_exit(d, "crashy")
    assert (e["class"], e["code"], e["signal"]) == ("crash", 3, None), e
    assert "exited with status 3 while ready" in e["message"], e
    assert any("exiting with 3" in line for line in e["log_tail"]), e
    assert d.worker("crashy")["exits"] == {"crash": 1}

    # A SIGKILL from outside: Linux's OOM counters are readable and did not move.
    pid = d.ensure("victim")["pid"]
    os.kill(pid, signal.SIGKILL)
    assert wait_until(lambda: last_exit(d, "victim") is not None, 10), d.worker("victim")
    e = last_exit(d, "victim")
    assert (e["class"], e["signal"]) == ("crash", signal.SIGKILL), e
    assert "not sent by kittyd nor the OOM killer" in e["message"], e

    r = d.client.post("/kitty/workers/broken/ensure")
    assert r.status_code == 503, r.text
    e = last_exit(d, "broken")
    assert (e["class"], e["code"]) == ("start_failure", 1), e

    # A stop kittyd asked for is not an exit to report.
    d.ensure("calm")
    d.release("calm")
    assert last_exit(d, "calm") is None and d.worker("calm")["exits"] == {}


def test_a_second_sigterm_kills_every_group_at_once(start_kittyd, fake_bin):
    # Workers that would keep kittyd stopping for 30 s each: they ignore SIGTERM and /shutdown.
    stubborn = ("--ignore-sigterm", "--hang-on-shutdown", "--fork-child")
    d = start_kittyd({m: fake_model(fake_bin, m, *stubborn, stop_timeout_seconds=30) for m in ("a", "b")})
    groups = [d.ensure(m)["pid"] for m in ("a", "b")]
    d.proc.send_signal(signal.SIGTERM)
    assert wait_until(lambda: "stopping every worker" in d.log_text(), 5), d.log_text()
    assert d.proc.poll() is None, "the first signal waits for the stubborn workers"
    d.proc.send_signal(signal.SIGTERM)
    assert d.proc.wait(10) == 0, d.log_text()
    assert "second signal: killing every worker now" in d.log_text()
    assert wait_until(lambda: not any(group_alive(g) for g in groups), 3), \
        "a worker's group (its forked grandchild included) outlived the emergency stop"


def test_a_pinned_model_killed_from_outside_is_ready_again_without_a_request(start_kittyd, fake_bin):
    d = start_kittyd({"main": fake_model(fake_bin, "main", pinned=True),
                      "plain": fake_model(fake_bin, "plain")})
    first = d.ensure("main")["pid"]
    plain = d.ensure("plain")["pid"]
    os.kill(first, signal.SIGKILL)
    os.kill(plain, signal.SIGKILL)
    assert wait_until(lambda: d.worker("main")["restart"]["next_in_seconds"] is not None, 5), d.worker("main")
    w = d.worker("main")
    assert (w["restart"]["policy"], w["restart"]["attempts"]) == ("on-crash", 1), w["restart"]
    # Its first backoff is 5 s: ready again within it (and a little), no request made.
    assert wait_until(lambda: d.worker("main")["status"] == "ready", 8), d.worker("main")
    w = d.worker("main")
    assert w["pid"] != first and w["requests_total"] == 0
    assert w["restart"]["next_in_seconds"] is None
    assert "restarting it in 5s" in d.log_text()
    # A plain model waits for its next request.
    p = d.worker("plain")
    assert p["status"] == "failed" and p["restart"]["policy"] == "never", p
    r = d.client.post("/v1/completions", json={"model": "plain", "prompt": "x", "max_tokens": 2})
    assert r.status_code == 200, r.text


def test_a_hung_worker_is_found_killed_and_replaced(start_kittyd, fake_bin):
    # Answers one request, then nothing more while it stays alive with its socket open.
    d = start_kittyd({"main": fake_model(fake_bin, "main", "--hang-after", "1", pinned=True,
                                         liveness={"interval_seconds": 0.5, "failures": 2})})
    first = d.ensure("main")["pid"]
    r = d.client.post("/v1/completions", json={"model": "main", "prompt": "x", "max_tokens": 2})
    assert r.status_code == 200, r.text
    assert wait_until(lambda: (d.worker("main")["last_exit"] or {}).get("class") == "hung", 15), d.worker("main")
    e = d.worker("main")["last_exit"]
    assert "2 health probes in a row failed" in e["message"], e
    assert not group_alive(first), "the hung worker's group was killed"
    # Pinned: replaced within its first backoff (5 s), no request needed.
    assert wait_until(lambda: d.worker("main")["status"] == "ready" and d.worker("main")["pid"] != first, 10), \
        d.worker("main")
    r = d.client.post("/v1/completions", json={"model": "main", "prompt": "y", "max_tokens": 2})
    assert r.status_code == 200, r.text


def test_a_request_that_gets_nothing_for_busy_timeout_finds_the_worker_hung(start_kittyd, fake_bin):
    # Liveness is off: only the request itself can tell that the worker stopped answering.
    d = start_kittyd({"main": fake_model(fake_bin, "main", "--hang-after", "1", pinned=True,
                                         liveness={"interval_seconds": 0}, busy_timeout_seconds=1)})
    first = d.ensure("main")["pid"]
    r = d.client.post("/v1/completions", json={"model": "main", "prompt": "x", "max_tokens": 2})
    assert r.status_code == 200, r.text
    assert r.headers["x-kitty-served-by"] == "main"
    r = d.client.post("/v1/completions", json={"model": "main", "prompt": "y", "max_tokens": 2})
    assert r.status_code == 502, r.text
    err = r.json()["error"]
    assert (err["code"], err["reason"]) == ("upstream_error", "worker_hung"), err
    assert "busy_timeout_seconds" in err["message"], err
    w = d.worker("main")
    assert w["last_exit"]["class"] == "hung" and w["exits"] == {"hung": 1}, w
    assert wait_until(lambda: not group_alive(first), 5), "the hung worker's group was killed"
    # Pinned: replaced without a request, and it serves again.
    assert wait_until(lambda: d.worker("main")["status"] == "ready" and d.worker("main")["pid"] != first, 10), \
        d.worker("main")
    r = d.client.post("/v1/completions", json={"model": "main", "prompt": "z", "max_tokens": 2})
    assert r.status_code == 200, r.text


def test_a_frozen_worker_with_a_request_in_flight_is_hung_and_the_request_ends(start_kittyd, fake_bin):
    # SIGSTOP: the engine answers neither health nor the request it holds; without liveness
    # counting that case, the request would wait for ever.
    d = start_kittyd({"main": fake_model(fake_bin, "main", "--token-ms", "50", pinned=True,
                                         liveness={"interval_seconds": 0.5, "failures": 2})})
    pid = d.ensure("main")["pid"]
    import threading
    import time
    out = {}

    def stream():
        t0 = time.monotonic()
        with d.client.stream("POST", "/v1/chat/completions",
                             json={"model": "main", "stream": True, "max_tokens": 1000,
                                   "messages": [{"role": "user", "content": "x"}]}) as r:
            out["status"] = r.status_code
            out["text"] = "".join(r.iter_text())
        out["seconds"] = time.monotonic() - t0
    t = threading.Thread(target=stream)
    t.start()
    assert wait_until(lambda: d.worker("main")["in_flight"] == 1, 5)
    time.sleep(0.3)  # a few tokens out
    os.kill(pid, signal.SIGSTOP)
    t.join(20)
    assert not t.is_alive(), "the request to a frozen worker never ended"
    assert out["status"] == 200 and '"worker_hung"' in out["text"], out
    e = d.worker("main")["last_exit"]
    assert e["class"] == "hung" and "no request made progress" in e["message"], e
    assert wait_until(lambda: not group_alive(pid), 5), "the frozen group was killed"
    assert wait_until(lambda: d.worker("main")["status"] == "ready", 10), d.worker("main")
