"""Black-box tests of kittyctl against a real kittyd whose models run fake_engine.

Binaries: $KITTYCTL else build/kittyctl, $KITTYD else build/kittyd, $FAKE_ENGINE else
build/fake_engine (relative paths are taken from the repository root); a missing one fails the
test, as in the other e2e suites. Standard library and tests/support/kitty_testkit.py only (the
directory's conftest.py needs httpx; without it, run with --noconftest).

One kittyd per test module (fixture `daemon`); tests that need a model stopped release it first,
so their order does not matter. The unreachable-daemon tests use a port nothing listens on.
"""

import json
import os
import re
import signal
import subprocess
import time
import urllib.request

import pytest

from kitty_testkit import Kittyd, free_port, pid_exists, require_binary, wait_until


def daemon_models(fake):
    f = str(fake)
    return {
        "a": {"backend": "command", "aliases": ["alpha"],
              "command": [f, "--port", "${PORT}", "--model-id", "a", "--load-ms", "100"],
              "shutdown_path": "/shutdown"},
        "b": {"backend": "command",
              "command": [f, "--port", "${PORT}", "--model-id", "b", "--log-requests"],
              "shutdown_path": "/shutdown"},
        "broken": {"backend": "command",
                   "command": [f, "--port", "${PORT}", "--model-id", "broken", "--fail-on-start"]},
    }


def start_daemon(workdir):
    kittyd = require_binary("KITTYD", "build/kittyd")
    fake = require_binary("FAKE_ENGINE", "build/fake_engine")
    return Kittyd(kittyd, workdir, daemon_models(fake))


@pytest.fixture(scope="module")
def kittyctl():
    return require_binary("KITTYCTL", "build/kittyctl")


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    d = start_daemon(tmp_path_factory.mktemp("kittyd"))
    yield d
    d.stop()


def ctl(kittyctl, *args, url=None, env=None, timeout=60):
    full_env = {k: v for k, v in os.environ.items() if k not in ("KITTY_URL", "KITTY_API_KEY")}
    full_env.update(env or {})
    argv = [str(kittyctl)] + (["--url", url] if url else []) + list(args)
    return subprocess.run(argv, capture_output=True, text=True, env=full_env, timeout=timeout)


def workers(kittyctl, daemon):
    p = ctl(kittyctl, "ps", "--json", url=daemon.url)
    assert p.returncode == 0, p.stderr
    return {w["model_id"]: w for w in json.loads(p.stdout)["workers"]}


def table(stdout):
    """A kittyctl table as (header, {model: {column: cell}}). Cells are never empty ("-" stands
    for nothing) and columns are two or more spaces apart; only the last may contain spaces."""
    lines = stdout.rstrip("\n").split("\n")
    names = re.split(r" {2,}", lines[0].strip())
    rows = {}
    for line in lines[1:]:
        cells = re.split(r" {2,}", line.strip(), maxsplit=len(names) - 1)
        rows[cells[0]] = dict(zip(names, cells))
    return lines[0], rows


def released(kittyctl, daemon, model):
    p = ctl(kittyctl, "release", model, url=daemon.url)
    assert p.returncode == 0, p.stderr


# --- ps -------------------------------------------------------------------------------------------


def test_ps_table_lists_every_model_with_all_columns(kittyctl, daemon):
    released(kittyctl, daemon, "a")
    p = ctl(kittyctl, "ps", url=daemon.url)
    assert p.returncode == 0, p.stderr
    header, rows = table(p.stdout)
    for column in ("MODEL", "STATUS", "PID", "PORT", "MEMORY", "IDLE", "IN FLIGHT", "REQUESTS",
                   "HOLDS", "LAST ERROR"):
        assert column in header
    assert {"a", "b", "broken"} <= set(rows)
    assert rows["a"]["STATUS"] == "stopped"
    assert rows["a"]["PID"] == "-" and rows["a"]["MEMORY"] == "-" and rows["a"]["HOLDS"] == "-"


def test_ps_json_is_the_daemons_json(kittyctl, daemon):
    p = ctl(kittyctl, "ps", "--json", url=daemon.url)
    assert p.returncode == 0, p.stderr
    with urllib.request.urlopen(daemon.url + "/kitty/system/workers", timeout=10) as r:
        direct = json.loads(r.read())
    got = json.loads(p.stdout)
    assert [w["model_id"] for w in got["workers"]] == [w["model_id"] for w in direct["workers"]]
    assert set(got["workers"][0]) == set(direct["workers"][0])


def test_url_from_environment(kittyctl, daemon):
    p = ctl(kittyctl, "ps", env={"KITTY_URL": daemon.url})
    assert p.returncode == 0, p.stderr
    assert "broken" in p.stdout


# --- ensure / release -----------------------------------------------------------------------------


def test_ensure_then_ps_shows_ready_with_pid_and_release_stops_it(kittyctl, daemon):
    p = ctl(kittyctl, "ensure", "a", url=daemon.url)
    assert p.returncode == 0, p.stderr
    m = re.fullmatch(r"a ready \(pid (\d+), port (\d+), loaded in \d+\.\ds\)\n", p.stdout)
    assert m, p.stdout
    pid = int(m.group(1))
    assert pid_exists(pid)

    _, rows = table(ctl(kittyctl, "ps", url=daemon.url).stdout)
    assert rows["a"]["STATUS"] == "ready"
    assert rows["a"]["PID"] == str(pid)
    assert rows["a"]["PORT"] == m.group(2)
    assert re.fullmatch(r"\d+(\.\d)? [MG]iB|-", rows["a"]["MEMORY"]), rows["a"]
    assert re.fullmatch(r"\d+s|\d+m\d\ds", rows["a"]["IDLE"]), rows["a"]

    r = ctl(kittyctl, "release", "a", url=daemon.url)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "a stopped\n"
    # release returns once the process group is gone; the pid must be reaped, not a zombie.
    assert wait_until(lambda: not pid_exists(pid), 5), f"pid {pid} still alive after release"
    assert workers(kittyctl, daemon)["a"]["status"] == "stopped"


def test_ensure_by_alias(kittyctl, daemon):
    p = ctl(kittyctl, "ensure", "alpha", url=daemon.url)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("a ready (pid ")
    released(kittyctl, daemon, "alpha")


def test_ensure_json(kittyctl, daemon):
    p = ctl(kittyctl, "ensure", "b", "--json", url=daemon.url)
    assert p.returncode == 0, p.stderr
    w = json.loads(p.stdout)
    assert w["model_id"] == "b" and w["status"] == "ready" and isinstance(w["pid"], int)
    released(kittyctl, daemon, "b")


def test_release_all(kittyctl, daemon):
    pids = []
    for model in ("a", "b"):
        p = ctl(kittyctl, "ensure", model, "--json", url=daemon.url)
        assert p.returncode == 0, p.stderr
        pids.append(json.loads(p.stdout)["pid"])
    r = ctl(kittyctl, "release-all", "--force", url=daemon.url)
    assert r.returncode == 0, r.stderr
    assert "a stopped" in r.stdout.splitlines() and "b stopped" in r.stdout.splitlines()
    assert wait_until(lambda: not any(pid_exists(p) for p in pids), 5)
    ws = workers(kittyctl, daemon)
    assert ws["a"]["status"] == "stopped" and ws["b"]["status"] == "stopped"


# --- errors ---------------------------------------------------------------------------------------


def test_unknown_model_lists_the_available_ones_and_exits_1(kittyctl, daemon):
    p = ctl(kittyctl, "ensure", "nope", url=daemon.url)
    assert p.returncode == 1
    assert p.stdout == ""
    assert p.stderr.startswith("kittyctl: ")
    assert "nope" in p.stderr
    for model in ("a", "b", "broken"):
        assert model in p.stderr
    assert p.stderr.count("\n") == 1


def test_unreachable_daemon_exits_2_naming_the_url(kittyctl):
    url = f"http://127.0.0.1:{free_port()}"
    p = ctl(kittyctl, "ps", url=url)
    assert p.returncode == 2
    assert p.stderr == f"kittyctl: cannot reach kittyd at {url}: connection refused\n"


def test_usage_errors_exit_non_zero_with_usage(kittyctl):
    for args in ([], ["ensure"], ["frobnicate"], ["logs", "a", "-n", "x"], ["pin"],
                 ["priority", "a"], ["priority", "a", "high"], ["headroom"],
                 ["top", "--interval", "0"], ["top", "-d", "x"]):
        p = ctl(kittyctl, *args)
        assert p.returncode not in (0, 1, 2), (args, p.returncode)
        assert "Usage" in p.stdout + p.stderr, args
    h = ctl(kittyctl, "--help")
    assert h.returncode == 0 and "ensure" in h.stdout
    for command in ("top", "pin", "unpin", "priority", "headroom"):
        assert command in h.stdout, command


# --- logs -----------------------------------------------------------------------------------------


def test_logs_tail(kittyctl, daemon):
    assert ctl(kittyctl, "ensure", "b", url=daemon.url).returncode == 0
    # --log-requests: every request to the worker adds a line, so there are more than 5 of them.
    for _ in range(8):
        body = json.dumps({"model": "b", "prompt": "hi", "max_tokens": 1}).encode()
        req = urllib.request.Request(daemon.url + "/v1/completions", data=body,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            r.read()
    p = ctl(kittyctl, "logs", "b", "-n", "5", url=daemon.url)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert len(lines) == 5, p.stdout
    everything = ctl(kittyctl, "logs", "b", "-n", "1000", url=daemon.url).stdout.splitlines()
    assert len(everything) > 5
    assert everything[-5:] == lines
    released(kittyctl, daemon, "b")


def test_logs_follow_prints_new_lines_and_stops_on_sigterm(kittyctl, daemon, tmp_path):
    assert ctl(kittyctl, "ensure", "b", url=daemon.url).returncode == 0
    out_path = tmp_path / "follow.out"
    with open(out_path, "w") as out:
        proc = subprocess.Popen([str(kittyctl), "--url", daemon.url, "logs", "b", "-n", "0", "-f"],
                                stdout=out, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)
        body = json.dumps({"model": "b", "prompt": "follow-me", "max_tokens": 1}).encode()
        req = urllib.request.Request(daemon.url + "/v1/completions", data=body,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            r.read()
        assert wait_until(lambda: out_path.read_text() != "", 5), "no new log line followed"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(5) == 0, proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    released(kittyctl, daemon, "b")


def test_logs_of_unknown_model(kittyctl, daemon):
    p = ctl(kittyctl, "logs", "nope", url=daemon.url)
    assert p.returncode == 1 and "nope" in p.stderr


# --- models ---------------------------------------------------------------------------------------


def test_models_table_and_json(kittyctl, daemon):
    p = ctl(kittyctl, "models", url=daemon.url)
    assert p.returncode == 0, p.stderr
    header, rows = table(p.stdout)
    for column in ("MODEL", "STATUS", "BACKEND", "ALIASES"):
        assert column in header
    assert {"a", "b", "broken"} <= set(rows)
    assert rows["a"]["ALIASES"] == "alpha"
    assert rows["a"]["BACKEND"] == "command"
    j = ctl(kittyctl, "models", "--json", url=daemon.url)
    assert j.returncode == 0, j.stderr
    assert {m["id"] for m in json.loads(j.stdout)["data"]} >= {"a", "b", "broken"}


# --- health (last: `ensure broken` leaves a failed model behind) ----------------------------------


def test_health_ok_then_failed_model_then_unreachable(kittyctl, daemon):
    released(kittyctl, daemon, "broken")  # a failed model is stopped again by release
    ok = ctl(kittyctl, "health", url=daemon.url)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    lines = ok.stdout.splitlines()
    assert lines[0] == "✓ kittyd - healthy (3 models)"
    assert "· broken - stopped" in lines

    assert ctl(kittyctl, "ensure", "a", url=daemon.url).returncode == 0
    ready = ctl(kittyctl, "health", url=daemon.url)
    assert ready.returncode == 0
    assert any(line.startswith("✓ a - ready (pid ") for line in ready.stdout.splitlines())

    failed = ctl(kittyctl, "ensure", "broken", url=daemon.url)
    assert failed.returncode == 1
    assert failed.stderr.startswith("kittyctl: ")
    bad = ctl(kittyctl, "health", url=daemon.url)
    assert bad.returncode == 1, bad.stdout
    assert any(line.startswith("✗ broken - failed") for line in bad.stdout.splitlines()), bad.stdout
    _, rows = table(ctl(kittyctl, "ps", url=daemon.url).stdout)
    assert rows["broken"]["STATUS"] == "failed"
    assert rows["broken"]["LAST ERROR"] != "-"

    url = f"http://127.0.0.1:{free_port()}"
    down = ctl(kittyctl, "health", url=url)
    assert down.returncode == 2
    said = down.stdout + down.stderr
    assert url in said and "connection refused" in said


def test_health_exits_2_once_the_daemon_is_stopped(kittyctl, tmp_path):
    d = start_daemon(tmp_path)
    try:
        assert ctl(kittyctl, "health", url=d.url).returncode == 0
    finally:
        d.stop()
    down = ctl(kittyctl, "health", url=d.url)
    assert down.returncode == 2, down.stdout + down.stderr
    assert d.url in down.stdout + down.stderr


def test_reload_prints_each_model_and_a_bad_file_exits_1_naming_the_line(kittyctl, daemon):
    r = ctl(kittyctl, "reload", url=daemon.url)
    assert r.returncode == 0, r.stderr
    assert f"reloaded {daemon.config_path}" in r.stdout and ": unchanged" in r.stdout, r.stdout
    good = daemon.config_path.read_text()
    try:
        daemon.config_path.write_text(good.replace('"models": {', '"models": {"oops": 5, ', 1))
        r = ctl(kittyctl, "reload", url=daemon.url)
        assert r.returncode == 1, r.stdout
        assert "keeps running on the previous config" in r.stderr and "models.oops" in r.stderr, r.stderr
    finally:
        daemon.config_path.write_text(good)
    r = ctl(kittyctl, "ensure", "--reset", "a", url=daemon.url)
    assert r.returncode == 0, r.stderr
