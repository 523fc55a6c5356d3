"""kittyd --config with a broken file: exits non-zero naming file:line: key, starts nothing.
`--check` on a good file exits 0.

Each config has preload: true workers whose command line carries a unique marker, so "nothing was
started" is checked by looking for that marker among the running processes (and for worker logs).

The second half covers what users pointed --config at (issue 8): a directory, a device, a FIFO, a
/proc file, a file too large, a file with two YAML documents, an unclosed bracket or quote, and a
bad --listen. Each must be refused with exit code 2 and a message naming the file, both by
`--check` and by a normal start.
"""

import os
import re
import subprocess
import sys
import time
import uuid

import pytest

from kitty_testkit import free_port, pids_with_cmdline


def write_config(tmp_path, body, fake):
    """`body` is YAML for the models section, with {FAKE} and {MARK} placeholders; returns
    (path, marker, text). The server section takes lines 1-4."""
    mark = f"e2e-{uuid.uuid4().hex[:10]}"
    text = (f"server:\n"
            f"  listen: 127.0.0.1:{free_port()}\n"
            f"  logs_dir: {tmp_path}/logs\n"
            f"  state_dir: {tmp_path}/state\n"
            f"models:\n" + body.format(FAKE=fake, MARK=mark))
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    return path, mark, text


def line_of(text, needle):
    """1-based line number of the first line containing `needle`."""
    for i, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return i
    raise AssertionError(f"{needle!r} not in config")


GOOD_MODEL = """\
  good:
    backend: command
    command: [{FAKE}, --port, "${{PORT}}", --model-id, {MARK}-good]
    preload: true
"""

CASES = {
    "unknown_key_with_suggestion": (
        GOOD_MODEL + """\
  a:
    backend: command
    command: [{FAKE}, --port, "${{PORT}}", --model-id, {MARK}-a]
    preload: true
    idle_shutdown_secnds: 5
""",
        "idle_shutdown_secnds:", "models.a.idle_shutdown_secnds",
        r"unknown key \(did you mean 'idle_shutdown_seconds'\?\)"),
    "wrong_type": (
        GOOD_MODEL + """\
  a:
    backend: command
    command: [{FAKE}, --port, "${{PORT}}", --model-id, {MARK}-a]
    preload: true
    stop_timeout_seconds: soon
""",
        "stop_timeout_seconds:", "models.a.stop_timeout_seconds", r"expected .*soon"),
    "missing_model_path": (
        GOOD_MODEL + """\
  llama:
    backend: llama_server
    port: auto
    preload: true
""",
        "llama:", "models.llama.model_path", r"required for backend llama_server"),
    "two_models_on_one_port": (
        GOOD_MODEL + """\
  a:
    backend: command
    command: [{FAKE}, --port, "${{PORT}}", --model-id, {MARK}-a]
    port: 47123
    preload: true
  b:
    backend: command
    command: [{FAKE}, --port, "${{PORT}}", --model-id, {MARK}-b]
    port: 47123
    preload: true
""",
        "{MARK}-b]", "models.b.port", r"port 47123 is also used by model 'a'"),
    "port_out_of_range": (
        GOOD_MODEL + """\
  a:
    backend: command
    command: [{FAKE}, --port, "${{PORT}}", --model-id, {MARK}-a]
    port: 70000
    preload: true
""",
        "port: 70000", "models.a.port", r"port 70000 is outside 1\.\.65535"),
}


def run_kittyd(kittyd, *args):
    return subprocess.run([str(kittyd), *map(str, args)], capture_output=True, text=True,
                          timeout=20, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_config_exits_non_zero_with_file_line_key(case, kittyd_bin, fake_bin, tmp_path):
    body, line_needle, key, message = CASES[case]
    path, mark, text = write_config(tmp_path, body, fake_bin)
    if line_needle == "{MARK}-b]":
        # The duplicate port is reported on the second model's `port:` line.
        lines = text.splitlines()
        start = line_of(text, f"{mark}-b]")
        line = next(i for i in range(start, len(lines) + 1) if "port:" in lines[i - 1])
    else:
        line = line_of(text, line_needle)

    p = run_kittyd(kittyd_bin, "--config", path)
    said = p.stdout + p.stderr
    assert p.returncode != 0, said
    pattern = rf"{re.escape(str(path))}:{line}: {re.escape(key)}: {message}"
    assert re.search(pattern, said), f"expected /{pattern}/ in:\n{said}"
    # Nothing started: no worker process, no worker log, no listening daemon left over.
    assert pids_with_cmdline(mark) == [], said
    assert not list((tmp_path / "logs").glob("*.log")) if (tmp_path / "logs").exists() else True

    # --check reports the same problem.
    c = run_kittyd(kittyd_bin, "--check", "--config", path)
    assert c.returncode != 0
    assert re.search(pattern, c.stdout + c.stderr), c.stdout + c.stderr


def test_check_on_a_good_config_exits_0_and_starts_nothing(kittyd_bin, fake_bin, tmp_path):
    path, mark, _ = write_config(tmp_path, GOOD_MODEL, fake_bin)
    p = run_kittyd(kittyd_bin, "--check", "--config", path)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "OK" in p.stdout
    assert pids_with_cmdline(mark) == []


# --- What --config points at, the YAML itself, and --listen (issue 8) -----------------------------

INVALID_CONFIG_EXIT = 2  # kittyd's exit code for a configuration it refuses


def refused(kittyd, tmp_path, *args):
    """Runs `kittyd --check ARGS` and `kittyd ARGS` (a normal start), asserts both exit with the
    invalid-config code within seconds, and returns (check output, start output).

    The normal start gets its own state dir and a free port, so a kittyd that wrongly accepted the
    config could not touch this machine's real ones; it would keep running and time out here."""
    env = {**os.environ, "KITTY_STATE_DIR": str(tmp_path / "state")}
    outputs = []
    for extra in (["--check"], []):
        argv = [str(kittyd), *extra, *map(str, args)]
        if "--listen" not in args:
            argv += ["--listen", f"127.0.0.1:{free_port()}"]
        t0 = time.monotonic()
        p = subprocess.run(argv, capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL, env=env)
        said = p.stdout + p.stderr
        assert p.returncode == INVALID_CONFIG_EXIT, f"{argv}: exit {p.returncode}:\n{said}"
        assert time.monotonic() - t0 < 10, f"{argv} took {time.monotonic() - t0:.1f} s"
        assert "kittyd: invalid configuration:\n" in said, said
        outputs.append(said)
    return outputs


def assert_refused_with(kittyd, tmp_path, message, *args):
    for said in refused(kittyd, tmp_path, *args):
        assert message in said, f"expected {message!r} in:\n{said}"


def test_a_directory_is_refused(kittyd_bin, tmp_path):
    d = tmp_path / "conf.d"
    d.mkdir()
    (d / "kitty.yaml").write_text("models: {}\n")
    assert_refused_with(kittyd_bin, tmp_path,
                        f"{d}: not a regular file (a directory); the config must be a YAML file",
                        "--config", d)


def test_dev_zero_is_refused_without_reading_it(kittyd_bin, tmp_path):
    # It used to be read without bound until kittyd aborted with bad_alloc.
    assert_refused_with(kittyd_bin, tmp_path,
                        "/dev/zero: not a regular file (a character device); the config must be a YAML file",
                        "--config", "/dev/zero")


def test_a_fifo_is_refused_without_blocking(kittyd_bin, tmp_path):
    # Opening a FIFO for reading waits for a writer: a kittyd that opened it would hang (and
    # `refused` would time out).
    fifo = tmp_path / "kitty.yaml"
    os.mkfifo(fifo)
    assert_refused_with(kittyd_bin, tmp_path,
                        f"{fifo}: not a regular file (a named pipe); the config must be a YAML file",
                        "--config", fifo)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc is Linux's")
def test_proc_self_mem_is_refused(kittyd_bin, tmp_path):
    # A "regular" file of size 0 whose read fails: it used to load as an empty config.
    assert_refused_with(kittyd_bin, tmp_path,
                        "/proc/self/mem: not a regular file on disk: it reports a size of 0 bytes, but reading "
                        "it fails (Input/output error); a /proc or /sys file?",
                        "--config", "/proc/self/mem")


def test_a_file_over_4_mib_is_refused(kittyd_bin, tmp_path):
    big = tmp_path / "big.yaml"
    with open(big, "wb") as f:
        f.write(b"models: {}\n")
        f.truncate(5 << 20)  # sparse: the size alone must be enough to refuse it
    assert_refused_with(kittyd_bin, tmp_path,
                        f"{big}: too large for a config file: 5 MiB (5242880 bytes); the limit is 4 MiB",
                        "--config", big)


def test_a_second_yaml_document_is_refused_at_its_line(kittyd_bin, fake_bin, tmp_path):
    path, mark, text = write_config(tmp_path, GOOD_MODEL + "---\nmodels:\n  other: {{model_path: /x}}\n", fake_bin)
    line = line_of(text, "---")
    assert_refused_with(kittyd_bin, tmp_path,
                        f"{path}:{line}: a second YAML document starts here, but a config file holds one "
                        "document (kittyd would ignore this one)",
                        "--config", path)
    assert pids_with_cmdline(mark) == []


def test_unclosed_bracket_is_reported_where_it_opened(kittyd_bin, tmp_path):
    # `m: [unclosed` on line 2 of a 2-line file: yaml-cpp stops at line 3 (the end of the file).
    path = tmp_path / "kitty.yaml"
    path.write_text("models:\n  m: [unclosed\n")
    assert_refused_with(kittyd_bin, tmp_path,
                        f"{path}:2: YAML syntax error: unclosed '[' opened here at column 6 (parsing stopped at "
                        "line 3, column 1: end of sequence flow not found)",
                        "--config", path)


def test_unclosed_brace_deep_in_a_file_is_reported_where_it_opened(kittyd_bin, fake_bin, tmp_path):
    # ({{ is str.format's escape for a literal brace.)
    body = GOOD_MODEL + "  a: {{backend: command, command: [{FAKE}], port: auto\n" + GOOD_MODEL.replace("good", "b")
    path, mark, text = write_config(tmp_path, body, fake_bin)
    line = line_of(text, "  a: {")
    for said in refused(kittyd_bin, tmp_path, "--config", path):
        assert re.search(rf"{re.escape(str(path))}:{line}: YAML syntax error: unclosed '\{{' opened here at "
                         r"column 6 \(parsing stopped at line \d+", said), said
    assert pids_with_cmdline(mark) == []


def test_a_quote_that_never_closes_is_refused(kittyd_bin, tmp_path):
    # yaml-cpp alone would load this, with model_path = "/a threads: 4 ".
    path = tmp_path / "kitty.yaml"
    path.write_text('models:\n  a:\n    model_path: "/a\n    threads: 4\n')
    assert_refused_with(kittyd_bin, tmp_path,
                        f"{path}:3: YAML syntax error: unclosed '\"' opened here at column 17 (the string runs "
                        "to the end of the file)",
                        "--config", path)


@pytest.mark.parametrize("listen, message", [
    ("abc", 'got "abc"'),
    (":7700", 'got ":7700"'),
    ("[::1]7700", 'got "[::1]7700"'),
    ("127.0.0.1:0", 'port 0 is outside 1..65535 in "127.0.0.1:0"'),
    ("127.0.0.1:99999", 'port 99999 is outside 1..65535 in "127.0.0.1:99999"'),
])
def test_bad_listen_flag_gets_server_listens_message(listen, message, kittyd_bin, fake_bin, tmp_path):
    path, mark, _ = write_config(tmp_path, GOOD_MODEL, fake_bin)
    if message.startswith("got"):
        message = 'expected "host:port" (e.g. "127.0.0.1:7700" or "[::1]:7700"), ' + message
    assert_refused_with(kittyd_bin, tmp_path, f"--listen: {message}", "--config", path, "--listen", listen)
    # Without --config too (the embedded default goes through the same loader).
    assert_refused_with(kittyd_bin, tmp_path, f"--listen: {message}", "--listen", listen)
    assert pids_with_cmdline(mark) == []


def test_listen_flag_on_a_models_port_is_refused(kittyd_bin, fake_bin, tmp_path):
    port = free_port()
    body = GOOD_MODEL + f"  fixed:\n    backend: command\n    command: [{{FAKE}}]\n    port: {port}\n"
    path, mark, text = write_config(tmp_path, body, fake_bin)
    line = line_of(text, f"port: {port}")
    assert_refused_with(kittyd_bin, tmp_path,
                        f"{path}:{line}: models.fixed.port: port {port} is kittyd's own listen port (--listen)",
                        "--config", path, "--listen", f"127.0.0.1:{port}")
    assert pids_with_cmdline(mark) == []
