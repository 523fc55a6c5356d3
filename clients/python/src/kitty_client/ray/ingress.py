"""The cluster's OpenAI-compatible front door: reads the model from the body, sends the request to
the node deployment with that model as Serve's multiplexed model id (so Serve picks a replica
that holds it), and retries elsewhere, a bounded number of times, when a node cannot serve it.

Routes: ``POST /v1/chat/completions``, ``/v1/completions``, ``/v1/embeddings`` (streaming passes
through chunk by chunk), ``GET /v1/models``, ``GET /health``. Every answer carries
``X-Kitty-Node`` (the node that served it), ``X-Kitty-Model-Was-Ready`` (``true`` when that
node's kittyd already had the model ready) and ``X-Kitty-Attempts``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any, AsyncIterator

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from .wire import error_body

log = logging.getLogger("kitty_client.ray")

INFERENCE_PATHS = ("/v1/chat/completions", "/v1/completions", "/v1/embeddings")
FIRST_BACKOFF_S = 0.05
MAX_BACKOFF_S = 1.0
# How long requests for a model nobody has served yet wait for the first one's answer to begin
# (its load included) before going ahead on their own.
PLACING_WAIT_S = 120.0


def _json_response(status: int, body: bytes, headers: dict[str, str] | None = None) -> Response:
    return Response(body, status_code=status, headers=headers or {}, media_type="application/json")


def _error(status: int, message: str, code: str, headers: dict[str, str] | None = None) -> Response:
    return _json_response(status, error_body(message, code, status), headers)


def _give_up(model: str, tried: list[dict[str, Any]]) -> Response:
    """No node could serve: one answer that says what each node said. All busy → 429 (try
    later); otherwise the last node's refusal (no_room, node_unavailable...), with the others'."""
    said: dict[str, str] = {}
    for h in tried:
        try:
            said[h["node"]] = json.loads(h.get("body") or b"{}")["error"]["message"]
        except (ValueError, KeyError, TypeError):
            said[h["node"]] = h.get("code") or f"HTTP {h.get('status')}"
    detail = "; ".join(f"{node}: {msg}" for node, msg in said.items())
    message = f"no node could serve model '{model}' after {len(tried)} tries ({detail})"
    if all(h.get("code") == "no_room_busy" for h in tried):
        after = max(int(h.get("retry_after") or 1) for h in tried)
        return _error(429, message, "no_room_busy", {"Retry-After": str(after)})
    last = tried[-1]
    return _error(int(last.get("status") or 503), message, str(last.get("code") or "node_unavailable"))


class KittyIngress:
    """The ingress class; ``deployment()`` in app.py wraps it for Serve."""

    def __init__(self, node: Any, nodes: int = 1, max_attempts: int | None = None,
                 retry_budget_seconds: float = 30.0) -> None:
        self.node = node  # DeploymentHandle of KittyNode
        self.nodes = max(1, int(nodes))
        # Every node a few times over: the router may pick a refusing node again before it
        # learns, and a busy node may free up while others are tried.
        self.max_attempts = int(max_attempts) if max_attempts else 3 * self.nodes + 2
        self.retry_budget_seconds = float(retry_budget_seconds)
        # Cold placement, one at a time per model: Serve learns which replica loads a model from
        # that replica's pushes (every 0.1 s), so a burst of requests for a model no replica has
        # would be spread over several nodes and start it on each. The first request of a burst
        # places the model; the others wait until its answer begins, then follow it there.
        self._placed: set[str] = set()
        self._placing: dict[str, asyncio.Event] = {}

    async def __call__(self, request: Request) -> Response:
        path = request.url.path
        if request.method == "GET" and path in ("/health", "/"):
            return _json_response(200, b'{"status": "ok"}')
        if request.method == "GET" and path == "/v1/models":
            head = await self._with_retries(None, lambda: self.node.models.remote())
            return _json_response(head["status"], head.get("body", b""), self._headers(head))
        if path not in INFERENCE_PATHS:
            return _error(404, f"no route for {request.method} {path}", "not_found")
        if request.method != "POST":
            return _error(405, f"{path} takes POST", "method_not_allowed")
        body = await request.body()
        try:
            parsed = json.loads(body)
        except ValueError:
            return _error(400, "the body is not JSON", "invalid_json")
        model = parsed.get("model") if isinstance(parsed, dict) else None
        if not isinstance(model, str) or not model:
            return _error(400, "the body has no string 'model'", "missing_model")
        rid = request.headers.get("x-request-id")
        if parsed.get("stream") is True:
            return await self._stream(model, path, body, rid)
        handle = self.node.options(multiplexed_model_id=model)
        head = await self._placed_first(model, lambda: handle.call.remote(path, body, rid))
        return _json_response(head["status"], head.get("body", b""), self._headers(head))

    async def _placed_first(self, model: str, send: Any) -> dict[str, Any]:
        """_with_retries, after the first request of a burst for a model not yet placed."""
        mine = None
        if model not in self._placed:
            ev = self._placing.get(model)
            if ev is None:
                mine = self._placing[model] = asyncio.Event()
            else:
                try:
                    await asyncio.wait_for(ev.wait(), PLACING_WAIT_S)
                except asyncio.TimeoutError:
                    pass
        try:
            head = await self._with_retries(model, send)
            if head.get("status", 500) < 400:
                self._placed.add(model)
            return head
        finally:
            if mine is not None:
                mine.set()
                self._placing.pop(model, None)

    @staticmethod
    def _headers(head: dict[str, Any]) -> dict[str, str]:
        # Serve's proxy sets X-Request-Id itself (the id it gave the ingress, which the node passed
        # to kittyd): passing kittyd's echo on too would send the header twice.
        h = {k: v for k, v in (head.get("headers") or {}).items() if k not in ("content-type", "x-request-id")}
        h["X-Kitty-Node"] = str(head.get("node", ""))
        h["X-Kitty-Model-Was-Ready"] = "true" if head.get("was_ready") else "false"
        h["X-Kitty-Attempts"] = str(head.get("attempts", 1))
        return h

    async def _with_retries(self, model: str | None, send: Any) -> dict[str, Any]:
        """Calls ``send()`` (a node call returning a head) until a node serves or refuses for good."""
        deadline = time.monotonic() + self.retry_budget_seconds
        tried: list[dict[str, Any]] = []
        backoff = FIRST_BACKOFF_S
        while True:
            try:
                head = await send()
            except Exception as exc:  # the replica died under the call, or Ray could not reach it
                head = {"status": 503, "node": "?", "retryable": True, "code": "node_unavailable",
                        "body": error_body(f"the node replica failed: {exc}", "node_unavailable", 503)}
            head["attempts"] = len(tried) + 1
            if not head.get("retryable"):
                return head
            tried.append(head)
            if len(tried) >= self.max_attempts or time.monotonic() + backoff > deadline:
                resp = _give_up(model or "(models)", tried)
                return {"status": resp.status_code, "body": resp.body, "node": head.get("node"),
                        "headers": dict(resp.headers), "attempts": len(tried)}
            log.info("model %s: node %s cannot serve it (%s); trying again", model, head.get("node"), head.get("code"))
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_S)

    async def _stream(self, model: str, path: str, body: bytes, rid: str | None) -> Response:
        handle = self.node.options(multiplexed_model_id=model, stream=True)
        gens: list[Any] = []

        async def first() -> dict[str, Any]:
            gen = handle.stream.remote(path, body, rid)
            gens.append(gen)
            return await gen.__anext__()

        head = await self._placed_first(model, first)
        if "body" in head or head["status"] >= 400:
            return _json_response(head["status"], head.get("body", b""), self._headers(head))
        gen = gens[-1]

        async def relay() -> AsyncIterator[bytes]:
            try:
                async for chunk in gen:
                    yield chunk
            except Exception as exc:  # the node or its worker died mid-answer: say so in the stream
                err = {"error": {"message": f"the answer from node {head.get('node')} broke off: {exc}",
                                 "type": "server_error", "code": "upstream_error"}}
                yield b"data: " + json.dumps(err).encode() + b"\n\n"

        ctype = (head.get("headers") or {}).get("content-type", "text/event-stream")
        return StreamingResponse(relay(), status_code=head["status"], headers=self._headers(head), media_type=ctype)
