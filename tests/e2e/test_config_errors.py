"""kittyd --config with a broken file: exits non-zero naming file:line: key, starts nothing.
`--check` on a good file exits 0.

Each config has preload: true workers whose command line carries a unique marker, so "nothing was
started" is checked by looking for that marker among the running processes (and for worker logs).
"""

import re
import subprocess
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
