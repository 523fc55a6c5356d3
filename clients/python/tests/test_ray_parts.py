"""kitty_client.ray's parts without a cluster: which kittyd a node replica finds, what it tells
the ingress, and the ingress's answer when no node can serve."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("ray.serve")
from kitty_client.ray.discovery import resolve_target  # noqa: E402
from kitty_client.ray.ingress import _give_up  # noqa: E402
from kitty_client.ray.wire import answer_head, unreachable_head  # noqa: E402


def target(urls=None, default=None, resources=(), ip="10.0.0.5", node_id="abcdef0123456789", env=None):
    return resolve_target(kittyd_urls=urls, default_url=default, node_resources=resources, node_ip=ip,
                          node_id=node_id, env=env or {})


def test_a_node_resource_named_in_the_map_wins() -> None:
    t = target({"kitty_node_1": "http://127.0.0.1:7701/v1", "10.0.0.5": "http://x:1"},
               resources=["CPU", "kitty_node", "kitty_node_1"])
    assert (t.name, t.url, t.matched) == ("kitty_node_1", "http://127.0.0.1:7701", "resource")


def test_then_the_ip_the_node_id_the_environment_and_the_default() -> None:
    assert target({"10.0.0.5": "gpu5:7700"}).url == "http://gpu5:7700"
    assert target({"abcdef0123456789": "http://n:7700"}).matched == "node_id"
    assert target(env={"KITTY_URL": "http://10.0.0.5:7800"}).url == "http://10.0.0.5:7800"
    t = target()
    assert (t.url, t.matched, t.name) == ("http://127.0.0.1:7700", "default", "10.0.0.5")
    assert target(default="http://127.0.0.1:9000").url == "http://127.0.0.1:9000"
    # Ray's own resources never name a kittyd, even when a map key looks like one.
    assert target({"CPU": "http://wrong"}, resources=["CPU"]).matched == "default"


def body(code: str, message: str) -> bytes:
    return json.dumps({"error": {"message": message, "type": "server_error", "code": code}}).encode()


def test_refusals_that_another_node_may_not_share_are_retryable() -> None:
    busy = answer_head("n0", 429, {"retry-after": "2", "content-type": "application/json"}, was_ready=False,
                       body=body("no_room_busy", "in use: a"))
    assert busy["retryable"] and busy["retry_after"] == 2.0 and busy["code"] == "no_room_busy"
    assert answer_head("n0", 503, {}, was_ready=False, body=body("no_room", "pinned: a"))["retryable"]
    assert answer_head("n0", 503, {}, was_ready=False, body=body("worker_stopping", "x"))["retryable"]
    # The request's own faults and a model that will not start are answered as they are.
    assert not answer_head("n0", 404, {}, was_ready=False, body=body("model_not_found", "x"))["retryable"]
    assert not answer_head("n0", 503, {}, was_ready=False, body=body("worker_start_failed", "x"))["retryable"]
    ok = answer_head("n0", 200, {"content-type": "application/json", "x-kitty-served-by": "m"}, was_ready=True,
                     body=b"{}")
    assert not ok["retryable"] and ok["was_ready"] and ok["headers"] == {"content-type": "application/json",
                                                                         "x-kitty-served-by": "m"}
    down = unreachable_head("n1", "http://127.0.0.1:7701", "connection refused")
    assert down["retryable"] and down["status"] == 503 and b"node_unavailable" in down["body"]


def test_giving_up_says_what_each_node_said() -> None:
    busy = [answer_head(f"n{i}", 429, {"retry-after": "2"}, was_ready=False, body=body("no_room_busy", f"in use {i}"))
            for i in range(3)]
    r = _give_up("m0", busy)
    assert r.status_code == 429 and r.headers["retry-after"] == "2"
    err = json.loads(r.body)["error"]
    assert err["code"] == "no_room_busy" and "after 3 tries" in err["message"]
    assert all(f"n{i}: in use {i}" in err["message"] for i in range(3)), err
    mixed = busy[:1] + [unreachable_head("n1", "http://h:1", "refused")]
    r = _give_up("m0", mixed)
    assert r.status_code == 503 and json.loads(r.body)["error"]["code"] == "node_unavailable"


def test_the_example_serve_config_builds_an_application() -> None:
    from pathlib import Path

    import yaml
    from ray.serve import Application
    from ray.serve.schema import ServeDeploySchema

    from kitty_client.ray import build_app

    path = Path(__file__).resolve().parents[1] / "examples" / "ray" / "serve_config.yaml"
    cfg = yaml.safe_load(path.read_text())
    ServeDeploySchema.model_validate(cfg) if hasattr(ServeDeploySchema, "model_validate") else ServeDeploySchema.parse_obj(cfg)
    (app_cfg,) = cfg["applications"]
    assert app_cfg["import_path"] == "kitty_client.ray:build_app"
    assert isinstance(build_app({**app_cfg["args"], "nodes": 3}), Application)
    with pytest.raises(ValueError, match="unknown argument"):
        build_app({"nodes": 1, "kittyd_ulrs": {}})


async def test_a_streams_chunks_are_joined_while_the_consumer_is_busy_and_errors_come_through() -> None:
    import asyncio

    from kitty_client.ray.node import _coalesced

    async def source(n: int, fail: bool = False):
        for i in range(n):
            yield f"data: {i}\n\n".encode()
            if i % 10 == 0:
                await asyncio.sleep(0)  # a socket read in between
        if fail:
            raise ConnectionError("kittyd went away")

    got = []
    async for item in _coalesced(source(200)):
        got.append(item)
        await asyncio.sleep(0.001)  # the Ray hop
    assert b"".join(got) == b"".join(f"data: {i}\n\n".encode() for i in range(200))
    assert len(got) < 200, "nothing was joined"
    # A trickle goes out item by item; a failure reaches the consumer after what came before it.
    items = []
    with pytest.raises(ConnectionError):
        async for item in _coalesced(source(3, fail=True)):
            items.append(item)
    assert b"".join(items) == b"data: 0\n\ndata: 1\n\ndata: 2\n\n"


async def test_a_hold_let_go_by_serves_lru_is_dropped_before_the_next_load() -> None:
    import asyncio
    from types import SimpleNamespace

    import httpx

    from kitty_client.ray.node import _Held

    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}")
        return httpx.Response(200, json={"released": True})

    node = SimpleNamespace(http=httpx.AsyncClient(base_url="http://kittyd", transport=httpx.MockTransport(answer)),
                           admin_headers=lambda: {}, lease_seconds=30.0, holds={},
                           target=SimpleNamespace(url="http://kittyd", name="n0"))
    held = _Held(node, "m0", "h-1", was_ready=True)
    node.holds["m0"] = held
    # What Serve's multiplexer does: the model's __del__ on an executor thread, awaited.
    await asyncio.get_running_loop().run_in_executor(None, held.__del__)
    assert seen == ["DELETE /kitty/holds/h-1"], seen
    assert "m0" not in node.holds
    held.__del__()  # the garbage collector's later call: nothing more
    await asyncio.sleep(0)
    assert seen == ["DELETE /kitty/holds/h-1"]
    await node.http.aclose()
