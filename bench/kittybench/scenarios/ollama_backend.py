"""A model inside a real Ollama under kittyd (issue 11): `ollama serve` from scripts/install_ollama.sh
started by kittyd itself, SmolLM2 imported from a Modelfile. Measured:
- load: POST /kitty/workers/<id>/ensure until ready (the agent's /api/generate load, the model
  already in Ollama), and release: until the worker is stopped, which kittyd answers only once
  Ollama's /api/ps no longer lists the model;
- kittyd's cost in front of Ollama: a 1-token non-streamed chat through Ollama's own
  /v1/chat/completions vs the same through kittyd (the model renamed on the way), p50 of
  sequential requests on fresh connections, in alternating rounds;
- the supervisor: SIGKILL of `ollama serve` → healthy again (kittyd's restart).
Skipped (with the reason) where no real Ollama or model is installed."""
from __future__ import annotations

import http.client
import json
import os
import shlex
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from ..context import Ctx
from ..daemon import free_port
from ..util import Row, fmt, log, median, pct

NAME = "ollama_backend"


def _env_file(name: str) -> dict[str, str]:
    p = Path(os.environ.get("KITTY_CACHE_DIR") or Path.home() / ".cache" / "kitty") / name
    out: dict[str, str] = {}
    if p.is_file():
        for line in p.read_text().splitlines():
            if "=" in line and not line.startswith("#"):
                k, _, v = line.partition("=")
                out[k.strip()] = shlex.split(v)[0] if v.strip() else ""
    return out


def _call(port: int, method: str, path: str, body=None, timeout=300) -> tuple[int, dict]:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    c.request(method, path, body=None if body is None else json.dumps(body),
              headers={"Content-Type": "application/json"})
    r = c.getresponse()
    data = r.read()
    c.close()
    try:
        return r.status, json.loads(data or b"{}")
    except ValueError:
        return r.status, {}


def _wait(pred, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if pred():
                return True
        except OSError:
            pass
        time.sleep(0.05)
    return False


def _chat_p50(port: int, model: str, n: int) -> float:
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 1, "temperature": 0}
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        status, _ = _call(port, "POST", "/v1/chat/completions", body, timeout=60)
        out.append((time.perf_counter() - t0) * 1e3)
        if status != 200:
            raise RuntimeError(f"chat through port {port} -> {status}")
    return pct(out, 0.5)


def run(ctx: Ctx) -> dict:
    ollama = os.environ.get("KITTY_OLLAMA") or _env_file("ollama.env").get("KITTY_OLLAMA")
    model = os.environ.get("KITTY_TEST_MODEL") or _env_file("engine.env").get("KITTY_TEST_MODEL")
    if not ollama or not Path(ollama).is_file() or not model or not Path(model).is_file():
        log("ollama_backend: skipped (run scripts/install_ollama.sh and scripts/install_engine.sh)")
        return {"skipped": "no real ollama or model installed"}
    o = ctx.opts
    rounds, n = (2, 10) if o.quick else (3, 40)
    tmp = Path(tempfile.mkdtemp(prefix="kitty-bench-ollama-"))
    (tmp / "Modelfile").write_text(f"FROM {model}\n")
    oport, kport = free_port(), free_port()
    ourl = f"http://127.0.0.1:{oport}"
    cfg = {"server": {"listen": f"127.0.0.1:{kport}", "logs_dir": str(tmp / "logs"), "state_dir": str(tmp / "state")},
           "ollama": {"url": ourl, "manage": True, "bin": ollama, "health_interval_seconds": 1,
                      "env": {"HOME": str(tmp / "home"), "OLLAMA_MODELS": str(tmp / "models")}},
           "models": {"smol": {"backend": "ollama", "ollama_model": "smollm2", "ollama_url": ourl,
                               "ollama_modelfile": str(tmp / "Modelfile"), "idle_shutdown_seconds": 0}}}
    (tmp / "kitty.yaml").write_text(json.dumps(cfg))
    log_f = open(tmp / "kittyd.log", "wb")
    proc = subprocess.Popen([str(ctx.k.binary), "--config", str(tmp / "kitty.yaml")], stdout=log_f,
                            stderr=subprocess.STDOUT, start_new_session=True)
    res: dict = {"rounds": rounds, "requests": n}
    try:
        if not _wait(lambda: _call(kport, "GET", "/kitty/ollama")[1].get("health") == "healthy", 60):
            raise RuntimeError("Ollama did not become healthy under kittyd")
        t0 = time.perf_counter()
        status, _ = _call(kport, "POST", "/kitty/workers/smol/ensure")
        res["first_ensure_ms"] = (time.perf_counter() - t0) * 1e3  # includes `ollama create`
        if status != 200:
            raise RuntimeError(f"ensure -> {status}")
        loads, releases = [], []
        for _ in range(rounds):
            t0 = time.perf_counter()
            _call(kport, "POST", "/kitty/workers/smol/release")
            releases.append((time.perf_counter() - t0) * 1e3)
            t0 = time.perf_counter()
            _call(kport, "POST", "/kitty/workers/smol/ensure")
            loads.append((time.perf_counter() - t0) * 1e3)
        res["load_ms_median"], res["release_ms_median"] = median(loads), median(releases)
        _chat_p50(oport, "smollm2", 3)  # warm both paths
        _chat_p50(kport, "smol", 3)
        direct, through = [], []
        for i in range(rounds):
            order = ("direct", "kittyd") if i % 2 == 0 else ("kittyd", "direct")
            for side in order:
                (direct if side == "direct" else through).append(
                    _chat_p50(oport, "smollm2", n) if side == "direct" else _chat_p50(kport, "smol", n))
        res["direct_p50_ms"], res["kittyd_p50_ms"] = median(direct), median(through)
        pid = _call(kport, "GET", "/kitty/ollama")[1]["pid"]
        t0 = time.perf_counter()
        os.kill(pid, signal.SIGKILL)
        ok = _wait(lambda: (lambda s: s.get("health") == "healthy" and s.get("pid") != pid)(
            _call(kport, "GET", "/kitty/ollama")[1]), 60)
        res["daemon_restart_ms"] = (time.perf_counter() - t0) * 1e3 if ok else None
        log(f"ollama_backend: load {res['load_ms_median']:.0f} ms, release {res['release_ms_median']:.0f} ms; "
            f"chat p50 {res['kittyd_p50_ms']:.2f} ms through kittyd vs {res['direct_p50_ms']:.2f} ms direct; "
            f"daemon back {fmt(res['daemon_restart_ms'], ' ms', 0)} after SIGKILL")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log_f.close()
    return res


def rows(r: dict) -> list[Row]:
    if "skipped" in r:
        return [Row("model inside a real Ollama", "—", "skipped: " + r["skipped"])]
    return [
        Row(f"Ollama model: ensure (agent loads it in Ollama) / release (until /api/ps no longer lists it), "
            f"median of {r['rounds']}", "—",
            f"{fmt(r['load_ms_median'], ' ms', 0)} / {fmt(r['release_ms_median'], ' ms', 0)}"),
        Row(f"1-token chat, Ollama's /v1 direct vs through kittyd: p50 of {r['requests']}, median of {r['rounds']}",
            "lost in the noise",
            f"{fmt(r['direct_p50_ms'], ' ms', 2)} vs {fmt(r['kittyd_p50_ms'], ' ms', 2)} "
            f"({(r['kittyd_p50_ms'] - r['direct_p50_ms']) * 1000:+.0f} µs)"),
        Row("`ollama serve` SIGKILLed → healthy again (kittyd restarts it)", "—", fmt(r["daemon_restart_ms"], " ms", 0)),
    ]
