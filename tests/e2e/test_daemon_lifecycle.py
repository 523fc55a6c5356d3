"""Black-box tests of kittyd's own life: clean shutdown, death by SIGKILL, orphan cleanup on the
next start, one daemon per state dir, preload."""

import re
import signal
import subprocess

from kitty_e2e import fake_model
from kitty_testkit import group_alive, pid_alive, wait_until


def three_models(fake, *flags):
    return {m: fake_model(fake, m, *flags) for m in ("w1", "w2", "w3")}


def start_three(d):
    pids = {}
    for m in ("w1", "w2", "w3"):
        w = d.ensure(m)
        assert w["status"] == "ready", w
        pids[m] = w["pid"]
    assert all(pid_alive(p) for p in pids.values())
    return pids


def test_sigterm_stops_every_worker_and_exits_0(start_kittyd, fake_bin):
    d = start_kittyd(three_models(fake_bin))
    pids = start_three(d)
    d.proc.send_signal(signal.SIGTERM)
    rc = d.proc.wait(15)
    assert rc == 0, d.log_text()
    for m, pid in pids.items():
        assert not pid_alive(pid), f"{m} (pid {pid}) survived kittyd's SIGTERM"
        assert not group_alive(pid), f"process group of {m} ({pid}) survived kittyd's SIGTERM"


def test_sigkill_of_kittyd_takes_the_workers_down(start_kittyd, fake_bin):
    d = start_kittyd(three_models(fake_bin))
    pids = start_three(d)
    d.proc.kill()
    d.proc.wait(5)
    assert wait_until(lambda: not any(pid_alive(p) for p in pids.values()), 2.0), {
        m: p for m, p in pids.items() if pid_alive(p)}


def test_grandchild_left_by_a_killed_kittyd_is_cleaned_up_by_the_next_start(
        start_kittyd, fake_bin, tmp_path):
    state = tmp_path / "shared-state"
    models = {"forky": fake_model(fake_bin, "forky", "--fork-child")}
    d1 = start_kittyd(models, name="first", state_dir=state)
    w = d1.ensure("forky")
    worker_pid = w["pid"]

    def grandchild():
        m = re.search(r"forked child pid=(\d+)", d1.worker_log("forky"))
        return int(m.group(1)) if m else None

    assert wait_until(lambda: grandchild() is not None, 5), d1.worker_log("forky")
    gc = grandchild()
    assert pid_alive(gc)
    d1.proc.kill()
    d1.proc.wait(5)
    assert wait_until(lambda: not pid_alive(worker_pid), 2.0), f"worker {worker_pid} outlived SIGKILL"
    # The grandchild may survive kittyd's SIGKILL (it has no death signal of its own) ...
    d1.seen_pids.discard(gc)

    # ... but the next kittyd on the same state dir kills what the previous one left behind.
    d2 = start_kittyd(models, name="second", state_dir=state)
    try:
        assert wait_until(lambda: not pid_alive(gc), 3.0), (
            f"grandchild {gc} of the killed kittyd's worker survived the next start\n"
            f"{d2.log_text()}")
    finally:
        if pid_alive(gc):  # do not leak it into the rest of the suite
            d2.seen_pids.add(gc)
    assert d2.workers()["forky"]["status"] == "stopped"


def test_second_kittyd_on_the_same_state_dir_refuses_to_start(start_kittyd, kittyd_bin, fake_bin,
                                                              tmp_path):
    state = tmp_path / "one-state"
    first = start_kittyd({"a": fake_model(fake_bin, "a")}, name="first", state_dir=state)
    second = start_kittyd({"a": fake_model(fake_bin, "a")}, name="second", state_dir=state,
                          wait=False)
    try:
        rc = second.proc.wait(10)
    except subprocess.TimeoutExpired:
        rc = None
    assert rc not in (None, 0), f"second kittyd: exit {rc}\n{second.log_text()}"
    said = second.log_text()
    assert "another kittyd" in said, said
    # The first one is unaffected.
    assert first.client.get("/health").status_code == 200


def test_preload_starts_the_model_without_a_request(start_kittyd, fake_bin):
    d = start_kittyd({"pre": fake_model(fake_bin, "pre", "--load-ms", "100", preload=True),
                      "lazy": fake_model(fake_bin, "lazy")})
    assert wait_until(lambda: d.worker("pre")["status"] == "ready", 10), d.worker("pre")
    w = d.worker("pre")
    assert isinstance(w["pid"], int) and pid_alive(w["pid"])
    assert w["requests_total"] == 0
    assert d.worker("lazy")["status"] == "stopped"
