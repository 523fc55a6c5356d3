"""The sync client against a live kittyd with fake-engine workers."""

from __future__ import annotations

from kitty_testkit import Kittyd, pid_exists

from kitty_client import KittyClient


def test_health(client: KittyClient) -> None:
    h = client.health()
    assert h["status"] == "ok"


def test_workers_lists_configured_models(client: KittyClient) -> None:
    ids = {w["model_id"] for w in client.workers()}
    assert {"big", "small", "second", "broken"} <= ids


def test_complete_chat_and_alias(client: KittyClient) -> None:
    text = client.complete("big", "Say something", max_tokens=5)
    assert isinstance(text, str) and text
    reply = client.chat("large", [{"role": "user", "content": "hello"}], max_tokens=5)
    assert isinstance(reply, str) and reply


def test_stream_complete_and_chat_yield_chunks(client: KittyClient) -> None:
    chunks = list(client.stream_complete("streamer", "count", max_tokens=8))
    assert len(chunks) >= 2, chunks
    assert all(isinstance(c, str) for c in chunks)
    chat_chunks = list(client.stream_chat("streamer", [{"role": "user", "content": "hi"}], max_tokens=8))
    assert len(chat_chunks) >= 2, chat_chunks


def test_ensure_then_release_stops_the_process(client: KittyClient) -> None:
    w = client.ensure("second")
    assert w["status"] == "ready"
    pid = w["pid"]
    assert pid_exists(pid)
    r = client.release("second")
    assert r["status"] == "stopped"
    assert not pid_exists(pid), f"worker pid {pid} still exists after release returned"
    assert client.worker("second")["status"] == "stopped"


def test_release_all(client: KittyClient) -> None:
    pids = [client.ensure(m)["pid"] for m in ("second", "streamer")]
    states = client.release_all()
    by_id = {w["model_id"]: w for w in states}
    assert by_id["second"]["status"] == "stopped" and by_id["streamer"]["status"] == "stopped"
    assert not any(pid_exists(p) for p in pids)


def test_logs_of_a_worker(client: KittyClient) -> None:
    client.ensure("second")
    lines = client.logs("second", tail=20)
    assert isinstance(lines, list)
    client.release("second")


def test_base_url_with_v1_suffix_is_accepted(kittyd: Kittyd) -> None:
    with KittyClient(kittyd.url + "/v1/") as c:
        assert c.base_url == kittyd.url
        assert c.health()["status"] == "ok"


def test_memory_pin_priority_and_headroom(client: KittyClient) -> None:
    mem = client.system_memory()
    assert mem["total_bytes"] >= mem["available_bytes"] > 0, mem
    assert {"ram", "gpu", "cpu", "disk", "events"} <= set(mem["pressure"]), mem
    client.ensure("second")
    w = client.pin("second")
    assert (w["pinned"], w["policy_source"]["pinned"]) == (True, "runtime")
    # Headroom for more than the machine has: everything that may go goes, the pinned one stays.
    r = client.headroom(mem["total_bytes"] * 2)
    assert "second" not in r["evicted"] and r["requested_bytes"] == mem["total_bytes"] * 2, r
    assert client.worker("second")["status"] == "ready"
    assert client.unpin("second")["pinned"] is False
    w = client.set_priority("second", 7)
    assert (w["priority"], w["policy_source"]["priority"]) == (7, "runtime")
    client.set_priority("second", 0)
    client.release("second")


def test_reload_config_reports_each_model_and_a_bad_file_changes_nothing(client: KittyClient,
                                                                        kittyd: Kittyd) -> None:
    import pytest

    from kitty_client import BadRequest

    r = client.reload_config()
    assert set(r["models"].values()) == {"unchanged"} and r["not_applied"] == [], r
    good = kittyd.config_path.read_text()
    try:
        kittyd.config_path.write_text(good + "\nnot yaml: [\n")
        with pytest.raises(BadRequest) as exc:
            client.reload_config()
        assert "keeps running on the previous config" in str(exc.value)
        assert kittyd.config_path.name in str(exc.value)
    finally:
        kittyd.config_path.write_text(good)
    assert client.reload_config()["models"]["big"] == "unchanged"
