"""The per-node replica: one on every Ray node that runs a kittyd, fronting that kittyd.

Model multiplexing is kittyd's hold: Serve's ``@serve.multiplexed`` loader takes a hold on the
model (``POST /kitty/workers/{id}/hold``: ensure, then keep it loaded while the lease is renewed),
and when Serve's per-replica LRU lets a model go, the hold is dropped — kittyd keeps the model
warm until its memory is wanted, but no longer protects it. Serve routes a model's requests to
the replicas that report it loaded, so a model's traffic lands where it is already hot, and
``max_num_models_per_replica`` is what the node's kittyd says fits together
(``GET /kitty/system/memory`` → ``max_resident_models``), never a guess.

A kittyd that refuses (no room, busy, stopping) or does not answer is reported to the ingress in
the head (wire.py) as retryable; a kittyd that does not answer also fails the replica's health
check, so Serve stops routing to this node until its kittyd is back.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from typing import Any, AsyncIterator, Mapping

import httpx
from ray import serve

from .. import _http
from ..hold import default_owner, renew_interval
from .discovery import NodeTarget, this_node_target
from .wire import answer_head, unreachable_head

log = logging.getLogger("kitty_client.ray")

DEFAULT_LEASE_SECONDS = 30.0


class _Refused(Exception):
    """The node's kittyd would not hold the model; ``head`` says why (wire.py)."""

    def __init__(self, head: dict[str, Any]) -> None:
        super().__init__(head.get("code"))
        self.head = head


class _Held:
    """A hold on one model, alive while the model is in the replica's multiplex cache."""

    def __init__(self, node: "KittyNode", model: str, hold_id: str, was_ready: bool) -> None:
        self.node, self.model, self.hold_id, self.was_ready = node, model, hold_id, was_ready
        self.lost = False
        self._dropping = False
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._task = asyncio.create_task(self._renew(), name=f"kitty-hold-{model}")

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(renew_interval(self.node.lease_seconds))
            try:
                r = await self.node.http.post(f"/kitty/holds/{self.hold_id}/renew", headers=self.node.admin_headers())
            except httpx.TransportError as exc:
                log.warning("renewing the hold on %s at %s: %s", self.model, self.node.target.url, exc)
                continue  # the lease is three renewals long: a hiccup costs nothing
            if r.status_code == 404:  # kittyd restarted, or the model was released: take it again on use
                self.lost = True
                return

    async def retake(self) -> None:
        """Hold again after the hold was lost (kittyd restarted, an operator released it)."""
        fresh = await self.node.take_hold(self.model)
        self.hold_id, self.was_ready, self.lost = fresh["hold_id"], fresh["was_ready"], False
        self._task = asyncio.create_task(self._renew(), name=f"kitty-hold-{self.model}")

    async def drop(self) -> None:
        self._dropping = True
        self._task.cancel()
        self.node.holds.pop(self.model, None)
        if self.lost:
            return
        try:
            await self.node.http.delete(f"/kitty/holds/{self.hold_id}", headers=self.node.admin_headers())
        except httpx.TransportError:
            pass  # kittyd is gone: its hold went with it, or its lease runs out

    def __del__(self) -> None:
        # Serve's multiplexer calls this on an executor thread when its LRU lets the model go,
        # and loads the next model once it returns: the hold must be gone by then, or the next
        # model's start would find this one still held and be refused. The drop runs on the
        # replica's loop; this thread waits for it. The garbage collector may call this too,
        # possibly on the loop's own thread: then the drop is only scheduled.
        if self._dropping:
            return
        self._dropping = True
        try:
            fut = asyncio.run_coroutine_threadsafe(self.drop(), self._loop)
        except RuntimeError:
            return  # the loop is closed: the lease runs out by itself
        if threading.get_ident() != self._loop_thread:
            try:
                fut.result(timeout=10)
            except Exception:  # noqa: BLE001 - a slow kittyd: its lease ends the hold anyway
                log.warning("dropping the hold on %s at %s did not finish", self.model, self.node.target.url)


# Each item a replica yields is a Ray object passed through two actors (this replica → the
# ingress → Serve's proxy), about a hundred microseconds apiece: what kittyd sent while the
# previous item was on its way goes out as one item, up to this size. An answer that trickles
# (a token at a time at reading speed) still goes out chunk by chunk, at once.
COALESCE_BYTES = 256 * 1024


async def _coalesced(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """The chunks of `chunks`, joined while the consumer is busy with the previous join."""
    pending: list[bytes] = []
    size = 0
    done = False
    error: BaseException | None = None
    arrived = asyncio.Event()
    room = asyncio.Event()
    room.set()

    async def read() -> None:
        nonlocal size, done, error
        try:
            async for c in chunks:
                await room.wait()
                pending.append(c)
                size += len(c)
                if size >= COALESCE_BYTES:
                    room.clear()
                arrived.set()
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer below
            error = exc
        finally:
            done = True
            arrived.set()

    reader = asyncio.create_task(read())
    try:
        while True:
            await arrived.wait()
            arrived.clear()
            if pending:
                out = b"".join(pending)
                pending.clear()
                size = 0
                room.set()
                yield out
            if done and not pending:
                if error is not None:
                    raise error
                return
    finally:
        reader.cancel()


class KittyNode:
    """The replica class; ``deployment()`` below wraps it for Serve."""

    def __init__(self, kittyd_urls: Mapping[str, str] | None = None, kittyd_url: str | None = None,
                 api_key: str | None = None, admin_key: str | None = None,
                 lease_seconds: float = DEFAULT_LEASE_SECONDS, max_models: int | None = None,
                 request_timeout: float = _http.DEFAULT_TIMEOUT) -> None:
        self.target: NodeTarget = this_node_target(kittyd_urls, kittyd_url, os.environ)
        self.api_key = _http.resolve_api_key(api_key)
        self.admin_key = admin_key if admin_key is not None else self.api_key
        self.lease_seconds = float(lease_seconds)
        self.owner = f"ray:{self.target.name}:{default_owner()}"
        self.http = httpx.AsyncClient(base_url=self.target.url,
                                      timeout=httpx.Timeout(request_timeout, connect=_http.CONNECT_TIMEOUT),
                                      limits=httpx.Limits(max_connections=256, max_keepalive_connections=64))
        self.max_models = int(max_models) if max_models else self._max_resident()
        self.holds: dict[str, _Held] = {}

        async def load(model_id: str) -> _Held:
            fresh = await self.take_hold(model_id)
            held = _Held(self, model_id, fresh["hold_id"], fresh["was_ready"])
            self.holds[model_id] = held
            return held

        # Wired here, not as a decorated method, so that the cache size is the node's own figure.
        self._load_fn = load
        self._load = serve.multiplexed(max_num_models_per_replica=self.max_models)(load)
        log.info("node %s: kittyd %s (%s), %d models at once", self.target.name, self.target.url,
                 self.target.matched, self.max_models)

    # --- kittyd ---------------------------------------------------------------------------------

    def admin_headers(self) -> dict[str, str]:
        return _http.headers(self.admin_key)

    def _proxy_headers(self, request_id: str | None) -> dict[str, str]:
        h = _http.headers(self.api_key)
        h["Content-Type"] = "application/json"
        if request_id:
            h["X-Request-Id"] = request_id
        return h

    def _max_resident(self) -> int:
        url = self.target.url + "/kitty/system/memory"
        try:
            r = httpx.get(url, headers=self.admin_headers(), timeout=10)
        except httpx.TransportError as exc:
            raise RuntimeError(f"node {self.target.name}: kittyd at {self.target.url} does not answer ({exc}); "
                               f"start it, or point this node elsewhere (kittyd_urls, $KITTY_URL)") from exc
        if r.status_code != 200:
            raise RuntimeError(f"node {self.target.name}: GET {url} answered {r.status_code}: {r.text[:300]}")
        n = r.json().get("max_resident_models")
        if not isinstance(n, int) or n < 1:
            raise RuntimeError(f"node {self.target.name}: kittyd at {self.target.url} does not say how many "
                               f"models fit together (max_resident_models: {n!r}): it is older than this client")
        return n

    async def take_hold(self, model: str) -> dict[str, Any]:
        try:
            r = await self.http.post(_http.worker_path(model, "/hold"), headers=self.admin_headers(),
                                     json={"lease_seconds": self.lease_seconds, "owner": self.owner})
        except httpx.TransportError as exc:
            raise _Refused(unreachable_head(self.target.name, self.target.url, str(exc) or type(exc).__name__))
        if r.status_code != 200:
            raise _Refused(answer_head(self.target.name, r.status_code, r.headers, was_ready=False, body=r.content))
        j = r.json()
        return {"hold_id": str(j["hold_id"]), "was_ready": bool(j.get("was_ready", False))}

    async def _held(self, model: str) -> tuple[bool, dict[str, Any] | None]:
        """Holds `model` here: (whether kittyd had it ready before, None) or (False, refusal head)."""
        cached = model in self.holds and not self.holds[model].lost
        try:
            held = await self._load(model)
            if held.lost:
                await held.retake()
        except _Refused as r:
            # Serve learns which models a replica holds from the multiplexer's pushes; one made
            # while this load was under way listed the model. Push again so that the next try of
            # this request is not sent back here.
            wrapper = getattr(self._load_fn, "__serve_multiplex_wrapper", None)
            if wrapper is not None and hasattr(wrapper, "_push_multiplexed_replica_info"):
                wrapper._push_multiplexed_replica_info = True
            return False, r.head
        return cached or held.was_ready, None

    # --- called by the ingress ------------------------------------------------------------------

    async def call(self, path: str, body: bytes, request_id: str | None = None) -> dict[str, Any]:
        """One request with a whole answer: the head with the body."""
        was_ready, refused = await self._held(serve.get_multiplexed_model_id())
        if refused is not None:
            return refused
        try:
            r = await self.http.post(path, content=body, headers=self._proxy_headers(request_id))
        except httpx.TransportError as exc:
            return unreachable_head(self.target.name, self.target.url, str(exc) or type(exc).__name__)
        return answer_head(self.target.name, r.status_code, r.headers, was_ready=was_ready, body=r.content)

    async def stream(self, path: str, body: bytes, request_id: str | None = None) -> AsyncIterator[Any]:
        """One streamed request: the head first, then the answer's bytes as kittyd sends them."""
        was_ready, refused = await self._held(serve.get_multiplexed_model_id())
        if refused is not None:
            yield refused
            return
        started = False
        try:
            async with self.http.stream("POST", path, content=body, headers=self._proxy_headers(request_id)) as r:
                if r.status_code >= 400:
                    content = await r.aread()
                    yield answer_head(self.target.name, r.status_code, r.headers, was_ready=was_ready, body=content)
                    return
                started = True
                yield answer_head(self.target.name, r.status_code, r.headers, was_ready=was_ready)
                async for chunk in _coalesced(r.aiter_raw()):
                    yield chunk
        except httpx.TransportError as exc:
            if started:
                raise  # mid-answer: the ingress ends the stream with an error event
            yield unreachable_head(self.target.name, self.target.url, str(exc) or type(exc).__name__)

    async def models(self) -> dict[str, Any]:
        try:
            r = await self.http.get("/v1/models", headers=self._proxy_headers(None))
        except httpx.TransportError as exc:
            return unreachable_head(self.target.name, self.target.url, str(exc) or type(exc).__name__)
        return answer_head(self.target.name, r.status_code, r.headers, was_ready=True, body=r.content)

    async def info(self) -> dict[str, Any]:
        return {"node": self.target.name, "url": self.target.url, "found_by": self.target.matched,
                "max_models": self.max_models, "held": sorted(self.holds)}

    async def check_health(self) -> None:
        """Serve's health check: a node whose kittyd does not answer takes no requests."""
        try:
            r = await self.http.get("/health", timeout=3)
        except httpx.TransportError as exc:
            raise RuntimeError(f"kittyd of node {self.target.name} at {self.target.url} does not answer: {exc}")
        if r.status_code != 200:
            raise RuntimeError(f"kittyd of node {self.target.name} answered /health with {r.status_code}")

    async def __del__(self) -> None:
        for held in list(self.holds.values()):
            await held.drop()
        await self.http.aclose()
