"""Ollama's API on kittyd (issue 11), through the official `ollama` Python client: the version,
every configured model in /api/tags, the running ones in /api/ps with their memory and when
they idle out; chat, generate and embed (streamed and not) translated to the fake engine's
OpenAI routes; keep_alive loads and unloads; errors in Ollama's shape."""

import datetime

import httpx
import ollama

from kitty_e2e import fake_model
from kitty_testkit import wait_until


def test_version_tags_and_ps_through_the_official_client(start_kittyd, fake_bin):
    d = start_kittyd({"small": fake_model(fake_bin, "small", "--memory-mb", "20", idle_shutdown_seconds=120),
                      "other": fake_model(fake_bin, "other")})
    client = ollama.Client(host=d.url)

    assert httpx.get(d.url + "/api/version").json()["version"]
    tags = client.list()
    assert sorted(m.model for m in tags.models) == ["other", "small"]
    assert all(m.digest and len(m.digest) == 64 for m in tags.models)

    assert client.ps().models == []
    d.ensure("small")
    running = client.ps().models
    assert [m.model for m in running] == ["small"]
    assert wait_until(lambda: client.ps().models[0].size > 20 << 20, 5), client.ps()  # sampled every 2 s
    m = client.ps().models[0]
    assert m.size_vram == 0
    left = (m.expires_at - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
    assert 100 < left <= 121, m.expires_at  # idle_shutdown_seconds from its last use


def test_chat_generate_and_embed_through_the_official_client(start_kittyd, fake_bin):
    d = start_kittyd({"small": fake_model(fake_bin, "small", "--tokens", "5")})
    client = ollama.Client(host=d.url)

    r = client.chat(model="small", messages=[{"role": "user", "content": "hi"}],
                    options={"num_predict": 3, "temperature": 0})
    assert r.done and r.message.role == "assistant" and r.message.content, r
    assert r.done_reason == "length" and r.eval_count == 3, r
    assert r.total_duration > 0 and r.prompt_eval_count > 0, r

    parts = list(client.chat(model="small", messages=[{"role": "user", "content": "hi"}], stream=True))
    assert len(parts) >= 3 and all(not p.done for p in parts[:-1]) and parts[-1].done, parts
    assert "".join(p.message.content for p in parts), parts
    assert parts[-1].done_reason == "stop" and parts[-1].eval_count == 5, parts[-1]

    g = client.generate(model="small", prompt="count", options={"num_predict": 2})
    assert g.done and g.response and g.eval_count == 2, g
    streamed = list(client.generate(model="small", prompt="count", stream=True))
    assert streamed[-1].done and "".join(p.response for p in streamed), streamed

    e = client.embed(model="small", input=["a", "b"])
    assert len(e.embeddings) == 2 and len(e.embeddings[0]) > 0, e
    legacy = client.embeddings(model="small", prompt="a")
    assert len(legacy.embedding) == len(e.embeddings[0])


def test_keep_alive_loads_and_unloads_as_ollama_does(start_kittyd, fake_bin):
    d = start_kittyd({"small": fake_model(fake_bin, "small")})
    client = ollama.Client(host=d.url)
    r = client.generate(model="small", prompt="", keep_alive="1h")  # load, no answer
    assert r.done_reason == "load" and d.worker("small")["status"] == "ready", r
    assert d.worker("small")["keep_alive_seconds"] == 3600
    pid = d.worker("small")["pid"]
    r = client.generate(model="small", prompt="", keep_alive=0)  # unload
    assert r.done_reason == "unload" and d.worker("small")["status"] == "stopped", r
    assert wait_until(lambda: not __import__("kitty_testkit").group_alive(pid), 5)
    client.chat(model="small", messages=[{"role": "user", "content": "x"}], keep_alive=0)
    assert wait_until(lambda: d.worker("small")["status"] == "stopped", 5), "unloaded after the answer"


def test_errors_come_in_ollamas_shape(start_kittyd, fake_bin):
    d = start_kittyd({"small": fake_model(fake_bin, "small")})
    client = ollama.Client(host=d.url)
    try:
        client.chat(model="nope", messages=[{"role": "user", "content": "x"}])
        raise AssertionError("no error for an unknown model")
    except ollama.ResponseError as exc:
        assert exc.status_code == 404 and "small" in exc.error, exc.error
    shown = client.show("small")
    assert shown.capabilities == ["completion"] and shown.details.format == "command", shown
    r = httpx.post(d.url + "/api/pull", json={"model": "small"})
    assert r.status_code == 501 and "not pulled" in r.json()["error"], r.text
    r = httpx.post(d.url + "/api/chat", json={"model": "small", "keep_alive": "soon"})
    assert r.status_code == 400 and "keep_alive" in r.json()["error"], r.text


def test_ollama_routes_use_fallbacks_and_the_latest_tag(start_kittyd, fake_bin):
    """A model's `fallback:` serves its Ollama requests as it serves its OpenAI ones, and
    Ollama's clients may name a model with its ":latest" tag."""
    d = start_kittyd({"main": fake_model(fake_bin, "main", "--fail-on-start", "--load-ms", "100",
                                         fallback=["backup"]),
                      "backup": fake_model(fake_bin, "backup", "--tokens", "4")})
    client = ollama.Client(host=d.url)
    for _ in range(2):  # the first tries main (its start fails), the next skips it (backing off)
        r = client.chat(model="main", messages=[{"role": "user", "content": "hi"}], stream=False)
        assert r.done and r.message.content and r.model == "main", r  # named as asked, as Ollama does
    r = httpx.post(d.url + "/api/generate", json={"model": "main", "prompt": "x", "stream": False}, timeout=30)
    assert r.status_code == 200 and r.headers["x-kitty-served-by"] == "backup", r.text
    r = httpx.post(d.url + "/api/generate", json={"model": "main", "prompt": "x", "fallback": False}, timeout=30)
    assert r.status_code == 503 and "main" in r.json()["error"], r.text

    parts = list(client.chat(model="backup:latest", messages=[{"role": "user", "content": "hi"}], stream=True))
    assert parts[-1].done and "".join(p.message.content for p in parts), parts
    assert client.show("backup:latest").details.format == "command"
    r = httpx.post(d.url + "/v1/chat/completions", timeout=30,
                   json={"model": "backup:latest", "messages": [{"role": "user", "content": "hi"}]})
    assert r.status_code == 200, r.text
    r = httpx.post(d.url + "/api/chat", json={"model": "backup:v2", "messages": []})
    assert r.status_code == 404, "only the default tag is the model itself"


def test_fields_of_the_wrong_type_get_a_400_in_ollamas_shape(start_kittyd, fake_bin):
    d = start_kittyd({"small": fake_model(fake_bin, "small")})
    with httpx.Client(base_url=d.url, timeout=30) as http:
        for path, body, field in [
            ("/api/chat", {"model": "small", "stream": "yes", "messages": [{"role": "user", "content": "x"}]}, "stream"),
            ("/api/generate", {"model": "small", "prompt": "x", "raw": 1}, "raw"),
            ("/api/chat", {"model": "small", "messages": [{"role": 3, "content": "x"}]}, "role"),
            ("/api/chat", {"model": "small", "messages": ["x"]}, "messages"),
            ("/api/generate", {"model": "small", "prompt": "x", "options": [1]}, "options"),
        ]:
            r = http.post(path, json=body)
            assert r.status_code == 400 and field in r.json()["error"], (body, r.text)
        # null is Ollama's default (stream), and the same connection still serves.
        r = http.post("/api/chat", json={"model": "small", "stream": None, "messages": [{"role": "user", "content": "x"}]})
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-ndjson"), r.text
