"""Holds: keep a model from being idled out or evicted while a block of code works with it.

kittyd side (docs/API.md; the clients' ``create_hold``, ``renew_hold`` and ``drop_hold``):
``POST /kitty/workers/{id}/hold`` ensures the model and returns a hold with a lease;
``POST /kitty/holds/{hold_id}/renew`` restarts the lease; ``DELETE`` drops it. A
hold that is not renewed expires when its lease runs out, so a client that vanishes (killed,
suspended, network gone) cannot pin a model forever.

Client side: :func:`hold` / :func:`ahold` acquire the hold, renew it every ``lease/3`` from a
background thread (sync) or task (async) and drop it on exit, also when the block raises.
A failed renewal is retried at the next tick (a brief daemon hiccup costs nothing, since the
lease is three ticks long); a hold the daemon no longer knows is marked ``lost``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, AsyncIterator, Iterator

from ._http import DEFAULT_LEASE_SECONDS
from .errors import DaemonUnavailable, HoldNotFound, KittyError

if TYPE_CHECKING:
    from .async_client import AsyncKittyClient
    from .client import KittyClient

log = logging.getLogger("kitty_client.hold")

MIN_RENEW_INTERVAL = 0.05


@dataclass
class Hold:
    """What ``with client.hold(model) as h`` yields.

    ``worker`` is the worker's state (the ``W`` object of docs/API.md) right after the hold was
    taken: ``h.worker["pid"]``, ``h.worker["port"]``, ...

    ``lost`` becomes True if kittyd no longer knows the hold (its lease ran out while this process
    was suspended, the model was released, or kittyd restarted). The block goes on; the model is
    then only protected as any used model is, and a request restarts it if it was stopped. The
    hold is not taken again behind the caller's back: that would undo an explicit release.
    """

    hold_id: str
    model_id: str
    lease_seconds: float
    expires_in_seconds: float
    owner: str
    worker: dict[str, Any] = field(default_factory=dict)
    renewals: int = 0
    lost: bool = False
    last_error: KittyError | None = None


def default_owner() -> str:
    return f"kitty_client@{socket.gethostname()}:{os.getpid()}"


def renew_interval(lease_seconds: float) -> float:
    return max(lease_seconds / 3.0, MIN_RENEW_INTERVAL)


def _apply(h: Hold, resp: dict[str, Any]) -> None:
    h.hold_id = str(resp.get("hold_id", h.hold_id))
    h.lease_seconds = float(resp.get("lease_seconds", h.lease_seconds))
    h.expires_in_seconds = float(resp.get("expires_in_seconds", h.lease_seconds))


def _new_hold(model: str, resp: dict[str, Any], lease_seconds: float, owner: str) -> Hold:
    if "hold_id" not in resp:
        raise KittyError(f"kittyd answered the hold request for {model!r} without a hold_id: {resp}")
    h = Hold(
        hold_id=str(resp["hold_id"]),
        model_id=str(resp.get("model_id", model)),
        lease_seconds=lease_seconds,
        expires_in_seconds=lease_seconds,
        owner=owner,
    )
    _apply(h, resp)
    return h


# --- sync -------------------------------------------------------------------------------------


class _Renewer(threading.Thread):
    def __init__(self, client: "KittyClient", h: Hold) -> None:
        super().__init__(name=f"kitty-hold-{h.model_id}", daemon=True)
        self._client = client
        self._hold = h
        self._stop_event = threading.Event()

    def stop(self) -> None:
        self._stop_event.set()

    def run(self) -> None:
        h = self._hold
        while not self._stop_event.wait(renew_interval(h.lease_seconds)):
            try:
                _apply(h, self._client.renew_hold(h.hold_id))
                h.renewals += 1
                h.last_error = None
            except HoldNotFound as exc:
                _mark_lost(h, exc)
                return
            except KittyError as exc:
                # Transient (daemon restarting, network): keep trying until the lease runs out.
                log.warning("renewing hold %s on %s failed: %s", h.hold_id, h.model_id, exc)
                h.last_error = exc


def _mark_lost(h: Hold, exc: KittyError) -> None:
    log.warning("hold %s on %s is gone (%s); %s is no longer protected from idling out",
                h.hold_id, h.model_id, exc, h.model_id)
    h.lost = True
    h.last_error = exc


def _drop_sync(client: "KittyClient", h: Hold, *, raising: bool) -> None:
    if h.lost:
        return
    try:
        client.drop_hold(h.hold_id)
    except (HoldNotFound, DaemonUnavailable) as exc:
        # Both end the same way: the hold is gone, or its lease will run out without us.
        log.warning("dropping hold %s on %s: %s", h.hold_id, h.model_id, exc)
    except KittyError:
        if raising:
            raise
        log.exception("dropping hold %s on %s failed", h.hold_id, h.model_id)


@contextlib.contextmanager
def hold(
    client: "KittyClient",
    model: str,
    *,
    lease_seconds: float | None = None,
    owner: str | None = None,
    release_on_exit: bool = False,
) -> Iterator[Hold]:
    """Sync hold; see :meth:`KittyClient.hold`."""
    lease = float(lease_seconds or DEFAULT_LEASE_SECONDS)
    who = owner or default_owner()
    resp = client.create_hold(model, lease_seconds=lease, owner=who)
    h = _new_hold(model, resp, lease, who)
    renewer = _Renewer(client, h)
    renewer.start()
    ok = False
    try:
        h.worker = client.worker(model)
        yield h
        ok = True
    finally:
        renewer.stop()
        renewer.join()
        _drop_sync(client, h, raising=ok)
        if release_on_exit:
            if ok:
                client.release(model)
            else:
                try:
                    client.release(model)
                except KittyError:
                    log.exception("releasing %s after a failed block", model)


# --- async ------------------------------------------------------------------------------------


async def _renew_forever(client: "AsyncKittyClient", h: Hold) -> None:
    while True:
        await asyncio.sleep(renew_interval(h.lease_seconds))
        try:
            _apply(h, await client.renew_hold(h.hold_id))
            h.renewals += 1
            h.last_error = None
        except HoldNotFound as exc:
            _mark_lost(h, exc)
            return
        except KittyError as exc:
            log.warning("renewing hold %s on %s failed: %s", h.hold_id, h.model_id, exc)
            h.last_error = exc


async def _drop_async(client: "AsyncKittyClient", h: Hold, *, raising: bool) -> None:
    if h.lost:
        return
    try:
        await client.drop_hold(h.hold_id)
    except (HoldNotFound, DaemonUnavailable) as exc:
        log.warning("dropping hold %s on %s: %s", h.hold_id, h.model_id, exc)
    except KittyError:
        if raising:
            raise
        log.exception("dropping hold %s on %s failed", h.hold_id, h.model_id)


@contextlib.asynccontextmanager
async def ahold(
    client: "AsyncKittyClient",
    model: str,
    *,
    lease_seconds: float | None = None,
    owner: str | None = None,
    release_on_exit: bool = False,
) -> AsyncIterator[Hold]:
    """Async hold; see :meth:`AsyncKittyClient.hold`."""
    lease = float(lease_seconds or DEFAULT_LEASE_SECONDS)
    who = owner or default_owner()
    resp = await client.create_hold(model, lease_seconds=lease, owner=who)
    h = _new_hold(model, resp, lease, who)
    task = asyncio.create_task(_renew_forever(client, h), name=f"kitty-hold-{model}")
    ok = False
    try:
        h.worker = await client.worker(model)
        yield h
        ok = True
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await _drop_async(client, h, raising=ok)
        if release_on_exit:
            if ok:
                await client.release(model)
            else:
                try:
                    await client.release(model)
                except KittyError:
                    log.exception("releasing %s after a failed block", model)
