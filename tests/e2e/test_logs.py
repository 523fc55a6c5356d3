"""Structured logs (issue 12): `--log-format json` makes every line of kittyd's log one JSON
object; each request that reached a model has a line with its id (the client's X-Request-Id, or
kittyd's own, returned as X-Request-Id), model, status, duration and bytes; prompts and answers
stay out of the log unless `log_bodies: true`."""

import json

import httpx

from kitty_e2e import fake_model
from kitty_testkit import wait_until

SECRET = "the-secret-prompt-text"


def log_records(d):
    return [json.loads(line) for line in d.log_path.read_text().splitlines() if line.strip()]


def request_records(d):
    return [r for r in log_records(d) if r.get("event") == "request"]


def test_json_lines_with_a_request_id_per_request(start_kittyd, fake_bin):
    d = start_kittyd({"a": fake_model(fake_bin, "a")}, args=["--log-format", "json"])
    r = d.client.post("/v1/completions", json={"model": "a", "prompt": SECRET, "max_tokens": 3})
    assert r.status_code == 200
    rid = r.headers["x-request-id"]
    assert len(rid) == 16 and int(rid, 16) >= 0
    # The client's own id is kept (and a streamed answer counts its bytes too).
    with d.client.stream("POST", "/v1/completions", headers={"X-Request-Id": "trace-42"},
                         json={"model": "a", "prompt": SECRET, "max_tokens": 4, "stream": True}) as s:
        assert s.headers["x-request-id"] == "trace-42"
        body = b"".join(s.iter_bytes())
    # An id that could forge log fields is replaced.
    bad = d.client.post("/v1/completions", headers={"X-Request-Id": 'x" injected'},
                        json={"model": "a", "prompt": "x", "max_tokens": 1})
    assert bad.headers["x-request-id"] != 'x" injected'

    reqs = wait_until(lambda: (rs := request_records(d)) and len(rs) >= 3 and rs, 5)
    by_id = {x["request_id"]: x for x in reqs}
    first = by_id[rid]
    assert first["model"] == "a" and first["status"] == 200 and first["method"] == "POST"
    assert first["path"] == "/v1/completions"
    assert first["duration_seconds"] > 0 and first["first_byte_seconds"] <= first["duration_seconds"]
    assert first["request_bytes"] == len(r.request.content) and first["response_bytes"] >= len(r.content)
    streamed = by_id["trace-42"]
    assert streamed["status"] == 200 and streamed["response_bytes"] >= len(body) > 0
    assert by_id[bad.headers["x-request-id"]]["status"] == 200

    records = log_records(d)  # every line parsed: nothing but JSON
    assert all({"time", "level"} <= rec.keys() and rec["time"].endswith("Z") for rec in records)
    assert any("ready in" in rec.get("msg", "") for rec in records)
    assert SECRET not in d.log_path.read_text()


def test_admin_and_error_answers_carry_an_id_too(start_kittyd, fake_bin):
    d = start_kittyd({"a": fake_model(fake_bin, "a")}, args=["--log-format", "json"])
    r = d.client.post("/v1/completions", json={"model": "nope", "prompt": "x"})
    assert r.status_code == 404 and r.headers["x-request-id"]
    assert d.client.get("/kitty/system/workers").headers["x-request-id"]
    # A gateway request that found no model is logged too (admin calls are not).
    rec = wait_until(lambda: next((x for x in request_records(d) if x["request_id"] == r.headers["x-request-id"]), None), 5)
    assert rec["model"] is None and rec["status"] == 404
    assert all(x["path"].startswith("/v1/") for x in request_records(d))


def test_bodies_are_logged_only_when_asked(start_kittyd, fake_bin):
    d = start_kittyd({"a": fake_model(fake_bin, "a")}, server={"log_bodies": True},
                     args=["--log-format", "json"])
    assert d.client.post("/v1/completions", json={"model": "a", "prompt": SECRET, "max_tokens": 1}).status_code == 200
    wait_until(lambda: SECRET in d.log_path.read_text(), 5)
    assert all(isinstance(rec, dict) for rec in log_records(d))


def test_text_format_has_the_request_line(start_kittyd, fake_bin):
    d = start_kittyd({"a": fake_model(fake_bin, "a")})
    r = d.client.post("/v1/completions", json={"model": "a", "prompt": SECRET, "max_tokens": 1})
    rid = r.headers["x-request-id"]
    line = wait_until(lambda: next((x for x in d.log_path.read_text().splitlines() if f"request {rid}" in x), None), 5)
    assert "POST /v1/completions 'a': 200 in" in line, line
    assert SECRET not in d.log_path.read_text()
