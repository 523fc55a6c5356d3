"""The async client: streaming, admin calls and holds."""

from __future__ import annotations

import asyncio

from kitty_testkit import pid_exists

from kitty_client import AsyncKittyClient


async def test_async_stream_complete_yields_chunks(aclient: AsyncKittyClient) -> None:
    chunks = [c async for c in aclient.stream_complete("streamer", "count", max_tokens=8)]
    assert len(chunks) >= 2, chunks
    assert "".join(chunks)


async def test_async_stream_chat_yields_chunks(aclient: AsyncKittyClient) -> None:
    chunks = [c async for c in aclient.stream_chat("streamer", [{"role": "user", "content": "hi"}],
                                                   max_tokens=8)]
    assert len(chunks) >= 2, chunks


async def test_async_streams_run_concurrently(aclient: AsyncKittyClient) -> None:
    async def collect() -> str:
        return "".join([c async for c in aclient.stream_complete("streamer", "x", max_tokens=8)])

    outs = await asyncio.gather(*(collect() for _ in range(3)))
    assert all(outs)


async def test_async_admin_and_completion(aclient: AsyncKittyClient) -> None:
    assert (await aclient.health())["status"] == "ok"
    w = await aclient.ensure("second")
    assert w["status"] == "ready"
    assert await aclient.complete("second", "hi", max_tokens=4)
    assert await aclient.chat("second", [{"role": "user", "content": "hi"}], max_tokens=4)
    r = await aclient.release("second")
    assert r["status"] == "stopped"
    assert not pid_exists(w["pid"])


async def test_async_hold_keeps_model_and_drops_hold(aclient: AsyncKittyClient) -> None:
    async with aclient.hold("small", lease_seconds=1.5, owner="async-test") as h:
        pid = h.worker["pid"]
        await asyncio.sleep(2.5)
        w = await aclient.worker("small")
        assert w["status"] == "ready" and w["pid"] == pid
        assert h.hold_id in [x["id"] for x in w.get("holds", [])]
        assert h.renewals >= 1
    w = await aclient.worker("small")
    assert h.hold_id not in [x["id"] for x in w.get("holds", [])]


async def test_async_memory_calls(aclient: AsyncKittyClient) -> None:
    mem = await aclient.system_memory()
    assert mem["total_bytes"] > 0 and "pressure" in mem, mem
    w = await aclient.pin("second")
    assert w["pinned"] is True
    assert (await aclient.unpin("second"))["pinned"] is False
    assert (await aclient.set_priority("second", -3))["priority"] == -3
    await aclient.set_priority("second", 0)
    r = await aclient.headroom(1)
    assert r["evicted"] == [] and r["requested_bytes"] == 1, r
