"""Exceptions raised by the kittyd clients.

Every error the daemon returns is OpenAI-shaped (docs/API.md)::

    {"error": {"message": "...", "type": "...", "code": "model_not_found", ...}}

and becomes one of the classes below, chosen by ``code`` (and HTTP status). Each message says
what happened in words a person can act on; the structured parts are attributes.
"""

from __future__ import annotations

from typing import Any, Sequence


class KittyError(Exception):
    """Any error from kittyd or from talking to it.

    Attributes:
        message: the daemon's (or the client's) description.
        status: HTTP status, or None when no response came back.
        code: the daemon's ``error.code`` (e.g. ``"upstream_error"``), or None.
        body: the parsed ``error`` object, when there was one.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        body: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.body = body or {}

    def __str__(self) -> str:
        parts = []
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        if self.code:
            parts.append(self.code)
        prefix = f"[{' '.join(parts)}] " if parts else ""
        return prefix + self.message


class DaemonUnavailable(KittyError):
    """kittyd could not be reached (connection refused, timed out, connection dropped)."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(
            f"kittyd is not reachable at {url}: {reason} "
            "(is kittyd running? set KITTY_URL or pass base_url)"
        )
        self.url = url
        self.reason = reason


class ModelNotFound(KittyError):
    """The model id (or alias) is not configured in kittyd."""

    def __init__(
        self,
        model: str | None,
        available: Sequence[str],
        *,
        status: int | None = 404,
        body: dict[str, Any] | None = None,
    ) -> None:
        avail = ", ".join(available) if available else "(none)"
        super().__init__(
            f"model {model!r} not found; available: {avail}",
            status=status,
            code="model_not_found",
            body=body,
        )
        self.model = model
        self.available = list(available)


class WorkerStartFailed(KittyError):
    """kittyd could not start the model's worker; ``log_tail`` holds its last log lines."""

    def __init__(
        self,
        model: str | None,
        message: str,
        log_tail: Sequence[str] = (),
        *,
        status: int | None = 503,
        code: str = "worker_start_failed",
        body: dict[str, Any] | None = None,
    ) -> None:
        text = f"worker for model {model!r} failed to start: {message}"
        missing = [line for line in log_tail if line not in message]
        if missing:
            text += "\n--- worker log tail ---\n" + "\n".join(log_tail)
        super().__init__(text, status=status, code=code, body=body)
        self.model = model
        self.reason = message
        self.log_tail = list(log_tail)


class WorkerStartTimeout(WorkerStartFailed):
    """The worker did not become healthy within its ``start_timeout_seconds`` (HTTP 504)."""


class HoldNotFound(KittyError):
    """The hold expired (its lease ran out) or never existed."""


class AuthenticationError(KittyError):
    """kittyd has API keys configured and the key sent was missing or wrong."""


class UpstreamError(KittyError):
    """The worker died or broke the connection mid-request (HTTP 502 or an error event in a stream)."""


class WorkerStopping(KittyError):
    """The model is being released or the daemon is shutting down (HTTP 503)."""
