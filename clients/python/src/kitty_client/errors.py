"""Exceptions raised by the kittyd clients, and the one table that picks them.

Every error the daemon returns is OpenAI-shaped (docs/API.md)::

    {"error": {"message": "...", "type": "...", "code": "worker_start_failed",
               "reason": "exec_failed", ...}}

and becomes one of the classes below, chosen by ``code`` (:data:`CODE_TO_ERROR` lists every code
of docs/API.md's table). ``error.reason``, when the daemon sends one, is the finer cause
(``exec_failed``, ``port_in_use``, ``worker_crashed`` ...) and is on every exception as
``.reason``. A code this client does not know still raises a :class:`KittyError` with its status,
code and reason, so a newer daemon never turns into a crash of an older client.

Hierarchy::

    KittyError
    ├── DaemonUnavailable            no answer at all (connection refused, timed out, dropped)
    ├── BadRequest                   400 invalid_json, missing_model, invalid_request
    ├── AuthenticationError          401 invalid_api_key
    ├── NotFound
    │   ├── ModelNotFound            404 model_not_found
    │   ├── RouteNotFound            404 not_found
    │   └── HoldNotFound             404 hold_not_found
    ├── MethodNotAllowed             405 method_not_allowed
    ├── RequestTimeout               408 request_timeout
    ├── RequestTooLarge              413 body_too_large, 431 header_too_large
    ├── InternalError                500 internal_error
    ├── Unsupported                  501 unsupported
    ├── UpstreamError                502 upstream_error (and an error event mid-stream)
    ├── WorkerStartFailed            503 worker_start_failed, whatever its reason
    │   └── WorkerStartTimeout       504 start_timeout
    ├── WorkerStopping               503 worker_stopping
    │   └── ShuttingDown             503 shutting_down
    ├── ServerBusy                   503 server_busy
    └── NoRoom                       503 no_room
        └── NoRoomBusy               429 no_room_busy (models in use hold the memory: later)

Each message says what happened in words a person can act on; the structured parts are
attributes.
"""

from __future__ import annotations

import json
import re
from typing import Any, Mapping, Sequence


class KittyError(Exception):
    """Any error from kittyd or from talking to it.

    Attributes:
        message: the daemon's (or the client's) description.
        status: HTTP status, or None when no response came back (or for an error event in a
            stream, which arrives after the 200).
        code: the daemon's ``error.code`` (e.g. ``"upstream_error"``), or None.
        reason: the daemon's ``error.reason`` (e.g. ``"worker_crashed"``), or None when it sent
            none. :class:`DaemonUnavailable` puts its own description of the failure here.
        body: the parsed ``error`` object, when there was one.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        reason: str | None = None,
        body: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.reason = reason
        self.body = body or {}

    def __str__(self) -> str:
        parts = []
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        if self.code:
            parts.append(self.code)
        if self.reason and self.code:
            parts[-1] += f"/{self.reason}"
        prefix = f"[{' '.join(parts)}] " if parts else ""
        return prefix + self.message


class DaemonUnavailable(KittyError):
    """kittyd could not be reached (connection refused, timed out, connection dropped).

    There is no daemon answer, so ``reason`` is the client's description of what failed
    (``"connection refused"``, ...), not a wire reason.
    """

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(
            f"kittyd is not reachable at {url}: {reason} "
            "(is kittyd running? set KITTY_URL or pass base_url)",
            reason=reason,
        )
        self.url = url


class BadRequest(KittyError):
    """The request was malformed: the body is not JSON, has no ``model``, or a field is wrong
    (HTTP 400 ``invalid_json``, ``missing_model``, ``invalid_request``)."""


class AuthenticationError(KittyError):
    """kittyd has API keys configured and the key sent was missing or wrong (HTTP 401)."""


class NotFound(KittyError):
    """Something the request named does not exist (HTTP 404); see the subclasses."""


class ModelNotFound(NotFound):
    """The model id (or alias) is not configured in kittyd; ``available`` lists those that are."""

    def __init__(
        self,
        model: str | None,
        available: Sequence[str],
        *,
        status: int | None = 404,
        reason: str | None = None,
        body: dict[str, Any] | None = None,
    ) -> None:
        avail = ", ".join(available) if available else "(none)"
        super().__init__(
            f"model {model!r} not found; available: {avail}",
            status=status,
            code="model_not_found",
            reason=reason,
            body=body,
        )
        self.model = model
        self.available = list(available)


class RouteNotFound(NotFound):
    """No such route on kittyd (HTTP 404 ``not_found``): a wrong URL or a client/daemon mismatch."""


class HoldNotFound(NotFound):
    """The hold expired (its lease ran out), was dropped, its model was released, or it never
    existed (HTTP 404 ``hold_not_found``)."""


class MethodNotAllowed(KittyError):
    """The route exists but not with this HTTP method (HTTP 405)."""


class RequestTimeout(KittyError):
    """kittyd gave up waiting for the request's header or body (HTTP 408)."""


class RequestTooLarge(KittyError):
    """The request body is over ``server.max_body_bytes`` (HTTP 413 ``body_too_large``) or its
    header is over 64 KiB (HTTP 431 ``header_too_large``)."""


class InternalError(KittyError):
    """kittyd failed on its own (HTTP 500 ``internal_error``); ``reason`` names the failure."""


class Unsupported(KittyError):
    """kittyd does not serve this (HTTP 501): e.g. a ``backend: ollama`` model, or a
    ``Transfer-Encoding`` other than ``chunked``."""


class UpstreamError(KittyError):
    """The worker died or broke the connection mid-request (HTTP 502 or an error event in a
    stream); ``reason`` is ``"worker_crashed"`` when its process died."""


class WorkerStartFailed(KittyError):
    """kittyd could not start the model's worker (HTTP 503 ``worker_start_failed``).

    Attributes:
        model: the model asked for.
        detail: the daemon's message (what failed, with the log tail it quotes).
        reason: the cause on the wire: ``exec_failed``, ``launch_invalid``,
            ``model_file_invalid``, ``port_in_use``, ``no_free_port``, ``exited``, or None.
        log_tail: the worker's last log lines.
    """

    def __init__(
        self,
        model: str | None,
        message: str,
        log_tail: Sequence[str] = (),
        *,
        status: int | None = 503,
        code: str = "worker_start_failed",
        reason: str | None = None,
        body: dict[str, Any] | None = None,
    ) -> None:
        text = f"worker for model {model!r} failed to start: {message}"
        missing = [line for line in log_tail if line not in message]
        if missing:
            text += "\n--- worker log tail ---\n" + "\n".join(log_tail)
        super().__init__(text, status=status, code=code, reason=reason, body=body)
        self.model = model
        self.detail = message
        self.log_tail = list(log_tail)


class WorkerStartTimeout(WorkerStartFailed):
    """The worker did not become healthy within its ``start_timeout_seconds`` (HTTP 504)."""


class WorkerStopping(KittyError):
    """The model is being released (HTTP 503 ``worker_stopping``); a later request starts it
    again. Also the base of :class:`ShuttingDown`."""


class ShuttingDown(WorkerStopping):
    """The daemon itself is stopping (HTTP 503 ``shutting_down``)."""


class ServerBusy(KittyError):
    """kittyd is at ``server.max_connections`` and could not make room (HTTP 503 ``server_busy``)."""


class NoRoom(KittyError):
    """The model does not fit kittyd's memory budget, and what holds the memory may not be
    stopped: pinned models, or models in use for longer than ``memory.wait_seconds`` (HTTP 503
    ``no_room``). The message names who holds the memory."""


class NoRoomBusy(NoRoom):
    """No room now, but the models holding the memory are in use and will free it (HTTP 429
    ``no_room_busy``, sent with ``Retry-After``): ask again after :attr:`retry_after` seconds, or
    ask another node. A :class:`NoRoom`, so code that catches that keeps working."""

    # What kittyd sends as Retry-After (docs/API.md); a router may read the header instead.
    retry_after: float = 2.0


# The one table: every `code` of docs/API.md's error table. tests/test_error_mapping.py reads the
# docs and fails if a documented code is missing here or maps to the bare KittyError.
CODE_TO_ERROR: Mapping[str, type[KittyError]] = {
    "invalid_json": BadRequest,
    "missing_model": BadRequest,
    "invalid_request": BadRequest,
    "invalid_api_key": AuthenticationError,
    "model_not_found": ModelNotFound,
    "not_found": RouteNotFound,
    "hold_not_found": HoldNotFound,
    "method_not_allowed": MethodNotAllowed,
    "request_timeout": RequestTimeout,
    "body_too_large": RequestTooLarge,
    "header_too_large": RequestTooLarge,
    "internal_error": InternalError,
    "unsupported": Unsupported,
    "upstream_error": UpstreamError,
    "worker_start_failed": WorkerStartFailed,
    "worker_stopping": WorkerStopping,
    "shutting_down": ShuttingDown,
    "server_busy": ServerBusy,
    "no_room": NoRoom,
    "no_room_busy": NoRoomBusy,
    "start_timeout": WorkerStartTimeout,
}

# Answers without a known code (an older daemon, or a proxy in front of kittyd). Only statuses
# that mean one thing whoever sends them; a bare 404, 503 or 504 could be many of the above.
_STATUS_FALLBACK: Mapping[int, type[KittyError]] = {
    401: AuthenticationError,
    502: UpstreamError,
}

_AVAILABLE_RE = re.compile(r"available:\s*(.*)$")


def _available_from(err: Mapping[str, Any]) -> list[str]:
    avail = err.get("available")
    if isinstance(avail, list):
        return [str(a) for a in avail]
    # Older daemons only list them in the message: "...; available: a, b".
    m = _AVAILABLE_RE.search(str(err.get("message", "")))
    if m:
        return [a.strip() for a in m.group(1).split(",") if a.strip()]
    return []


def _str_or_none(v: Any) -> str | None:
    return v if isinstance(v, str) and v else None


def error_from_payload(
    status: int | None, payload: Any, *, model: str | None = None, fallback_text: str = ""
) -> KittyError:
    """The exception for an error answer: ``payload`` is the parsed JSON body (or None).

    Public so that code talking to kittyd through another client (the OpenAI SDK's
    ``APIStatusError.status_code`` and ``.body``, for instance) gets the same exceptions.
    """
    err: dict[str, Any] = {}
    if isinstance(payload, dict):
        e = payload.get("error")
        if isinstance(e, dict):
            err = e
        elif isinstance(e, str):
            # Ollama's shape, as kittyd's /api/ routes answer: the code and reason beside it.
            err = {"message": e, **{k: payload[k] for k in ("code", "reason", "available", "log_tail")
                                    if k in payload}}
    code = _str_or_none(err.get("code"))
    reason = _str_or_none(err.get("reason"))
    message = str(err.get("message") or fallback_text or (f"HTTP {status}" if status else "error"))
    if model is None:
        model = _str_or_none(err.get("model"))

    cls = CODE_TO_ERROR.get(code or "")
    if cls is None:
        cls = _STATUS_FALLBACK.get(status or 0, KittyError)
    if cls is ModelNotFound:
        return ModelNotFound(model, _available_from(err), status=status, reason=reason, body=err)
    if issubclass(cls, WorkerStartFailed):
        tail = err.get("log_tail")
        lines = [str(x) for x in tail] if isinstance(tail, list) else []
        return cls(model, message, lines, status=status, code=code or "worker_start_failed",
                   reason=reason, body=err)
    return cls(message, status=status, code=code, reason=reason, body=err)


def error_from_response(status: int, content: bytes, *, model: str | None = None) -> KittyError:
    """The exception for an HTTP error answer given its status and raw body."""
    text = content.decode("utf-8", errors="replace").strip()
    try:
        payload = json.loads(text) if text else None
    except ValueError:
        payload = None
    return error_from_payload(status, payload, model=model, fallback_text=text[:500])
