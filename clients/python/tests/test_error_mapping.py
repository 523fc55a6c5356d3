"""The error mapping against the contract: docs/API.md's error tables, read from the file.

Every documented `code` must raise its own exception class (never the bare KittyError), over
HTTP and as an error event in a stream, from the sync and the async client, with `reason` when
the daemon sends one. No daemon here: httpx's MockTransport answers what docs/API.md says the
daemon answers (tests/e2e/test_error_codes.py makes the real daemon answer it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable

import httpx
import pytest
from kitty_testkit import documented_error_codes, documented_error_reasons, free_port

from kitty_client import (
    AsyncKittyClient,
    AuthenticationError,
    BadRequest,
    DaemonUnavailable,
    HoldNotFound,
    InternalError,
    KittyClient,
    KittyError,
    MethodNotAllowed,
    ModelNotFound,
    NotFound,
    RequestTimeout,
    RequestTooLarge,
    RouteNotFound,
    NoRoom,
    NoRoomBusy,
    ServerBusy,
    ShuttingDown,
    Unsupported,
    UpstreamError,
    WorkerStartFailed,
    WorkerStartTimeout,
    WorkerStopping,
    error_from_payload,
)
from kitty_client.errors import CODE_TO_ERROR


@dataclass(frozen=True)
class DocRow:
    status: int
    code: str


STATUS_OF = documented_error_codes()
CODES = [DocRow(status, code) for code, status in STATUS_OF.items()]
REASONS = documented_error_reasons()


# What each documented code must raise; the test below also checks it is CODE_TO_ERROR's answer.
EXPECTED = {
    "invalid_json": BadRequest, "missing_model": BadRequest, "invalid_request": BadRequest,
    "invalid_api_key": AuthenticationError, "model_not_found": ModelNotFound,
    "not_found": RouteNotFound, "hold_not_found": HoldNotFound,
    "method_not_allowed": MethodNotAllowed, "request_timeout": RequestTimeout,
    "body_too_large": RequestTooLarge, "header_too_large": RequestTooLarge,
    "unsupported": Unsupported, "upstream_error": UpstreamError,
    "worker_start_failed": WorkerStartFailed, "worker_stopping": WorkerStopping,
    "shutting_down": ShuttingDown, "server_busy": ServerBusy, "no_room": NoRoom, "no_room_busy": NoRoomBusy,
    "start_timeout": WorkerStartTimeout,
    "internal_error": InternalError,
}


def test_the_docs_tables_were_read() -> None:
    # A parser that silently found nothing would make every test below pass vacuously.
    assert len(CODES) >= 19, CODES
    assert ("worker_start_failed", "exec_failed") in REASONS
    assert ("upstream_error", "worker_crashed") in REASONS
    assert len([r for c, r in REASONS if c == "internal_error"]) >= 2, REASONS


@pytest.mark.parametrize("row", CODES, ids=lambda r: r.code)
def test_every_documented_code_has_its_own_class(row: DocRow) -> None:
    cls = CODE_TO_ERROR.get(row.code)
    assert cls is not None, f"docs/API.md lists {row.code!r}; kitty_client.errors.CODE_TO_ERROR does not"
    assert cls is not KittyError and issubclass(cls, KittyError), cls
    assert cls is EXPECTED[row.code], (row.code, cls)


def test_every_mapped_code_is_documented() -> None:
    assert set(CODE_TO_ERROR) == {r.code for r in CODES}


def test_every_documented_reason_belongs_to_a_documented_code() -> None:
    assert {c for c, _ in REASONS} <= set(STATUS_OF), REASONS


def body(code: str, *, reason: str | None = None, message: str = "it went wrong",
         **extra: Any) -> dict[str, Any]:
    err: dict[str, Any] = {"message": message, "type": "server_error", "code": code, **extra}
    if reason is not None:
        err["reason"] = reason
    return {"error": err}


@pytest.mark.parametrize("row", CODES, ids=lambda r: r.code)
def test_payload_maps_to_the_class_with_status_code_and_no_reason(row: DocRow) -> None:
    e = error_from_payload(row.status, body(row.code), model="m")
    assert type(e) is EXPECTED[row.code]
    assert (e.status, e.code, e.reason) == (row.status, row.code, None)
    assert row.code in str(e) and str(row.status) in str(e)


@pytest.mark.parametrize("code,reason", REASONS, ids=lambda v: str(v))
def test_payload_with_a_documented_reason_keeps_it(code: str, reason: str) -> None:
    e = error_from_payload(STATUS_OF[code], body(code, reason=reason), model="m")
    assert type(e) is EXPECTED[code]
    assert e.reason == reason and e.code == code and e.status == STATUS_OF[code]
    assert f"{code}/{reason}" in str(e)


@pytest.mark.parametrize("reason", ["exec_failed", "exited", "a_reason_from_a_newer_daemon", None])
def test_any_worker_start_failed_is_worker_start_failed(reason: str | None) -> None:
    e = error_from_payload(503, body("worker_start_failed", reason=reason, message="cannot exec",
                                     log_tail=["line 1", "line 2"]), model="m")
    assert type(e) is WorkerStartFailed
    assert isinstance(e, WorkerStartFailed)
    assert e.reason == reason and e.model == "m" and e.detail == "cannot exec"
    assert e.log_tail == ["line 1", "line 2"] and "line 2" in str(e)


@pytest.mark.parametrize("status", [418, 409, 429, 503, 504, 404, None])
def test_an_unknown_code_is_a_plain_kitty_error_with_status_code_and_reason(status: int | None) -> None:
    e = error_from_payload(status, body("quota_exceeded", reason="too_many_tokens", message="slow down"))
    assert type(e) is KittyError
    assert (e.status, e.code, e.reason) == (status, "quota_exceeded", "too_many_tokens")
    assert e.body["code"] == "quota_exceeded"
    assert "slow down" in str(e)


def test_answers_without_a_code_fall_back_on_unambiguous_statuses_only() -> None:
    # Something in front of kittyd (or an older kittyd) may answer without a code.
    assert type(error_from_payload(401, None, fallback_text="Unauthorized")) is AuthenticationError
    assert type(error_from_payload(502, {"error": "bad gateway"})) is UpstreamError
    plain = error_from_payload(503, None, fallback_text="Service Unavailable")
    assert type(plain) is KittyError and plain.status == 503 and plain.code is None
    assert "Service Unavailable" in str(plain)
    # Every documented code with a fallback status raises what the fallback raises.
    for row in CODES:
        if row.status in (401, 502):
            assert EXPECTED[row.code] is type(error_from_payload(row.status, None)), row


def test_hierarchy_groups() -> None:
    assert issubclass(ModelNotFound, NotFound) and issubclass(RouteNotFound, NotFound)
    assert issubclass(HoldNotFound, NotFound)
    assert issubclass(WorkerStartTimeout, WorkerStartFailed)
    assert issubclass(ShuttingDown, WorkerStopping)


# --- through the clients: HTTP answers and SSE error events ---------------------------------------


def _answer_for(status: int, payload: dict[str, Any]) -> Callable[[httpx.Request], httpx.Response]:
    def handler(req: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=payload)
    return handler


def _stream_ending_with(payload: dict[str, Any]) -> Callable[[httpx.Request], httpx.Response]:
    sse = (b'data: {"choices":[{"text":"part"}]}\n\n'
           b"data: " + json.dumps(payload).encode() + b"\n\n")

    def handler(req: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=sse, headers={"content-type": "text/event-stream"})
    return handler


CASES = [(r.code, None) for r in CODES] + REASONS


@pytest.mark.parametrize("code,reason", CASES, ids=lambda v: str(v))
def test_sync_client_raises_the_class_for_an_http_error(code: str, reason: str | None) -> None:
    status = STATUS_OF[code]
    payload = body(code, reason=reason, available=["a", "b"])
    with KittyClient("http://kitty.test", transport=httpx.MockTransport(_answer_for(status, payload))) as c:
        with pytest.raises(KittyError) as ei:
            c.complete("m", "p")
    e = ei.value
    assert type(e) is EXPECTED[code], repr(e)
    assert (e.status, e.code, e.reason) == (status, code, reason)
    if isinstance(e, ModelNotFound):
        assert e.model == "m" and e.available == ["a", "b"]
    if isinstance(e, WorkerStartFailed):
        assert e.model == "m"


@pytest.mark.parametrize("code,reason", CASES, ids=lambda v: str(v))
async def test_async_client_raises_the_class_for_an_http_error(code: str, reason: str | None) -> None:
    status = STATUS_OF[code]
    transport = httpx.MockTransport(_answer_for(status, body(code, reason=reason)))
    async with AsyncKittyClient("http://kitty.test", transport=transport) as c:
        with pytest.raises(KittyError) as ei:
            await c.chat("m", [{"role": "user", "content": "hi"}])
    assert type(ei.value) is EXPECTED[code], repr(ei.value)
    assert (ei.value.status, ei.value.code, ei.value.reason) == (status, code, reason)


@pytest.mark.parametrize("code,reason", CASES, ids=lambda v: str(v))
def test_sync_stream_error_event_raises_the_class(code: str, reason: str | None) -> None:
    transport = httpx.MockTransport(_stream_ending_with(body(code, reason=reason)))
    got: list[str] = []
    with KittyClient("http://kitty.test", transport=transport) as c:
        with pytest.raises(KittyError) as ei:
            for chunk in c.stream_complete("m", "p"):
                got.append(chunk)
    assert got == ["part"]
    e = ei.value
    assert type(e) is EXPECTED[code], repr(e)
    # The 200 went out when the stream began: an event has no status of its own.
    assert (e.status, e.code, e.reason) == (None, code, reason)


@pytest.mark.parametrize("code,reason", CASES, ids=lambda v: str(v))
async def test_async_stream_error_event_raises_the_class(code: str, reason: str | None) -> None:
    transport = httpx.MockTransport(_stream_ending_with(body(code, reason=reason)))
    got: list[str] = []
    async with AsyncKittyClient("http://kitty.test", transport=transport) as c:
        with pytest.raises(KittyError) as ei:
            async for chunk in c.stream_chat("m", [{"role": "user", "content": "hi"}]):
                got.append(chunk)
    assert got == ["part"]
    assert type(ei.value) is EXPECTED[code], repr(ei.value)
    assert (ei.value.code, ei.value.reason) == (code, reason)


def test_stream_error_event_with_an_unknown_code_is_an_upstream_error() -> None:
    # The answer had begun: whatever a newer daemon calls the failure, the worker broke mid-answer.
    transport = httpx.MockTransport(_stream_ending_with(body("new_failure", reason="why")))
    with KittyClient("http://kitty.test", transport=transport) as c:
        with pytest.raises(UpstreamError) as ei:
            list(c.stream_complete("m", "p"))
    assert (ei.value.code, ei.value.reason) == ("new_failure", "why")


def test_unknown_code_over_http_is_a_plain_kitty_error() -> None:
    payload = body("quota_exceeded", reason="too_many_tokens")
    with KittyClient("http://kitty.test", transport=httpx.MockTransport(_answer_for(429, payload))) as c:
        with pytest.raises(KittyError) as ei:
            c.complete("m", "p")
    assert type(ei.value) is KittyError
    assert (ei.value.status, ei.value.code, ei.value.reason) == (429, "quota_exceeded", "too_many_tokens")


def test_daemon_unavailable_reason_is_the_transport_failure() -> None:
    # No answer, no wire reason: `reason` says what failed on the way (kept from before issue 8).
    url = f"http://127.0.0.1:{free_port()}"
    with KittyClient(url) as c:
        with pytest.raises(DaemonUnavailable) as ei:
            c.health()
    assert ei.value.code is None and ei.value.status is None
    assert ei.value.reason and "connection" in ei.value.reason
