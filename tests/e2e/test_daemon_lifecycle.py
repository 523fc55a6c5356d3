"""Black-box tests of kittyd's own life: clean shutdown, death by SIGKILL (the watchdog takes
every worker's whole process group along), orphan cleanup on the next start, one daemon per state
dir, preload."""

import os
import re
import signal
import subprocess
import time
from pathlib import Path

from kitty_e2e import fake_model
from kitty_testkit import group_alive, pid_alive, pids_with_cmdline, wait_until


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


def _cmdline(pid):
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None


def _comm(pid):
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return None


def watchdog_of(d):
    """The pid of kittyd's watchdog: a fork of kittyd, so its command line is kittyd's own (with
    this test's unique config path) and only its pid differs."""
    pids = [p for p in pids_with_cmdline(str(d.config_path)) if p != d.proc.pid]
    assert len(pids) == 1, f"expected one watchdog beside kittyd {d.proc.pid}, found {pids}"
    return pids[0]


def group_members(pgid):
    """Live pids in process group `pgid` (via /proc)."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                raw = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = raw[raw.rindex(")") + 2:].split()
            if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
                out.append(int(entry))
    return out


def kill_leftovers(recorded):
    """SIGKILLs what a failed test left running, but only a pid that still runs the command line
    it had when the test recorded it (never a stranger that reused the pid)."""
    for pid, cmd in recorded.items():
        if pid_alive(pid) and _cmdline(pid) == cmd:
            os.kill(pid, signal.SIGKILL)


def test_sigterm_stops_every_worker_and_exits_0(start_kittyd, fake_bin):
    d = start_kittyd(three_models(fake_bin))
    pids = start_three(d)
    watchdog = watchdog_of(d)
    d.proc.send_signal(signal.SIGTERM)
    rc = d.proc.wait(15)
    assert rc == 0, d.log_text()
    for m, pid in pids.items():
        assert not pid_alive(pid), f"{m} (pid {pid}) survived kittyd's SIGTERM"
        assert not group_alive(pid), f"process group of {m} ({pid}) survived kittyd's SIGTERM"
    # Every group was forgotten as it ended: the watchdog leaves with kittyd, killing nothing.
    assert wait_until(lambda: not pid_alive(watchdog), 2.0), f"watchdog {watchdog} outlived kittyd"
    assert "kittyd-watchdog" not in d.log_text() and "still registered" not in d.log_text(), (
        d.log_text())


def test_sigkill_of_kittyd_takes_the_workers_down(start_kittyd, fake_bin):
    d = start_kittyd(three_models(fake_bin))
    pids = start_three(d)
    d.proc.kill()
    d.proc.wait(5)
    assert wait_until(lambda: not any(pid_alive(p) for p in pids.values()), 2.0), {
        m: p for m, p in pids.items() if pid_alive(p)}


def test_sigkill_of_kittyd_kills_shell_workers_and_grandchildren_within_1s(start_kittyd,
                                                                           fake_bin):
    # `shell: true`: /bin/sh starts a grandchild, then becomes the engine; and an engine that
    # forks. PR_SET_PDEATHSIG reaches neither grandchild: only the watchdog does.
    shelly = fake_model(fake_bin, "shelly")
    shelly["shell"] = True
    shelly["command"] = ["sleep 1000 & echo grandchild=$!;", "exec", *shelly["command"]]
    models = {"shelly": shelly, "forky": fake_model(fake_bin, "forky", "--fork-child")}
    d = start_kittyd(models)
    leaders = {m: d.ensure(m)["pid"] for m in models}
    patterns = {"shelly": r"grandchild=(\d+)", "forky": r"forked child pid=(\d+)"}

    def grandchild(m):
        found = re.search(patterns[m], d.worker_log(m))
        return int(found.group(1)) if found else None

    assert wait_until(lambda: all(grandchild(m) for m in models), 5), {
        m: d.worker_log(m) for m in models}
    watchdog = watchdog_of(d)
    if _comm(watchdog) is not None:
        assert _comm(watchdog) == "kittyd-watchdog"
    everyone = set(leaders.values()) | {grandchild(m) for m in models}
    for pgid in leaders.values():
        everyone |= set(group_members(pgid))
    assert len(everyone) >= 4 and all(pid_alive(p) for p in everyone), everyone
    recorded = {p: _cmdline(p) for p in everyone | {watchdog}}
    try:
        t0 = time.monotonic()
        d.proc.kill()
        gone = wait_until(lambda: not any(pid_alive(p) for p in everyone), 1.0, interval=0.002)
        took = time.monotonic() - t0
        left = sorted(p for p in everyone if pid_alive(p))
        assert gone, f"{left} outlived kittyd's SIGKILL by 1 s\n{d.log_text()}"
        print(f"\nkittyd SIGKILLed -> all {len(everyone)} worker processes gone in "
              f"{took * 1000:.1f} ms")
        # The watchdog did it (not the leaders' death signal), then went itself.
        assert wait_until(lambda: not pid_alive(watchdog), 1.0), f"watchdog {watchdog} lingers"
        d.proc.wait(5)
        assert re.search(r"kittyd-watchdog: kittyd is gone; SIGKILLed 2 of its 2 worker",
                         d.log_text()), d.log_text()
    finally:
        kill_leftovers(recorded)


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
    # The watchdog would kill the grandchild with kittyd; the state file is the second line of
    # defence for when both die (e.g. `pkill -9 kittyd`). Stopped, kittyd cannot start a new
    # watchdog when it sees its watchdog die.
    watchdog = watchdog_of(d1)
    recorded = {gc: _cmdline(gc)}
    d1.proc.send_signal(signal.SIGSTOP)
    os.kill(watchdog, signal.SIGKILL)
    assert wait_until(lambda: not pid_alive(watchdog), 2.0)
    d1.proc.kill()
    d1.proc.wait(5)
    assert wait_until(lambda: not pid_alive(worker_pid), 2.0), f"worker {worker_pid} outlived SIGKILL"
    # The grandchild has survived kittyd's SIGKILL (it has no death signal of its own) ...
    time.sleep(0.2)
    assert pid_alive(gc), "nothing should have killed the grandchild yet"
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
            kill_leftovers(recorded)
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
