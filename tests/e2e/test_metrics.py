"""GET /metrics (issue 12): Prometheus' text format, read with the official prometheus_client
parser (and `promtool check metrics` where it is installed): every family there, and values that
move as they should after a start, a request, a failure and a release."""

import shutil
import subprocess

import pytest

from kitty_e2e import fake_model
from kitty_testkit import wait_until

parser = pytest.importorskip("prometheus_client.parser")

FAMILIES = {
    "kitty_model_info": "gauge", "kitty_model_state": "gauge", "kitty_model_resident_bytes": "gauge",
    "kitty_model_pss_bytes": "gauge", "kitty_model_gpu_bytes": "gauge", "kitty_model_upstream_bytes": "gauge",
    "kitty_model_expected_bytes": "gauge", "kitty_model_learned_bytes": "gauge",
    "kitty_requests_in_flight": "gauge", "kitty_model_holds": "gauge", "kitty_restarts": "counter",
    "kitty_worker_exits": "counter", "kitty_requests": "counter", "kitty_stream_events": "counter",
    "kitty_time_to_first_byte_seconds": "histogram", "kitty_load_duration_seconds": "histogram",
    "kitty_evictions": "counter", "kitty_memory_total_bytes": "gauge", "kitty_memory_available_bytes": "gauge",
    "kitty_memory_budget_bytes": "gauge", "kitty_memory_reserve_bytes": "gauge",
    "kitty_memory_workers_bytes": "gauge", "kitty_pressure": "gauge", "kitty_starts_waiting": "gauge",
    "process_cpu_seconds": "counter", "process_resident_memory_bytes": "gauge", "process_open_fds": "gauge",
    "process_start_time_seconds": "gauge", "kitty_build_info": "gauge",
}


def scrape(d, **kw):
    r = d.client.get("/metrics", **kw)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4"), r.headers
    fams = {f.name: f for f in parser.text_string_to_metric_families(r.text)}
    return fams, r.text


def value(fams, family, sample=None, **labels):
    f = fams[family]
    for s in f.samples:
        if (sample is None or s.name == sample) and all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    return None


def chat(d, model, stream=False):
    return d.client.post("/v1/chat/completions", json={"model": model, "stream": stream, "max_tokens": 5,
                                                       "messages": [{"role": "user", "content": "x"}]})


def test_every_family_is_there_and_values_move(start_kittyd, fake_bin):
    d = start_kittyd({"a": fake_model(fake_bin, "a", "--memory-mb", 40, memory="64MiB"),
                      "bad": fake_model(fake_bin, "bad", "--fail-on-start")},
                     memory={"budget": "4GiB", "sample_seconds": 0.2})
    fams, text = scrape(d)
    for name, kind in FAMILIES.items():
        assert name in fams, f"{name} missing:\n{text}"
        assert fams[name].type == kind, (name, fams[name].type)
    assert value(fams, "kitty_model_state", model="a", state="stopped") == 1
    assert value(fams, "kitty_model_state", model="a", state="ready") == 0
    assert value(fams, "kitty_model_info", model="a", backend="command") == 1
    assert value(fams, "kitty_memory_budget_bytes") == 4 << 30
    assert value(fams, "kitty_model_expected_bytes", model="a") == 64 << 20

    # A start and a streamed request.
    with d.client.stream("POST", "/v1/chat/completions",
                         json={"model": "a", "stream": True, "max_tokens": 5,
                               "messages": [{"role": "user", "content": "x"}]}) as r:
        assert r.status_code == 200
        "".join(r.iter_text())
    assert chat(d, "a").status_code == 200
    fams, _ = scrape(d)
    assert value(fams, "kitty_model_state", model="a", state="ready") == 1
    assert value(fams, "kitty_model_state", model="a", state="stopped") == 0
    assert value(fams, "kitty_requests", "kitty_requests_total", model="a", code="2xx") == 2
    assert value(fams, "kitty_stream_events", "kitty_stream_events_total", model="a") >= 5
    assert value(fams, "kitty_time_to_first_byte_seconds", "kitty_time_to_first_byte_seconds_count", model="a") == 2
    assert value(fams, "kitty_load_duration_seconds", "kitty_load_duration_seconds_count", model="a") == 1
    assert value(fams, "kitty_time_to_first_byte_seconds", "kitty_time_to_first_byte_seconds_bucket",
                 model="a", le="+Inf") == 2
    got = wait_until(lambda: (value(scrape(d)[0], "kitty_model_resident_bytes", model="a") or 0) > 40 << 20, 10)
    assert got, "the worker's resident memory shows"

    # A start that fails: a 5xx counted for that model, and its exit by kind.
    assert chat(d, "bad").status_code >= 500
    fams, _ = scrape(d)
    assert value(fams, "kitty_requests", "kitty_requests_total", model="bad", code="5xx") == 1
    assert value(fams, "kitty_worker_exits", "kitty_worker_exits_total", model="bad", kind="start_failure") == 1
    # An unknown model is no model's request.
    assert chat(d, "nope").status_code == 404
    fams, text = scrape(d)
    assert 'model="nope"' not in text

    # Release: stopped again; the counters keep their values.
    d.release("a")
    fams, _ = scrape(d)
    assert value(fams, "kitty_model_state", model="a", state="stopped") == 1
    assert value(fams, "kitty_model_resident_bytes", model="a") is None
    assert value(fams, "kitty_requests", "kitty_requests_total", model="a", code="2xx") == 2
    assert value(fams, "process_open_fds") > 0


def test_idle_and_room_evictions_are_counted_by_reason(start_kittyd, fake_bin):
    # Each really holds 200 MiB (a learned footprint replaces the configured one after a run).
    d = start_kittyd({"a": fake_model(fake_bin, "a", "--memory-mb", 200, memory="200MiB", idle_shutdown_seconds=1),
                      "b": fake_model(fake_bin, "b", "--memory-mb", 200, memory="200MiB")},
                     memory={"budget": "300MiB"})
    assert chat(d, "a").status_code == 200
    assert wait_until(lambda: d.worker("a")["status"] == "stopped", 10)
    assert chat(d, "a").status_code == 200
    assert chat(d, "b").status_code == 200  # a goes for room
    fams, _ = scrape(d)
    assert value(fams, "kitty_evictions", "kitty_evictions_total", model="a", reason="idle") == 1
    assert value(fams, "kitty_evictions", "kitty_evictions_total", model="a", reason="room") == 1


def test_metrics_need_the_admin_key_when_one_is_set(start_kittyd, fake_bin):
    d = start_kittyd({"a": fake_model(fake_bin, "a")}, server={"admin_keys": ["adm"]}, admin_key="adm")
    assert d.client.get("/metrics").status_code == 401
    scrape(d, headers={"Authorization": "Bearer adm"})
    # open_metrics: a scraper without a key (the inference gateway's picker) reads them; the rest
    # of the admin API stays keyed.
    o = start_kittyd({"a": fake_model(fake_bin, "a")}, name="open", admin_key="adm",
                     server={"admin_keys": ["adm"], "open_metrics": True})
    scrape(o)
    assert o.client.get("/kitty/workers").status_code == 401


@pytest.mark.skipif(not shutil.which("promtool"), reason="promtool not installed (Debian package prometheus)")
def test_promtool_accepts_the_exposition(start_kittyd, fake_bin):
    d = start_kittyd({"a": fake_model(fake_bin, "a")})
    assert chat(d, "a").status_code == 200
    _, text = scrape(d)
    out = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stdout + out.stderr


# --- the Gateway API inference extension's endpoint picker ------------------------------------------
# Its metrics client (pkg/epp/backend/metrics) parses the exposition into metric families, takes a
# family's first series (with no label selector in the flag) and reads it as a gauge (a counter or
# untyped family would read as 0); the LoRA family is read by its labels running_lora_adapters and
# waiting_lora_adapters (split on ",") and max_lora (an integer), the series with the largest value
# winning. README "Behind the inference gateway" gives the flags that name kittyd's families.
EPP = {"kitty_requests_waiting": "--total-queued-requests-metric",
       "kitty_requests_running": "--total-running-requests-metric",
       "kitty_memory_usage_fraction": "--kv-cache-usage-percentage-metric",
       "kitty_resident_models_info": "--lora-info-metric"}


def epp_read(d):
    """What the picker would read: {family: first series}; the info series as (running, waiting, max)."""
    fams, text = scrape(d)
    out = {}
    for name in EPP:
        assert name in fams, f"{name} missing:\n{text}"
        assert fams[name].type == "gauge", (name, fams[name].type)
        first = fams[name].samples[0]
        if name == "kitty_resident_models_info":
            assert set(first.labels) == {"running_lora_adapters", "waiting_lora_adapters", "max_lora"}, first
            split = lambda v: [m for m in v.split(",")] if v else []  # noqa: E731 - exactly the picker's rule
            out[name] = (split(first.labels["running_lora_adapters"]), split(first.labels["waiting_lora_adapters"]),
                         int(first.labels["max_lora"]), first.value)
        else:
            assert first.labels == {}, first
            out[name] = first.value
    return out, fams


def test_the_endpoint_pickers_metrics_follow_what_runs(start_kittyd, fake_bin):
    import threading
    import time

    # Three 300 MiB models in 1000 MiB: all three fit together (max_lora 3), so none is evicted.
    d = start_kittyd({"a": fake_model(fake_bin, "a", "--memory-mb", 20, "--tokens", 40, "--token-ms", 50,
                                      memory="300MiB"),
                      "b": fake_model(fake_bin, "b", "--memory-mb", 20, memory="300MiB"),
                      "slow": fake_model(fake_bin, "slow", "--memory-mb", 20, "--load-ms", 3000, memory="300MiB")},
                     memory={"budget": "1000MiB", "sample_seconds": 0.2}, server={"open_metrics": True})
    m, _ = epp_read(d)
    assert m["kitty_requests_waiting"] == 0 and m["kitty_requests_running"] == 0
    assert m["kitty_memory_usage_fraction"] == 0
    running, waiting, max_lora, stamp = m["kitty_resident_models_info"]
    assert (running, waiting, max_lora) == ([], [], 3)
    assert abs(stamp - time.time()) < 60, "the value is the time of the reading"

    assert chat(d, "b").status_code == 200
    # A slow start with a request waiting for it, and a long answer running meanwhile.
    waiter = threading.Thread(target=lambda: chat(d, "slow"))
    streamer = threading.Thread(target=lambda: chat(d, "a", stream=True).read())
    waiter.start()
    wait_until(lambda: d.worker("slow")["status"] == "starting", 10)
    streamer.start()
    seen = wait_until(lambda: (lambda r: r if r[0]["kitty_requests_running"] >= 1 else None)(epp_read(d)), 10)
    m, fams = seen
    assert m["kitty_requests_waiting"] >= 1, m
    running, waiting, max_lora, _ = m["kitty_resident_models_info"]
    assert "slow" in waiting and "b" in running and max_lora == 3, m
    frac = m["kitty_memory_usage_fraction"]
    workers = value(fams, "kitty_memory_workers_bytes")
    assert 0 < frac <= 1 and abs(frac - min(1.0, workers / (1000 << 20))) < 1e-6, (frac, workers)
    waiter.join(30)
    streamer.join(30)
    m, _ = epp_read(d)
    running, waiting, _, _ = m["kitty_resident_models_info"]
    assert m["kitty_requests_waiting"] == 0 and m["kitty_requests_running"] == 0, m
    assert waiting == [] and "slow" in running and all("," not in r and r == r.strip() for r in running), running
