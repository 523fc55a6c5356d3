"""`kittyctl service` (issue 13): kittyd as a user service — a systemd user unit on Linux, a
launchd agent on macOS. The unit is checked with `systemd-analyze verify`, and run for real
where a systemd user manager answers; the plist is parsed as a property list (Python's
plistlib) and checked against the keys launchd requires (`plutil -lint` too, where it exists)."""

import os
import plistlib
import shutil
import subprocess
import time

import httpx
import pytest

from kitty_testkit import free_port, require_binary

IN_CI = os.environ.get("CI") == "true"


@pytest.fixture
def ctl(tmp_path):
    kittyctl = str(require_binary("KITTYCTL", "build/kittyctl"))
    kittyd = str(require_binary("KITTYD", "build/kittyd"))
    env = {**os.environ, "HOME": str(tmp_path)}
    env.pop("XDG_CONFIG_HOME", None)

    def run(*args):
        return subprocess.run([kittyctl, "service", *args, "--kittyd", kittyd], env=env,
                              capture_output=True, text=True, timeout=60)
    run.kittyd = kittyd
    return run


def odd_config(tmp_path, port=7799):
    """A config whose path has what systemd and XML must escape."""
    cfg = tmp_path / "my kitty %h & <co>.yaml"
    cfg.write_text(f"server: {{listen: '127.0.0.1:{port}', state_dir: '{tmp_path}/state'}}\n")
    return cfg


def test_the_systemd_unit_verifies(ctl, tmp_path):
    cfg = odd_config(tmp_path)
    r = ctl("print", "--system", "linux", "--config", str(cfg))
    assert r.returncode == 0, r.stderr
    unit = r.stdout
    for line in ("KillMode=mixed", "Restart=on-failure", "WantedBy=default.target"):
        assert line in unit.splitlines(), unit
    assert f'ExecStart="{ctl.kittyd}" "--config" "{str(cfg).replace("%", "%%")}"' in unit, unit
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        assert not IN_CI, "systemd-analyze missing (scripts/setup_deps.sh installs systemd)"
        pytest.skip("systemd-analyze is not installed")
    path = tmp_path / "kittyd.service"
    path.write_text(unit)
    v = subprocess.run([analyze, "verify", str(path)], capture_output=True, text=True, timeout=60)
    assert v.returncode == 0 and "kittyd.service" not in v.stderr, v.stderr


def test_the_launchd_plist_has_what_launchd_requires(ctl, tmp_path):
    cfg = odd_config(tmp_path)
    r = ctl("print", "--system", "macos", "--config", str(cfg))
    assert r.returncode == 0, r.stderr
    plist = plistlib.loads(r.stdout.encode())  # well-formed XML and a valid property list
    assert plist["Label"] == "dev.kitty.kittyd"
    assert plist["ProgramArguments"] == [ctl.kittyd, "--config", str(cfg)]  # escaped, read back
    assert plist["KeepAlive"] == {"SuccessfulExit": False} and plist["RunAtLoad"] is True
    assert plist["StandardErrorPath"] == str(tmp_path / "Library/Logs/kittyd.log")
    assert isinstance(plist["ExitTimeOut"], int) and plist["ExitTimeOut"] >= 30
    if shutil.which("plutil"):
        path = tmp_path / "kittyd.plist"
        path.write_text(r.stdout)
        assert subprocess.run(["plutil", "-lint", str(path)]).returncode == 0


def test_install_status_uninstall_write_and_remove_the_unit(ctl, tmp_path):
    unit = tmp_path / ".config/systemd/user/kittyd.service"
    r = ctl("status")
    assert r.returncode == 1 and "not installed" in r.stdout
    r = ctl("install", "--no-start")
    assert r.returncode == 0, r.stderr
    assert unit.read_text() == ctl("print").stdout
    assert "systemctl --user enable --now kittyd.service" in r.stdout  # how to start it
    assert "installed: " + str(unit) in ctl("status").stdout
    r = ctl("uninstall")
    assert r.returncode == 0 and not unit.exists(), r.stdout + r.stderr


def test_bad_paths_are_refused(ctl, tmp_path):
    r = ctl("print", "--config", str(tmp_path / "missing.yaml"))
    assert r.returncode == 64 and "cannot read the config" in r.stderr
    kittyctl = str(require_binary("KITTYCTL", "build/kittyctl"))
    r = subprocess.run([kittyctl, "service", "print", "--kittyd", str(tmp_path / "nope")],
                       capture_output=True, text=True)
    assert r.returncode == 64 and "no kittyd at" in r.stderr


def test_a_real_user_service_where_systemd_runs(ctl, tmp_path):
    state = subprocess.run(["systemctl", "--user", "is-system-running"], capture_output=True, text=True) \
        if shutil.which("systemctl") else None
    if state is None or state.stdout.strip() not in ("running", "degraded"):
        pytest.skip("no systemd user manager here (containers and CI run without one): the unit is "
                    "checked by systemd-analyze verify instead")
    port = free_port()
    cfg = odd_config(tmp_path, port)
    env = {**os.environ}  # the real user manager reads the real HOME
    kittyctl = str(require_binary("KITTYCTL", "build/kittyctl"))
    r = subprocess.run([kittyctl, "service", "install", "--kittyd", ctl.kittyd, "--config", str(cfg)],
                       env=env, capture_output=True, text=True, timeout=60)
    try:
        assert r.returncode == 0, r.stderr
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            pytest.fail("the service's kittyd never answered")
    finally:
        subprocess.run([kittyctl, "service", "uninstall", "--kittyd", ctl.kittyd], env=env, timeout=60)
