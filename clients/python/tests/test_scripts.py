"""scripts/list_workers.sh and scripts/memory_health.sh: thin wrappers over kittyctl."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from kitty_client import KittyClient
from kitty_testkit import REPO, Kittyd, binary, free_port


def _kittyctl_env() -> dict[str, str]:
    exe = binary("KITTYCTL", "build/kittyctl")
    if not exe.is_file():
        pytest.skip(f"kittyctl not built at {exe} (set $KITTYCTL); the scripts wrap it")
    return {**os.environ, "KITTYCTL": str(exe)}


def run(script: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(REPO / "scripts" / script), *args], env=env, capture_output=True,
                          text=True, timeout=60)


def test_list_workers(kittyd: Kittyd) -> None:
    env = _kittyctl_env()
    p = run("list_workers.sh", "--url", kittyd.url, env=env)
    assert p.returncode == 0, p.stderr
    assert "big" in p.stdout and "small" in p.stdout
    pj = run("list_workers.sh", "--json", env={**env, "KITTY_URL": kittyd.url})
    assert pj.returncode == 0, pj.stderr
    assert "big" in json.dumps(json.loads(pj.stdout))


def test_memory_health(kittyd: Kittyd) -> None:
    env = _kittyctl_env()
    p = run("memory_health.sh", "--url", kittyd.url, env=env)
    # The session daemon's 'broken' model may have failed in an earlier test: the health
    # check must then say so and exit 1 (the ops manual's contract), else exit 0.
    broken = KittyClient(kittyd.url).worker("broken")["status"] == "failed"
    assert p.returncode == (1 if broken else 0), p.stdout + p.stderr
    assert "kittyd - healthy" in p.stdout
    if broken:
        assert "✗ broken" in p.stdout
    down = run("memory_health.sh", "--url", f"http://127.0.0.1:{free_port()}", env=env)
    assert down.returncode != 0
