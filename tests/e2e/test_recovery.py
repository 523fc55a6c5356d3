"""Issue 10, black-box: a config reloaded while models run (SIGHUP and POST /kitty/config/reload),
and fallback chains serving while a model is failed or backing off."""

import json
import os
import signal
import threading

from kitty_e2e import fake_model
from kitty_testkit import group_alive, wait_until


def chat(d, model, **body):
    return d.client.post("/v1/chat/completions",
                         json={"model": model, "messages": [{"role": "user", "content": "x"}], **body})


def rewrite_models(d, change):
    cfg = json.loads(d.config_path.read_text())
    change(cfg["models"])
    d.config_path.write_text(json.dumps(cfg, indent=2))


# --- reload ---------------------------------------------------------------------------------------


def test_reload_keeps_unchanged_workers_restarts_changed_ones_when_idle_and_stops_removed_ones(
        start_kittyd, fake_bin):
    d = start_kittyd({"keep": fake_model(fake_bin, "keep"),
                      "change": fake_model(fake_bin, "change", "--token-ms", "20"),
                      "gone": fake_model(fake_bin, "gone")})
    keep_pid = d.ensure("keep")["pid"]
    hold = d.admin("POST", "/kitty/workers/keep/hold", json={"lease_seconds": 120}).json()["hold_id"]
    change_pid = d.ensure("change")["pid"]
    gone_pid = d.ensure("gone")["pid"]

    # A streamed request in flight on the model whose command changes: ~1 s of tokens.
    streamed = {}

    def stream():
        with d.client.stream("POST", "/v1/chat/completions",
                             json={"model": "change", "stream": True, "max_tokens": 50,
                                   "messages": [{"role": "user", "content": "x"}]}) as r:
            streamed["status"] = r.status_code
            streamed["text"] = "".join(r.iter_text())
    t = threading.Thread(target=stream)
    t.start()
    assert wait_until(lambda: d.worker("change")["in_flight"] == 1, 5)

    def edit(models):
        models["change"]["command"] += ["--tokens", "7"]
        models["change"]["aliases"] = ["renamed"]  # routes at once, though the worker waits to restart
        models["keep"]["idle_shutdown_seconds"] = 1234  # applied live: no restart
        del models["gone"]
        models["added"] = fake_model(fake_bin, "added")
    rewrite_models(d, edit)
    r = d.admin("POST", "/kitty/config/reload")
    assert r.status_code == 200, r.text
    assert r.json()["models"] == {"keep": "updated", "change": "restart_when_idle",
                                  "gone": "removed_stopping", "added": "added"}, r.json()
    assert r.json()["not_applied"] == []
    # The new alias routes at once: this request waits for the one in flight to end and for the
    # worker to restart with the new command (7 tokens at most).
    r = chat(d, "renamed", max_tokens=100)
    assert r.status_code == 200 and r.json()["usage"]["completion_tokens"] <= 7, r.text
    assert r.headers["x-kitty-served-by"] == "change"

    # Unchanged where it counts: same process, its hold, the new idle timeout.
    w = d.worker("keep")
    assert w["pid"] == keep_pid and [h["id"] for h in w["holds"]] == [hold], w
    assert w["idle_shutdown_seconds"] == 1234
    # The request in flight finishes on the old worker; then it restarts with the new command.
    t.join(30)
    assert streamed["status"] == 200 and "[DONE]" in streamed["text"], streamed
    assert wait_until(lambda: d.worker("change")["status"] == "ready" and d.worker("change")["pid"] != change_pid, 10), \
        d.worker("change")
    assert not group_alive(change_pid)
    # Removed: unknown at once, its worker stopped; added: served.
    r = chat(d, "gone")
    assert r.status_code == 404 and "keep" in r.json()["error"]["message"], r.text
    assert wait_until(lambda: not group_alive(gone_pid), 10)
    assert "gone" not in d.workers()
    r = chat(d, "added")
    assert r.status_code == 200 and r.headers["x-kitty-served-by"] == "added", r.text


def test_a_bad_file_keeps_the_old_config_and_says_where(start_kittyd, fake_bin):
    d = start_kittyd({"m": fake_model(fake_bin, "m")})
    pid = d.ensure("m")["pid"]
    good = d.config_path.read_text()
    d.config_path.write_text(good.replace('"stop_timeout_seconds": 3', '"stop_timeout_seconds": "soon"'))
    r = d.admin("POST", "/kitty/config/reload")
    assert r.status_code == 400, r.text
    msg = r.json()["error"]["message"]
    assert "keeps running on the previous config" in msg and f"{d.config_path.name}:" in msg, msg
    assert "models.m.stop_timeout_seconds" in msg, msg
    assert d.worker("m")["pid"] == pid
    assert chat(d, "m").status_code == 200


def test_sighup_reloads_and_a_forced_reload_restarts_at_once(start_kittyd, fake_bin):
    d = start_kittyd({"m": fake_model(fake_bin, "m")})
    pid = d.ensure("m")["pid"]
    rewrite_models(d, lambda models: models["m"].update(priority=7))
    d.proc.send_signal(signal.SIGHUP)
    assert wait_until(lambda: d.worker("m")["priority"] == 7, 5), d.log_text()
    assert d.worker("m")["pid"] == pid and d.proc.poll() is None
    rewrite_models(d, lambda models: models["m"]["command"].append("--tokens=3"))
    r = d.admin("POST", "/kitty/config/reload?force=true")
    assert r.status_code == 200 and r.json()["models"] == {"m": "restarted"}, r.text
    assert wait_until(lambda: d.worker("m")["status"] == "ready" and d.worker("m")["pid"] != pid, 10)


def test_a_runtime_pin_survives_a_reload(start_kittyd, fake_bin):
    d = start_kittyd({"m": fake_model(fake_bin, "m")})
    d.admin("POST", "/kitty/workers/m/pin")
    rewrite_models(d, lambda models: models["m"].update(priority=3))
    assert d.admin("POST", "/kitty/config/reload").status_code == 200
    w = d.worker("m")
    assert w["pinned"] and w["policy_source"]["pinned"] == "runtime" and w["priority"] == 3, w


# --- fallback -------------------------------------------------------------------------------------


def test_fallback_serves_while_the_primary_cannot_start(start_kittyd, fake_bin):
    d = start_kittyd({"main": fake_model(fake_bin, "main", "--fail-on-start", "--load-ms", "100",
                                         fallback=["backup"]),
                      "backup": fake_model(fake_bin, "backup")})
    for _ in range(2):  # the first tries main (its start fails), the next skips it (backing off)
        r = chat(d, "main")
        assert r.status_code == 200, r.text
        assert r.headers["x-kitty-served-by"] == "backup"
        assert r.json()["model"] == "backup"
    # A request that says so is never switched.
    r = chat(d, "main", fallback=False)
    assert r.status_code == 503 and r.json()["error"]["code"] == "worker_start_failed", r.text


def test_a_fallback_loop_ends_with_an_error_naming_each_model(start_kittyd, fake_bin):
    broken = ("--fail-on-start", "--load-ms", "100")
    d = start_kittyd({"a": fake_model(fake_bin, "a", *broken, fallback=["b"]),
                      "b": fake_model(fake_bin, "b", *broken, fallback=["a"])})
    r = chat(d, "a")
    assert r.status_code == 503, r.text
    msg = r.json()["error"]["message"]
    assert "model 'a'" in msg and "fallback 'b'" in msg, msg


def test_fallback_serves_while_a_pinned_model_backs_off_then_the_primary_is_back(start_kittyd, fake_bin):
    d = start_kittyd({"main": fake_model(fake_bin, "main", pinned=True, fallback=["backup"]),
                      "backup": fake_model(fake_bin, "backup")})
    pid = d.ensure("main")["pid"]
    assert chat(d, "main").headers["x-kitty-served-by"] == "main"
    os.kill(pid, signal.SIGKILL)
    assert wait_until(lambda: d.worker("main")["restart"]["next_in_seconds"] is not None, 5), d.worker("main")
    r = chat(d, "main")
    assert r.status_code == 200 and r.headers["x-kitty-served-by"] == "backup", r.text
    assert wait_until(lambda: d.worker("main")["status"] == "ready", 10), d.worker("main")
    assert chat(d, "main").headers["x-kitty-served-by"] == "main"
