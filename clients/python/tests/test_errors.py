"""Each exception type, raised with a message that says what happened."""

from __future__ import annotations

import httpx
import pytest
from kitty_testkit import free_port

from kitty_client import (
    AsyncKittyClient,
    DaemonUnavailable,
    KittyClient,
    KittyError,
    ModelNotFound,
    UpstreamError,
    WorkerStartFailed,
)


def test_model_not_found_lists_available_models(client: KittyClient) -> None:
    with pytest.raises(ModelNotFound) as ei:
        client.complete("no-such-model", "hi", max_tokens=2)
    e = ei.value
    assert e.model == "no-such-model"
    assert {"big", "small"} <= set(e.available), e.available
    assert e.status == 404
    assert "no-such-model" in str(e) and "big" in str(e)


def test_model_not_found_on_admin_routes(client: KittyClient) -> None:
    for call in (lambda: client.ensure("nope"), lambda: client.worker("nope"),
                 lambda: client.release("nope")):
        with pytest.raises(ModelNotFound) as ei:
            call()
        assert ei.value.model == "nope"
        assert "nope" in str(ei.value)


def test_worker_start_failed_carries_log_tail(client: KittyClient) -> None:
    with pytest.raises(WorkerStartFailed) as ei:
        client.ensure("broken")
    e = ei.value
    assert e.model == "broken"
    assert e.status == 503
    assert any("fake failure" in line for line in e.log_tail), e.log_tail
    assert "fake failure" in str(e)
    # The gateway says the same when a request needs the broken model.
    with pytest.raises(WorkerStartFailed):
        client.complete("broken", "hi", max_tokens=2)


def test_daemon_unavailable_names_the_url() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with KittyClient(url) as c:
        with pytest.raises(DaemonUnavailable) as ei:
            c.health()
        assert ei.value.url.startswith(url)
        assert url in str(ei.value)
        with pytest.raises(DaemonUnavailable):
            list(c.stream_complete("smol", "hi"))


async def test_daemon_unavailable_async() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    async with AsyncKittyClient(url) as c:
        with pytest.raises(DaemonUnavailable) as ei:
            await c.workers()
        assert url in str(ei.value)


def test_stream_error_event_mid_stream_raises(client: KittyClient) -> None:
    got: list[str] = []
    with pytest.raises(KittyError) as ei:
        for chunk in client.stream_complete("crasher", "go", max_tokens=40):
            got.append(chunk)
    # The worker aborts halfway: kittyd ends the stream with an error event (docs/API.md).
    assert isinstance(ei.value, UpstreamError), repr(ei.value)
    assert got, "the stream should have delivered some chunks before the error"
    client.release("crasher", force=True)


# --- without a daemon: the error mapping and the SSE parser -----------------------------------


def _mock(handler: object) -> KittyClient:
    return KittyClient("http://kitty.test", transport=httpx.MockTransport(handler))  # type: ignore[arg-type]


def test_error_json_mapping_without_daemon() -> None:
    def handler(req: httpx.Request) -> httpx.Response:
        if req.url.path.endswith("/ensure"):
            return httpx.Response(503, json={"error": {
                "message": "worker exited with status 1", "type": "server_error",
                "code": "worker_start_failed", "log_tail": ["loading", "error: out of memory"]}})
        if req.url.path == "/v1/completions":
            return httpx.Response(404, json={"error": {
                "message": "model 'x' not found; available: a, b", "code": "model_not_found"}})
        return httpx.Response(500, json={"error": {"message": "boom", "code": "internal"}})

    c = _mock(handler)
    with pytest.raises(WorkerStartFailed) as e1:
        c.ensure("m")
    assert e1.value.log_tail == ["loading", "error: out of memory"]
    assert "out of memory" in str(e1.value) and "'m'" in str(e1.value)
    with pytest.raises(ModelNotFound) as e2:
        c.complete("x", "p")
    assert e2.value.available == ["a", "b"]  # parsed from the message when `available` is absent
    with pytest.raises(KittyError) as e3:
        c.health()
    assert e3.value.status == 500 and e3.value.code == "internal" and "boom" in str(e3.value)


def test_sse_stream_parsing_without_daemon() -> None:
    body = (
        b'data: {"choices":[{"text":"Hel"}]}\n\n'
        b': keep-alive\n\n'
        b'data: {"choices":[{"text":"lo"}]}\n\n'
        b'data: [DONE]\n\n'
        b'data: {"choices":[{"text":"ignored"}]}\n\n'
    )

    def handler(req: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})

    assert list(_mock(handler).stream_complete("m", "p")) == ["Hel", "lo"]

    err = b'data: {"choices":[{"text":"a"}]}\n\ndata: {"error":{"message":"worker died","code":"upstream_error"}}\n\n'

    def handler2(req: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=err, headers={"content-type": "text/event-stream"})

    got = []
    with pytest.raises(UpstreamError, match="worker died"):
        for c in _mock(handler2).stream_complete("m", "p"):
            got.append(c)
    assert got == ["a"]


def test_minimal_seed_worker_response() -> None:
    """complete() works with the seed's minimal worker answer: only choices[0].text."""

    def handler(req: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"choices": [{"text": "forty-two"}]})

    assert _mock(handler).complete("m", "p") == "forty-two"
