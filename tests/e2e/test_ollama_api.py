"""Ollama's API on kittyd (issue 11), through the official `ollama` Python client: the version,
every configured model in /api/tags, the running ones in /api/ps with their memory and when
they idle out; the inference routes not served yet answer 501 naming the OpenAI ones."""

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


def test_inference_routes_not_served_yet_say_which_are(start_kittyd, fake_bin):
    d = start_kittyd({"small": fake_model(fake_bin, "small")})
    r = httpx.post(d.url + "/api/chat", json={"model": "small", "messages": []})
    assert r.status_code == 501, r.text
    assert "/v1/chat/completions" in r.json()["error"]["message"]
