"""Transport-independent pieces shared by the sync and async clients.

Both clients build requests the same way and parse the same SSE stream (errors are mapped by
:func:`kitty_client.errors.error_from_payload`); only the I/O differs. Nothing here does I/O.
"""

from __future__ import annotations

import json
import os
from typing import Any, Iterable, Iterator, Mapping
from urllib.parse import quote

import httpx

from .errors import (
    DaemonUnavailable,
    KittyError,
    UpstreamError,
    error_from_payload,
)

DEFAULT_URL = "http://127.0.0.1:7700"
# Ensuring a big model can take minutes (kittyd's start_timeout_seconds defaults to 600).
DEFAULT_TIMEOUT = 900.0
CONNECT_TIMEOUT = 5.0
DEFAULT_LEASE_SECONDS = 30.0


def resolve_base_url(base_url: str | None) -> str:
    """The daemon's root URL: the argument, else $KITTY_URL, else 127.0.0.1:7700.

    A trailing ``/`` or ``/v1`` is dropped so that an OpenAI-style base URL works too.
    """
    url = base_url or os.environ.get("KITTY_URL") or DEFAULT_URL
    url = url.rstrip("/")
    if url.endswith("/v1"):
        url = url[: -len("/v1")]
    if "://" not in url:
        url = "http://" + url
    return url


def resolve_api_key(api_key: str | None) -> str | None:
    return api_key if api_key is not None else os.environ.get("KITTY_API_KEY") or None


def make_timeout(timeout: float | None) -> httpx.Timeout:
    return httpx.Timeout(timeout, connect=CONNECT_TIMEOUT if timeout is None else min(CONNECT_TIMEOUT, timeout))


def headers(api_key: str | None) -> dict[str, str]:
    h = {"Accept": "application/json", "User-Agent": "kitty_client/0.1"}
    if api_key:
        h["Authorization"] = f"Bearer {api_key}"
    return h


def worker_path(model: str, suffix: str = "") -> str:
    return f"/kitty/workers/{quote(model, safe='')}{suffix}"


def hold_path(hold_id: str, suffix: str = "") -> str:
    return f"/kitty/holds/{quote(hold_id, safe='')}{suffix}"


def hold_body(lease_seconds: float, owner: str | None) -> dict[str, Any]:
    """``POST /kitty/workers/{id}/hold``'s body; no ``owner`` key when there is none."""
    body: dict[str, Any] = {"lease_seconds": lease_seconds}
    if owner is not None:
        body["owner"] = owner
    return body


def transport_error(url: str, exc: httpx.TransportError) -> DaemonUnavailable:
    """Map an httpx connection/timeout error to DaemonUnavailable with the URL tried."""
    if isinstance(exc, httpx.ConnectTimeout):
        reason = "connection timed out"
    elif isinstance(exc, httpx.ConnectError):
        reason = f"connection failed ({exc})" if str(exc) else "connection refused"
    elif isinstance(exc, httpx.TimeoutException):
        reason = f"timed out waiting for the response ({type(exc).__name__})"
    elif isinstance(exc, httpx.RemoteProtocolError):
        reason = f"connection closed unexpectedly ({exc})"
    else:
        reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    err = DaemonUnavailable(url, reason)
    err.__cause__ = exc
    return err


def decode_json(content: bytes, url: str) -> Any:
    try:
        return json.loads(content)
    except ValueError as exc:
        snippet = content[:200].decode("utf-8", errors="replace")
        raise KittyError(f"kittyd at {url} sent a response that is not JSON: {snippet!r}") from exc


def expect_object(data: Any, url: str) -> dict[str, Any]:
    """The response as a JSON object, or a KittyError saying what came instead."""
    if not isinstance(data, dict):
        raise KittyError(f"kittyd at {url} answered with {type(data).__name__}, expected a JSON object: "
                         f"{str(data)[:200]}")
    return data


# --- OpenAI response shapes -------------------------------------------------------------------


def completion_text(data: Any) -> str:
    """Text of a /v1/completions (``choices[0].text``) or chat (``choices[0].message.content``) answer."""
    try:
        choice = data["choices"][0]
    except (KeyError, IndexError, TypeError) as exc:
        raise KittyError(f"unexpected completion response (no choices[0]): {str(data)[:300]}") from exc
    text = choice.get("text") if isinstance(choice, dict) else None
    if isinstance(text, str):
        return text
    msg = choice.get("message") if isinstance(choice, dict) else None
    if isinstance(msg, dict):
        content = msg.get("content")
        return content if isinstance(content, str) else ""
    raise KittyError(f"unexpected completion response (no text in choices[0]): {str(data)[:300]}")


def chunk_text(chunk: Any) -> str:
    """Text carried by one streamed chunk (completion ``text`` or chat ``delta.content``)."""
    if not isinstance(chunk, dict):
        return ""
    choices = chunk.get("choices")
    if not isinstance(choices, list) or not choices:
        return ""
    choice = choices[0]
    if not isinstance(choice, dict):
        return ""
    text = choice.get("text")
    if isinstance(text, str):
        return text
    delta = choice.get("delta")
    content = delta.get("content") if isinstance(delta, dict) else None
    return content if isinstance(content, str) else ""


class SSEParser:
    """Incremental parser for an OpenAI-style SSE stream.

    Feed it lines (without newlines); it returns the decoded ``data:`` payloads. It raises
    the mapped KittyError on an ``{"error": ...}`` event and sets ``done`` at ``[DONE]``.
    Multi-line ``data:`` fields of one event are joined with ``\\n`` as the SSE spec says.
    """

    def __init__(self, model: str | None = None) -> None:
        self.model = model
        self.done = False
        self._data: list[str] = []

    def feed(self, line: str) -> list[Any]:
        out: list[Any] = []
        line = line.rstrip("\r")
        if line == "":
            ev = self._flush()
            if ev is not None:
                out.append(ev)
            return out
        if line.startswith(":"):
            return out  # comment / keep-alive
        field, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if field == "data":
            # Servers that omit the blank line between events still get one event per data line
            # when the payload is complete JSON or [DONE].
            if not self._data and (value.strip() == "[DONE]" or _is_complete_json(value)):
                ev = self._decode(value)
                if ev is not None:
                    out.append(ev)
                return out
            self._data.append(value)
        return out

    def close(self) -> list[Any]:
        ev = self._flush()
        return [ev] if ev is not None else []

    def _flush(self) -> Any:
        if not self._data:
            return None
        data = "\n".join(self._data)
        self._data = []
        return self._decode(data)

    def _decode(self, data: str) -> Any:
        if self.done:
            return None
        if data.strip() == "[DONE]":
            self.done = True
            return None
        try:
            obj = json.loads(data)
        except ValueError as exc:
            raise KittyError(f"malformed stream event from kittyd: {data[:200]!r}") from exc
        if isinstance(obj, dict) and "error" in obj:
            # Mapped like an HTTP error answer (docs/API.md: the event carries the same error
            # object); there is no status, the 200 went out when the stream began.
            err = error_from_payload(None, obj, model=self.model)
            if type(err) is KittyError:
                # A code this client does not know, after the stream began: the worker broke
                # mid-answer, whatever the daemon calls it.
                err = UpstreamError(err.message, code=err.code, reason=err.reason, body=err.body)
            raise err
        return obj


def _is_complete_json(value: str) -> bool:
    v = value.strip()
    if not v or v[0] not in "{[":
        return False
    try:
        json.loads(v)
    except ValueError:
        return False
    return True


def iter_sse_text(lines: Iterable[str], model: str | None) -> Iterator[str]:
    """Text chunks of an SSE stream given its lines (sync helper; used by tests too)."""
    parser = SSEParser(model)
    for line in lines:
        for ev in parser.feed(line):
            text = chunk_text(ev)
            if text:
                yield text
        if parser.done:
            return
    for ev in parser.close():
        text = chunk_text(ev)
        if text:
            yield text


def completion_body(model: str, prompt: str, params: Mapping[str, Any], stream: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"model": model, "prompt": prompt}
    body.update({k: v for k, v in params.items() if v is not None})
    body["stream"] = stream
    return body


def chat_body(
    model: str, messages: Iterable[Mapping[str, Any]], params: Mapping[str, Any], stream: bool
) -> dict[str, Any]:
    body: dict[str, Any] = {"model": model, "messages": [dict(m) for m in messages]}
    body.update({k: v for k, v in params.items() if v is not None})
    body["stream"] = stream
    return body


def is_json_response(content_type: str | None) -> bool:
    ct = (content_type or "").lower()
    return "json" in ct and "event-stream" not in ct
