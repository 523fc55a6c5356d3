"""hold(): the model stays while the block runs, goes after; holds expire without their client."""

from __future__ import annotations

import ast
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from kitty_testkit import Kittyd, pid_exists, wait_until

from kitty_client import AsyncKittyClient, BadRequest, HoldNotFound, KittyClient, ModelNotFound


def hold_ids(client: KittyClient, model: str) -> list[str]:
    return [h["id"] for h in client.worker(model).get("holds") or []]


def test_hold_keeps_idle_model_alive_then_lets_it_go(client: KittyClient) -> None:
    # `small` idles out 1 s after its last use. The lease (1.5 s) is shorter than the block (3 s),
    # so the hold only survives if the client renews it.
    with client.hold("small", lease_seconds=1.5, owner="pytest-hold") as h:
        assert h.model_id == "small"
        assert h.worker["status"] == "ready"
        pid = h.worker["pid"]
        assert h.hold_id in hold_ids(client, "small")
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline:
            w = client.worker("small")
            assert w["status"] == "ready" and w["pid"] == pid, w
            time.sleep(0.25)
        assert h.renewals >= 2
        assert h.last_error is None
    assert h.hold_id not in hold_ids(client, "small")
    # Idle countdown starts when the hold is dropped: 1 s idle, then the worker is stopped.
    assert wait_until(lambda: client.worker("small")["status"] == "stopped", 15), client.worker("small")
    assert wait_until(lambda: not pid_exists(pid), 5), f"pid {pid} still alive"


def test_hold_is_dropped_when_the_block_raises(client: KittyClient) -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        with client.hold("big", lease_seconds=30) as h:
            assert h.hold_id in hold_ids(client, "big")
            raise Boom()
    assert h.hold_id not in hold_ids(client, "big")


def test_hold_release_on_exit_stops_the_model(client: KittyClient) -> None:
    with client.hold("second", release_on_exit=True) as h:
        pid = h.worker["pid"]
        assert client.complete("second", "hi", max_tokens=3)
    assert client.worker("second")["status"] == "stopped"
    assert not pid_exists(pid)


def test_release_inside_a_hold_is_not_undone(client: KittyClient) -> None:
    # An explicit release wins over the hold; the hold must not start the model again.
    with client.hold("second", lease_seconds=0.6) as h:
        pid = h.worker["pid"]
        assert client.release("second")["status"] == "stopped"
        time.sleep(1.0)  # several renewal ticks
        assert client.worker("second")["status"] == "stopped"
        # The renewer was told the hold is gone (404 hold_not_found) and stopped trying.
        assert h.lost and isinstance(h.last_error, HoldNotFound), h
    assert not pid_exists(pid)
    assert client.worker("second")["status"] == "stopped"


def test_hold_unknown_model(client: KittyClient) -> None:
    with pytest.raises(ModelNotFound):
        with client.hold("nope"):
            pass


def test_hold_expires_when_its_client_vanishes(kittyd: Kittyd, client: KittyClient) -> None:
    script = textwrap.dedent(f"""
        import sys, time
        from kitty_client import KittyClient
        c = KittyClient({kittyd.url!r})
        with c.hold("small", lease_seconds=1.5, owner="doomed") as h:
            print(h.hold_id, h.worker["pid"], flush=True)
            time.sleep(600)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().split()
        assert len(line) == 2, f"child printed {line!r}"
        hold_id, pid = line[0], int(line[1])
        time.sleep(2.0)  # longer than the lease: only renewals keep it
        assert hold_id in hold_ids(client, "small")
        assert client.worker("small")["pid"] == pid
        proc.send_signal(signal.SIGKILL)  # no DELETE, no more renewals
        proc.wait(10)
        assert wait_until(lambda: hold_id not in hold_ids(client, "small"), 1.5 + 5), \
            client.worker("small")
        assert wait_until(lambda: client.worker("small")["status"] == "stopped", 15)
        assert wait_until(lambda: not pid_exists(pid), 5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# --- the public hold calls that hold() is built on --------------------------------------------


def test_create_renew_drop_hold(client: KittyClient) -> None:
    h = client.create_hold("second", lease_seconds=5, owner="pytest-public")
    assert h["model_id"] == "second" and h["lease_seconds"] == 5
    hold_id = h["hold_id"]
    w = client.worker("second")
    assert w["status"] == "ready"  # create_hold ensures the model
    assert [(x["id"], x["owner"]) for x in w["holds"]] == [(hold_id, "pytest-public")]

    r = client.renew_hold(hold_id)
    assert r["hold_id"] == hold_id and r["model_id"] == "second"
    assert 4 < r["expires_in_seconds"] <= 5

    assert client.drop_hold(hold_id)["released"] is True
    assert hold_id not in hold_ids(client, "second")
    with pytest.raises(HoldNotFound):
        client.renew_hold(hold_id)
    with pytest.raises(HoldNotFound):
        client.drop_hold(hold_id)
    client.release("second")


def test_create_hold_errors(client: KittyClient) -> None:
    with pytest.raises(ModelNotFound) as ei:
        client.create_hold("nope")
    assert ei.value.model == "nope"
    with pytest.raises(BadRequest) as eb:
        client.create_hold("second", lease_seconds=-1)
    assert eb.value.status == 400 and eb.value.code == "invalid_request"


def test_create_hold_without_owner_sends_none(client: KittyClient) -> None:
    h = client.create_hold("second", lease_seconds=5)
    try:
        [held] = client.worker("second")["holds"]
        assert held["id"] == h["hold_id"] and not held.get("owner"), held
    finally:
        client.drop_hold(h["hold_id"])
        client.release("second")


async def test_async_create_renew_drop_hold(aclient: AsyncKittyClient) -> None:
    h = await aclient.create_hold("second", lease_seconds=5, owner="pytest-async")
    hold_id = h["hold_id"]
    assert hold_id in [x["id"] for x in (await aclient.worker("second"))["holds"]]
    assert (await aclient.renew_hold(hold_id))["hold_id"] == hold_id
    assert (await aclient.drop_hold(hold_id))["released"] is True
    with pytest.raises(HoldNotFound):
        await aclient.renew_hold(hold_id)
    await aclient.release("second")


def test_hold_module_uses_only_public_client_calls() -> None:
    # issue 8: hold.py reached into the client (client._post_json, client._request). Any
    # attribute starting with "_" on a client object is that again.
    import kitty_client.hold as hold_module

    tree = ast.parse(open(hold_module.__file__).read())
    private = [
        f"line {node.lineno}: {ast.unparse(node)}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
        and "client" in ast.unparse(node.value)
    ]
    assert not private, private
