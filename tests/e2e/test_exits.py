"""How a worker ended, classified and kept per model (issue 10, item 1): real kittyd, fake
engines that crash, exit with a chosen status, fail to start, or are SIGKILLed from outside."""

import os
import signal

import httpx

from kitty_e2e import fake_model
from kitty_testkit import wait_until


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
