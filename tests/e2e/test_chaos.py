"""Issue 10's chaos test, black-box: workers SIGKILLed at random while clients stream.

`test_random_worker_kills_under_streaming_load` proves, for a kittyd serving three fake models
(one pinned, one whose worker forks a grandchild into its process group), with 20 clients
streaming chat completions for $KITTY_CHAOS_SECONDS (default 30) while one random worker pid is
SIGKILLed every 0.5 s, that:

- every request ends, and ends well: complete (its last event `data: [DONE]`), an HTTP error
  status with an OpenAI-shaped JSON error body, or a stream whose last event is
  `data: {"error": {...}}` (docs/API.md), every event before it whole; no request hangs (no 10 s
  without a byte, client threads joined within a bound) and no connection is cut without an
  answer;
- no orphan: every worker pid seen during the run (status API and kittyd's fake_engine children)
  is, once the chaos ends, either the current worker of its model or gone with its whole process
  group (the forked grandchild included): kittyd kills the rest of a group whose leader was
  killed from outside, and reaps the leader;
- `in_flight` is back to 0 for every model: no request stays counted after its worker died;
- the pinned model is `ready` again without any request (restart on crash, backoff 5 s doubling);
- once every model is released, no process of any group seen survives.

Set KITTY_CHAOS_SEED to replay a run's choice of victims (the seed is printed on failure).
"""

import json
import os
import random
import signal
import threading
import time
from pathlib import Path

import httpx

from kitty_e2e import fake_model
from kitty_testkit import children_of, wait_until

CLIENTS = 20
KILL_EVERY_S = 0.5
READ_TIMEOUT_S = 10.0  # a stream silent this long is hung (the fake engine sends a token every 2 ms)
JOIN_BOUND_S = 15.0  # after the chaos, for every client to finish its last request
PINNED_READY_S = 30.0  # restarts back off 5 s, then 10 s, then 20 s


def chaos_seconds():
    return float(os.environ.get("KITTY_CHAOS_SECONDS") or 30)


def check_answer(status, body):
    """How one streaming request ended: ("ok" | "http_error" | "error_event", None), or
    ("bad", why) when it ended any other way."""
    text = body.decode("utf-8", errors="replace")
    if status != 200:
        try:
            err = json.loads(text)["error"]
        except (ValueError, KeyError, TypeError):
            return "bad", f"HTTP {status} without a JSON error body: {text[-300:]!r}"
        if not (isinstance(err, dict) and err.get("message") and err.get("type") and err.get("code")):
            return "bad", f"HTTP {status} with a malformed error: {text[-300:]!r}"
        return "http_error", None
    if not text.endswith("\n\n"):
        return "bad", f"stream cut inside an event: ...{text[-300:]!r}"
    events = text[:-2].split("\n\n")
    for ev in events[:-1]:
        if not (ev.startswith("data: {") and ev.endswith("}")):
            return "bad", f"a broken event before the last: {ev[-300:]!r} (stream ...{text[-300:]!r})"
    last = events[-1]
    if last == "data: [DONE]":
        return "ok", None
    if last.startswith("data: {"):
        try:
            err = json.loads(last[len("data: "):]).get("error")
        except ValueError:
            err = None
        if isinstance(err, dict) and err.get("message") and err.get("code"):
            return "error_event", None
    return "bad", f"stream ended without [DONE] or an error event: ...{text[-300:]!r}"


def fake_children(kittyd_pid, fake_bin):
    """kittyd's children running fake_engine (not its watchdog)."""
    return [pid for pid in children_of(kittyd_pid) if is_fake(pid, fake_bin)]


def is_fake(pid, fake_bin):
    try:
        return str(fake_bin).encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def survivors(groups, kittyd_pid, fake_bin):
    """Processes left of the process groups `groups` (a worker's pid is its group's id): live
    fake_engine processes in them, and zombies kittyd has not reaped. (A pid reused by an
    unrelated process of this busy machine is not one.) One scan of /proc."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        state, ppid, pgrp = raw[raw.rindex(")") + 2:].split()[:3]
        if int(pgrp) not in groups:
            continue
        pid = int(entry)
        if state in ("Z", "X"):
            if int(ppid) == kittyd_pid:
                out.append((pid, "unreaped zombie"))
        elif is_fake(pid, fake_bin):
            out.append((pid, f"alive in group {pgrp}"))
    return out


def test_random_worker_kills_under_streaming_load(start_kittyd, fake_bin):
    seed = int(os.environ.get("KITTY_CHAOS_SEED") or time.time_ns() % 1_000_000)
    rng = random.Random(seed)
    flags = ("--token-ms", "2", "--tokens", "200")
    models = {"hot": fake_model(fake_bin, "hot", *flags, pinned=True),
              "forky": fake_model(fake_bin, "forky", *flags, "--fork-child"),
              # Loads for 150 ms: some kills land while it starts (requests waiting get a 503).
              "cold": fake_model(fake_bin, "cold", *flags, "--load-ms", "150")}
    names = list(models)
    d = start_kittyd(models)
    for m in names:
        d.ensure(m)  # pinned is not preloaded: the chaos starts with every model running

    stop = threading.Event()
    lock = threading.Lock()
    outcomes = {"ok": 0, "http_error": 0, "error_event": 0}
    bad = []  # (model, why) for every request that ended any other way
    slowest = [0.0]

    def client(i):
        model = names[i % len(names)]
        timeout = httpx.Timeout(connect=5, read=READ_TIMEOUT_S, write=5, pool=5)
        body = {"model": model, "stream": True, "max_tokens": 200,
                "messages": [{"role": "user", "content": f"client {i}"}]}
        with httpx.Client(base_url=d.url, timeout=timeout) as c:
            while not stop.is_set():
                t0 = time.monotonic()
                try:
                    with c.stream("POST", "/v1/chat/completions", json=body) as r:
                        kind, why = check_answer(r.status_code, b"".join(r.iter_raw()))
                except httpx.HTTPError as exc:
                    kind, why = "bad", f"{type(exc).__name__}: {exc}"
                took = time.monotonic() - t0
                with lock:
                    slowest[0] = max(slowest[0], took)
                    if kind == "bad":
                        bad.append((model, f"after {took:.1f}s: {why}"))
                    else:
                        outcomes[kind] += 1
                if kind != "ok":
                    time.sleep(0.05)  # a model in start backoff answers at once: do not spin

    threads = [threading.Thread(target=client, args=(i,), name=f"client-{i}", daemon=True)
               for i in range(CLIENTS)]
    for t in threads:
        t.start()

    seen = {}  # pid (= its process group) -> model, every worker pid seen during the run
    kills = {m: 0 for m in names}

    def look():
        ws = d.workers()
        for m, w in ws.items():
            if w["pid"]:
                seen.setdefault(w["pid"], m)
        for pid in fake_children(d.proc.pid, fake_bin):
            seen.setdefault(pid, "?")
        return ws

    deadline = time.monotonic() + chaos_seconds()
    while time.monotonic() < deadline:
        time.sleep(KILL_EVERY_S)
        running = [(m, w["pid"]) for m, w in look().items() if w["pid"]]
        if not running:
            continue
        m, pid = rng.choice(running)
        try:
            os.kill(pid, signal.SIGKILL)
            kills[m] += 1
        except ProcessLookupError:
            pass
    stop.set()
    chaos_end = time.monotonic()
    for t in threads:
        t.join(max(0.1, chaos_end + JOIN_BOUND_S - time.monotonic()))
    hung = [t.name for t in threads if t.is_alive()]
    look()
    context = (f"seed {seed}, kills {kills}, outcomes {outcomes}, slowest request "
               f"{slowest[0]:.1f}s, {len(seen)} worker pids seen")

    assert not hung, f"clients still in a request {JOIN_BOUND_S}s after the chaos: {hung} ({context})"
    assert not bad, (f"{len(bad)} requests ended without a proper answer, e.g. {bad[:3]} "
                     f"({context})\n--- kittyd log ---\n{d.log_text(40)}")
    # The chaos happened: some requests completed, some were cut by a kill, every model was hit.
    assert outcomes["ok"] > 0 and outcomes["http_error"] + outcomes["error_event"] > 0, context
    assert sum(kills.values()) > 0, context
    if chaos_seconds() >= 10:
        assert all(kills.values()), context

    # Nothing stays counted in flight once every client is done.
    assert wait_until(lambda: all(w["in_flight"] == 0 for w in d.workers().values()), 10), \
        f"in_flight stuck: { {m: w['in_flight'] for m, w in d.workers().items()} } ({context})"

    # No orphan: every pid seen is its model's current worker, or gone with its whole group.
    def orphans():
        current = {w["pid"] for w in look().values() if w["pid"]}
        return survivors(set(seen) - current, d.proc.pid, fake_bin)

    assert wait_until(lambda: not orphans(), 5), (
        f"processes of dead workers outlived them: {orphans()} ({context})\n"
        f"--- kittyd log ---\n{d.log_text(40)}")

    # The pinned model comes back by itself (no request is made any more).
    assert wait_until(lambda: d.worker("hot")["status"] == "ready", PINNED_READY_S), (
        f"the pinned model is not ready {PINNED_READY_S}s after the chaos: {d.worker('hot')} "
        f"({context})\n--- kittyd log ---\n{d.log_text(40)}")
    assert not orphans(), f"after the pinned model's restart: {orphans()} ({context})"

    # Released, nothing of any group seen survives.
    for m in names:
        assert d.release(m)["status"] == "stopped"
    assert wait_until(lambda: not survivors(set(seen), d.proc.pid, fake_bin), 5), (
        f"processes left after every model was released: "
        f"{survivors(set(seen), d.proc.pid, fake_bin)} ({context})")
    print(f"chaos: {context}")  # shown with -s
