"""Fixtures for the black-box suites: a real kittyd with fake_engine models on real sockets.

Binaries: $KITTYD else build/kittyd, $FAKE_ENGINE else build/fake_engine (relative paths are taken
from the repository root). A missing binary fails the test loudly (scripts/test.sh builds them).

`start_kittyd(models, server=...)` starts a kittyd with its own temp config, logs and state dir and
waits for GET /health. Every pid the test sees in /kitty/system/workers (and every child kittyd
has when it is stopped) is remembered; teardown sends SIGTERM, waits up to 15 s, then SIGKILLs, and
fails the test if any of those processes is still alive.

Generic helpers (binaries, ports, pids, waiting, the kittyd process itself) live in
tests/support/kitty_testkit.py, shared with clients/python/tests; this file adds what only these
suites use. Test modules in this directory may define their own fixtures (test_kittyctl.py does);
the names here are distinct from theirs.
"""

import sys

import httpx
import pytest

import kitty_testkit

# Test modules import these helpers as `kitty_e2e` (with --import-mode=importlib a test file cannot
# import its sibling conftest.py by name).
sys.modules.setdefault("kitty_e2e", sys.modules[__name__])


# --- configs --------------------------------------------------------------------------------------


def fake_model(fake, model_id, *flags, **keys):
    """A `backend: command` model running fake_engine; `keys` are more model keys."""
    m = {"backend": "command",
         "command": [str(fake), "--port", "${PORT}", "--model-id", model_id, *map(str, flags)],
         "shutdown_path": "/shutdown",
         "stop_timeout_seconds": 3}
    m.update(keys)
    return m


# --- the daemon -----------------------------------------------------------------------------------


class Kittyd(kitty_testkit.Kittyd):
    """kitty_testkit's Kittyd plus an httpx client and admin calls that remember every worker pid
    they see (for the teardown check). `admin_key` is sent on the admin calls."""

    def __init__(self, kittyd, workdir, models, server=None, state_dir=None, admin_key=None,
                 wait=True, memory=None, sections=None, args=None):
        self.admin_key = admin_key
        self.client = None  # the URL is known once the base class has picked the port
        super().__init__(kittyd, workdir, models, server=server, state_dir=state_dir, wait=wait,
                         memory=memory, sections=sections, args=args)
        self.client = httpx.Client(base_url=self.url, timeout=30)

    # --- HTTP ---

    def _admin_headers(self, headers=None):
        h = dict(headers or {})
        if self.admin_key and "Authorization" not in h:
            h["Authorization"] = f"Bearer {self.admin_key}"
        return h

    def admin(self, method, path, **kw):
        kw["headers"] = self._admin_headers(kw.get("headers"))
        r = self.client.request(method, path, **kw)
        self._remember(r)
        return r

    def _remember(self, r):
        try:
            j = r.json()
        except ValueError:
            return
        if not isinstance(j, dict):
            return
        for w in j.get("workers", [j]):
            if isinstance(w, dict) and isinstance(w.get("pid"), int):
                self.seen_pids.add(w["pid"])

    def workers(self):
        r = self.admin("GET", "/kitty/system/workers")
        assert r.status_code == 200, r.text
        return {w["model_id"]: w for w in r.json()["workers"]}

    def worker(self, model):
        return self.workers()[model]

    def ensure(self, model):
        r = self.admin("POST", f"/kitty/workers/{model}/ensure")
        assert r.status_code == 200, r.text
        return r.json()

    def release(self, model, force=False):
        r = self.admin("POST", f"/kitty/workers/{model}/release" + ("?force=true" if force else ""))
        assert r.status_code == 200, r.text
        return r.json()

    # --- stopping ---

    def stop(self, check=True):
        """kitty_testkit.Kittyd.stop, checking by default, and the HTTP client closed."""
        try:
            super().stop(check=check)
        finally:
            if self.client is not None:  # None when the start failed before it was made
                self.client.close()


@pytest.fixture(scope="session")
def kittyd_bin():
    return kitty_testkit.require_binary("KITTYD", "build/kittyd")


@pytest.fixture(scope="session")
def fake_bin():
    return kitty_testkit.require_binary("FAKE_ENGINE", "build/fake_engine")


@pytest.fixture
def start_kittyd(kittyd_bin, tmp_path):
    """Factory: start_kittyd(models, server=None, state_dir=None, admin_key=None, wait=True,
    name="d") → Kittyd, stopped (and checked) at teardown unless the test stopped it already."""
    started = []

    def start(models, name="d", **kw):
        d = Kittyd(kittyd_bin, tmp_path / name, models, **kw)
        started.append(d)
        return d

    yield start
    errors = []
    for d in started:
        try:
            d.stop(check=True)
        except AssertionError as exc:
            errors.append(str(exc))
    assert not errors, "\n".join(errors)
