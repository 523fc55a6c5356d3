"""Black-box tests of `kittyctl top`, `pin`, `unpin`, `priority` and `headroom` (issue 9).

Two kinds of kittyd answer them:
- a scripted one (`Scripted`, Python's http.server in a thread) that serves the issue-9 JSON of
  docs/API.md (W with "memory", "class", "pinned", ... and GET /kitty/system/memory) and records
  every request, so the frame's numbers, units, order and width, and the policy requests' method,
  path and body are checked exactly;
- a real kittyd with fake_engine models, whatever it reports: until the daemon side of issue 9
  lands it has neither the memory route nor the new fields, and kittyctl must show "-" for them
  and say "this kittyd does not support pin" (the tests accept either daemon, checking each cell
  against the daemon's own JSON).

Binaries: $KITTYCTL, $KITTYD, $FAKE_ENGINE (else build/...). Standard library and
tests/support/kitty_testkit.py only, like test_kittyctl.py.
"""

import copy
import fcntl
import json
import os
import pty
import re
import select
import signal
import struct
import subprocess
import termios
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from kitty_testkit import Kittyd, free_port, require_binary, wait_until

GIB = 1 << 30
LONG_ID = "qwen2.5-coder-32b-instruct-q4_k_m-very-long-id"

# --- the issue-9 JSON (docs/API.md) ---------------------------------------------------------------


def w(model_id, status, **keys):
    """A W object with every field of docs/API.md; `keys` override (memory keys via memory=)."""
    base = {"model_id": model_id, "status": status, "pid": None, "port": None, "rss_mb": None,
            "pss_mb": None, "last_used": None, "idle_seconds": None, "in_flight": 0,
            "requests_total": 0, "started_at": None, "load_seconds": None, "last_error": None,
            "backend": "llama_server", "aliases": [], "idle_shutdown_seconds": 900, "holds": [],
            "memory": {"rss_bytes": None, "pss_bytes": None, "gpu_bytes": None,
                       "peak_rss_bytes": None, "expected_bytes": None, "basis": "unknown",
                       "estimate_bytes": None, "learned_bytes": None, "estimate_error": None},
            "class": "evictable", "pinned": False, "pressure_evict_only": False, "priority": 0,
            "policy_source": {"pinned": "config", "priority": "config"}}
    base["memory"].update(keys.pop("memory", {}))
    base.update(keys)
    return base


WORKERS = {"workers": [
    # Listed out of order on purpose: the frame sorts by memory held.
    w("embed", "stopped", memory={"expected_bytes": 500 * (1 << 20), "basis": "estimate",
                                  "estimate_bytes": 500 * (1 << 20)}),
    w("smol", "ready", pid=1234, port=41000, rss_mb=171.7, idle_seconds=3.2, requests_total=7,
      memory={"rss_bytes": 180000000, "pss_bytes": 175000000, "peak_rss_bytes": 182000000,
              "expected_bytes": 190000000, "basis": "learned", "estimate_bytes": 201000000,
              "learned_bytes": 190000000, "estimate_error": 0.058},
      **{"class": "warm", "policy_source": {"pinned": "config", "priority": "runtime"}}),
    w("broken", "failed", last_error="exited with status 1\nmore"),
    w(LONG_ID, "ready", pid=2222, port=41001, idle_seconds=0.5, in_flight=2,
      holds=[{"id": "h-1", "owner": "graph", "expires_in_seconds": 25.0}],
      memory={"rss_bytes": 19 * GIB, "gpu_bytes": 2 * GIB, "peak_rss_bytes": 20 * GIB,
              "expected_bytes": 21 * GIB, "basis": "learned", "estimate_bytes": 18 * GIB,
              "learned_bytes": 21 * GIB, "estimate_error": -0.142857},
      pinned=True, priority=5, pressure_evict_only=False,
      **{"class": "active", "policy_source": {"pinned": "runtime", "priority": "config"}}),
    w("tiny", "starting", pid=3333, pressure_evict_only=True, priority=-1),
]}

MEMORY = {"total_bytes": 25000000000, "available_bytes": 23000000000,
          "budget_bytes": 20000000000, "reserve_bytes": 1073741824, "workers_bytes": 380000000,
          "max_models": None, "swap_used_bytes": 0,
          "cgroup": {"max_bytes": None, "current_bytes": 500000000},
          "gpus": [{"index": 0, "name": "NVIDIA H200", "total_bytes": 150 * 10**9,
                    "used_bytes": 2 * GIB, "budget_bytes": 120 * 10**9}],
          "pressure": {"ram": True, "gpu": False, "cpu": False, "disk": False,
                       "events": [{"kind": "ram", "at": "2026-11-29T08:59:00Z",
                                   "message": "RAM 91% used (threshold 90%)"}]},
          "restore_queue": ["qwen"], "sampled_at": "2026-11-29T09:00:00Z"}


def error_body(code, message):
    return {"error": {"message": message, "type": "invalid_request_error", "code": code}}


class Scripted:
    """A kittyd stand-in: `routes[(method, path)] = (status, json_body)`; anything else answers
    404 not_found, as kittyd does for an unknown route. `requests` records (method, path, body)."""

    def __init__(self):
        self.routes = {("GET", "/kitty/system/workers"): (200, WORKERS),
                       ("GET", "/kitty/system/memory"): (200, MEMORY)}
        self.requests = []
        scripted = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                scripted.requests.append((self.command, self.path, body))
                status, reply = scripted.routes.get(
                    (self.command, self.path),
                    (404, error_body("not_found", f"no route for {self.command} {self.path}")))
                data = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = _answer

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def kittyctl():
    return require_binary("KITTYCTL", "build/kittyctl")


@pytest.fixture
def scripted():
    s = Scripted()
    yield s
    s.close()


def ctl(kittyctl, url, *args, columns=None, timeout=30):
    env = {k: v for k, v in os.environ.items() if k not in ("KITTY_URL", "KITTY_API_KEY",
                                                              "COLUMNS")}
    if columns is not None:
        env["COLUMNS"] = str(columns)
    return subprocess.run([str(kittyctl), "--url", url, *args], capture_output=True, text=True,
                          env=env, timeout=timeout, stdin=subprocess.DEVNULL)


def frame_table(stdout):
    """The table of a frame as (header cells, [row dicts] in order): the lines after the first
    blank line, columns two or more spaces apart, up to the first line that is not a row."""
    lines = stdout.split("\n")
    start = lines.index("") + 1
    names = re.split(r" {2,}", lines[start].strip())
    rows = []
    for line in lines[start + 1:]:
        cells = re.split(r" {2,}", line.strip())
        if len(cells) != len(names):
            break
        rows.append(dict(zip(names, cells)))
    return names, rows


def widths(text):
    return [len(line) for line in text.split("\n")]  # Python counts code points, as kittyctl does


# --- top against the scripted kittyd --------------------------------------------------------------


def test_top_once_header_has_system_memory_pressure_and_restore_queue(kittyctl, scripted):
    p = ctl(kittyctl, scripted.url, "top", "--once", columns=200)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.split("\n")
    assert lines[0].startswith(f"kittyd {scripted.url}  ")
    assert "every 2s" in lines[0]
    assert lines[0].endswith("5 models: 2 ready, 1 starting, 1 failed, 1 stopped")
    assert "q quits" not in lines[0]  # not a terminal: nothing to press
    assert lines[1] == ("memory: total 23.3 GiB  available 21.4 GiB  budget 18.6 GiB  "
                        "reserve 1.0 GiB  workers 362 MiB  max models -  swap 0 B  "
                        "cgroup 477 MiB / no limit")
    assert lines[2] == "gpu 0: NVIDIA H200  used 2.0 GiB / 139.7 GiB  budget 111.8 GiB"
    assert lines[3] == "pressure: ram"
    assert lines[4] == "  2026-11-29T08:59:00Z  ram: RAM 91% used (threshold 90%)"
    assert lines[5] == "restore queue: qwen"
    assert lines[6] == ""
    assert [r for r in scripted.requests if r[0] != "GET"] == []


def test_top_once_table_sorted_by_memory_held_with_every_figure(kittyctl, scripted):
    p = ctl(kittyctl, scripted.url, "top", "--once", columns=250)
    assert p.returncode == 0, p.stderr
    names, rows = frame_table(p.stdout)
    assert names == ["MODEL", "CLASS", "STATUS", "PID", "RSS", "GPU", "EXPECTED", "ESTIMATE",
                     "IDLE", "FLIGHT", "HOLDS", "PRIO", "POLICY"]
    # Holding memory first, largest first (RSS + GPU); then running without figures; then by id.
    assert [r["MODEL"] for r in rows] == [LONG_ID, "smol", "tiny", "broken", "embed"]
    big, smol, tiny, broken, embed = rows
    assert big == {"MODEL": LONG_ID, "CLASS": "active", "STATUS": "ready", "PID": "2222",
                   "RSS": "19.0 GiB", "GPU": "2.0 GiB", "EXPECTED": "21.0 GiB learned",
                   "ESTIMATE": "18.0 GiB -14%", "IDLE": "0s", "FLIGHT": "2", "HOLDS": "1",
                   "PRIO": "5", "POLICY": "pinned*"}
    assert smol == {"MODEL": "smol", "CLASS": "warm", "STATUS": "ready", "PID": "1234",
                    "RSS": "172 MiB", "GPU": "-", "EXPECTED": "181 MiB learned",
                    "ESTIMATE": "192 MiB +5.8%", "IDLE": "3s", "FLIGHT": "0", "HOLDS": "-",
                    "PRIO": "0*", "POLICY": "-"}
    assert tiny["STATUS"] == "starting" and tiny["RSS"] == "-" and tiny["IDLE"] == "-"
    assert tiny["POLICY"] == "pressure-only" and tiny["PRIO"] == "-1"
    assert broken["STATUS"] == "failed" and broken["PID"] == "-"
    assert embed["EXPECTED"] == "500 MiB estimate" and embed["ESTIMATE"] == "500 MiB"
    assert "* set at runtime; a config reload keeps it" in p.stdout
    assert "hidden to fit" not in p.stdout


def test_top_fits_a_narrow_terminal_cutting_ids_and_hiding_columns(kittyctl, scripted):
    p = ctl(kittyctl, scripted.url, "top", "--once", columns=60)
    assert p.returncode == 0, p.stderr
    assert max(widths(p.stdout)) <= 60, p.stdout
    names, rows = frame_table(p.stdout)
    assert names[0] == "MODEL" and "STATUS" in names and "RSS" in names
    assert "PID" not in names and "ESTIMATE" not in names
    cut = rows[0]["MODEL"]
    # Cut in the middle, politely: both ends of the id survive, joined by an ellipsis.
    assert "…" in cut and cut != LONG_ID
    head, tail = cut.split("…")
    assert LONG_ID.startswith(head) and LONG_ID.endswith(tail) and len(head) >= 4
    assert rows[0]["RSS"] == "19.0 GiB"
    hidden = p.stdout[p.stdout.index("hidden to fit 60 columns: "):]
    for column in ("PID", "HOLDS", "ESTIMATE"):
        assert column in hidden
    # The memory line wraps instead of being cut.
    assert "memory: total 23.3 GiB" in p.stdout and "cgroup 477 MiB / no limit" in p.stdout


def test_top_width_defaults_to_120_without_a_terminal(kittyctl, scripted):
    p = ctl(kittyctl, scripted.url, "top", "--once")
    assert p.returncode == 0, p.stderr
    assert max(widths(p.stdout)) <= 120
    assert "hidden to fit 120 columns: " in p.stdout  # the long id does not leave room for all


def test_top_json_once_is_both_answers(kittyctl, scripted):
    p = ctl(kittyctl, scripted.url, "top", "--once", "--json")
    assert p.returncode == 0, p.stderr
    assert p.stdout.count("\n") == 1
    assert json.loads(p.stdout) == {"workers": WORKERS["workers"], "memory": MEMORY}


def test_top_of_a_kittyd_without_issue_9_shows_dashes(kittyctl, scripted):
    old = copy.deepcopy(WORKERS)
    for worker in old["workers"]:
        for key in ("memory", "class", "pinned", "pressure_evict_only", "priority",
                    "policy_source"):
            del worker[key]
    scripted.routes[("GET", "/kitty/system/workers")] = (200, old)
    del scripted.routes[("GET", "/kitty/system/memory")]  # 404 not_found, as today's kittyd
    p = ctl(kittyctl, scripted.url, "top", "--once", columns=200)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split("\n")[1] == "system memory: not reported by this kittyd"
    names, rows = frame_table(p.stdout)
    assert "GPU" not in names  # no GPU anywhere: no column of dashes
    by_id = {r["MODEL"]: r for r in rows}
    # rss_mb, the older field, still counts: smol holds memory, so it comes first.
    assert rows[0]["MODEL"] == "smol" and by_id["smol"]["RSS"] == "172 MiB"
    for row in rows:
        assert row["CLASS"] == row["EXPECTED"] == row["ESTIMATE"] == row["PRIO"] == "-"
        assert row["POLICY"] == "-"


def test_top_survives_answers_of_the_wrong_shape(kittyctl, scripted):
    odd = {"workers": [
        {"model_id": 7, "status": None, "pid": -1, "rss_mb": 1e300, "idle_seconds": 1e300,
         "in_flight": "many", "holds": {"h": 1}, "memory": "lots", "class": ["warm"],
         "pinned": "yes", "priority": 1e300, "policy_source": []},
        {"model_id": "x", "status": "ready", "idle_seconds": 1e300, "priority": -2**63,
         "memory": {"rss_bytes": -5, "gpu_bytes": 2**64 - 1, "expected_bytes": "1GiB",
                    "basis": 3, "estimate_bytes": 1.5e9, "estimate_error": "big"}},
        "not an object", None, 42]}
    memory = {"total_bytes": "a lot", "cgroup": [], "gpus": [None, {"index": "zero"}],
              "pressure": {"ram": "yes", "events": [None, 3, {"kind": 1}]},
              "restore_queue": [1, None, "qwen"]}
    for workers, mem in ((odd, memory), ({"workers": "none"}, []), ([], None)):
        scripted.routes[("GET", "/kitty/system/workers")] = (200, workers)
        scripted.routes[("GET", "/kitty/system/memory")] = (200, mem)
        for columns in ("200", "30", "1"):
            p = ctl(kittyctl, scripted.url, "top", "--once", columns=columns)
            assert p.returncode == 0, (workers, columns, p.stderr)
            assert p.stdout.startswith("kittyd ") or columns == "1"
    p = ctl(kittyctl, scripted.url, "top", "--once", columns=200)
    assert "(no models configured)" in p.stdout


def test_top_with_memory_route_failing_still_shows_the_models(kittyctl, scripted):
    scripted.routes[("GET", "/kitty/system/memory")] = (
        500, {"error": {"message": "cannot read /proc/meminfo", "type": "server_error",
                        "code": "internal_error"}})
    p = ctl(kittyctl, scripted.url, "top", "--once")
    assert p.returncode == 0, p.stderr
    assert "system memory: cannot read /proc/meminfo" in p.stdout
    assert len(frame_table(p.stdout)[1]) == 5


def test_top_exit_codes_follow_health(kittyctl, scripted):
    scripted.routes[("GET", "/kitty/system/workers")] = (
        401, {"error": {"message": "invalid API key", "type": "authentication_error",
                        "code": "invalid_api_key"}})
    p = ctl(kittyctl, scripted.url, "top", "--once")
    assert (p.returncode, p.stdout, p.stderr) == (1, "", "kittyctl: invalid API key\n")
    url = f"http://127.0.0.1:{free_port()}"
    down = ctl(kittyctl, url, "top")  # not --once: an absent kittyd still ends at once
    assert down.returncode == 2
    assert down.stderr == f"kittyctl: cannot reach kittyd at {url}: connection refused\n"


def test_top_without_a_terminal_prints_frame_after_frame_until_sigint(kittyctl, scripted,
                                                                       tmp_path):
    out = tmp_path / "top.out"
    with open(out, "w") as f:
        proc = subprocess.Popen([str(kittyctl), "--url", scripted.url, "top", "-d", "0.2"],
                                stdout=f, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                text=True)
    try:
        assert wait_until(lambda: out.read_text().count(f"kittyd {scripted.url}") >= 3, 10)
        # Between frames the daemon goes away: the view says so and keeps the last answers.
        scripted.routes[("GET", "/kitty/system/workers")] = (
            503, error_body("shutting_down", "kittyd is shutting down"))
        assert wait_until(lambda: "✗ kittyd is shutting down" in out.read_text(), 10)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(5) == 0, proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    frames = out.read_text().split(f"\nkittyd {scripted.url}")
    assert all("\nMODEL " in f for f in frames), frames[-1]  # stale answers still shown
    assert "\x1b" not in out.read_text()  # plain text: no screen control for a file


class Pty:
    """kittyctl top on a pseudo-terminal of `columns` x `rows`, its output read by a thread."""

    def __init__(self, argv, columns, rows):
        self.master, slave = pty.openpty()
        self.resize(columns, rows)
        self.before = termios.tcgetattr(slave)
        env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
        # Its own session with the pty as controlling terminal, as in a shell: Ctrl-C typed on
        # it raises SIGINT, a resize raises SIGWINCH.
        self.proc = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True,
            preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
        self.slave = slave
        self.output = b""
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def resize(self, columns, rows):
        fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))

    def _read(self):
        while True:
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if not ready:
                if self.proc.poll() is not None:
                    return
                continue
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.output += chunk

    def text(self):
        return self.output.decode(errors="replace")

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.reader.join(5)
        os.close(self.slave)
        os.close(self.master)


def frames(text):
    """The frames drawn completely (cursor home ... clear to the end), escapes removed, as lists
    of lines."""
    out = []
    for chunk in text.split("\x1b[H")[1:]:
        if "\x1b[J" not in chunk:
            continue  # still being written
        chunk = chunk[:chunk.index("\x1b[J")]
        out.append(re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", chunk).replace("\r", "").split("\n"))
    return out


def last_frame(text):
    drawn = frames(text)
    return drawn[-1] if drawn else [""]


def test_top_on_a_terminal_redraws_in_place_resizes_and_quits_on_q(kittyctl, scripted):
    # A long interval: every frame after the first is one that a key or a resize asked for.
    term = Pty([str(kittyctl), "--url", scripted.url, "top", "-d", "60"], columns=150, rows=40)
    try:
        assert wait_until(lambda: len(frames(term.text())) == 1, 10), term.text()
        assert term.text().startswith("\x1b[?1049h\x1b[?25l")  # alternate screen, no cursor
        frame = last_frame(term.text())
        assert frame[0].endswith("(q quits)")
        assert max(map(len, frame)) <= 150 and "ESTIMATE" in "\n".join(frame)

        fetched = len(scripted.requests)
        os.write(term.master, b" ")  # any key but q: refresh now
        assert wait_until(lambda: len(frames(term.text())) == 2, 5)
        assert len(scripted.requests) > fetched

        fetched = len(scripted.requests)
        term.resize(70, 40)  # the terminal raises SIGWINCH in its foreground group
        assert wait_until(lambda: len(frames(term.text())) == 3, 5)
        frame = last_frame(term.text())
        assert max(map(len, frame)) <= 70 and "hidden to fit 70 columns: " in "\n".join(frame)
        assert len(scripted.requests) == fetched  # a resize redraws the same answers

        os.write(term.master, b"q")
        assert term.proc.wait(5) == 0
        assert wait_until(lambda: term.text().endswith("\x1b[?25h\x1b[?1049l"), 5), \
            repr(term.text()[-80:])
        assert termios.tcgetattr(term.slave) == term.before  # echo and line mode are back
    finally:
        term.close()


def test_top_on_a_terminal_quits_on_ctrl_c_and_gives_the_terminal_back(kittyctl, scripted):
    term = Pty([str(kittyctl), "--url", scripted.url, "top"], columns=100, rows=12)
    try:
        assert wait_until(lambda: frames(term.text()), 10)
        frame = last_frame(term.text())
        # 12 rows: the frame is cut to fit, its last line saying so.
        assert len(frame) == 12 and frame[-1].startswith("… ") and "more lines" in frame[-1]
        os.write(term.master, b"\x03")  # Ctrl-C: the terminal sends SIGINT
        assert term.proc.wait(5) == 0
        assert wait_until(lambda: term.text().endswith("\x1b[?25h\x1b[?1049l"), 5)
        assert termios.tcgetattr(term.slave) == term.before
    finally:
        term.close()


# --- pin / unpin / priority / headroom against the scripted kittyd --------------------------------


def policy_w(**keys):
    return w("smol", "ready", pid=1234, **{"class": "active", **keys})


def test_pin_unpin_priority_send_the_documented_requests(kittyctl, scripted):
    scripted.routes[("POST", "/kitty/workers/smol/pin")] = (200, policy_w(
        pinned=True, policy_source={"pinned": "runtime", "priority": "config"}))
    scripted.routes[("POST", "/kitty/workers/smol/unpin")] = (200, policy_w(
        pinned=False, policy_source={"pinned": "runtime", "priority": "config"}))
    scripted.routes[("POST", "/kitty/workers/smol/priority")] = (200, policy_w(
        priority=-3, pressure_evict_only=True,
        policy_source={"pinned": "config", "priority": "runtime"}))

    pin = ctl(kittyctl, scripted.url, "pin", "smol")
    assert (pin.returncode, pin.stderr) == (0, "")
    assert pin.stdout == "smol: pinned (runtime), priority 0 (config), class active\n"
    unpin = ctl(kittyctl, scripted.url, "unpin", "smol")
    assert unpin.stdout == "smol: not pinned (runtime), priority 0 (config), class active\n"
    prio = ctl(kittyctl, scripted.url, "priority", "smol", "-3")
    assert prio.returncode == 0, prio.stderr
    assert prio.stdout == ("smol: not pinned (config), pressure-only, priority -3 (runtime), "
                           "class active\n")
    as_json = ctl(kittyctl, scripted.url, "pin", "smol", "--json")
    assert json.loads(as_json.stdout)["pinned"] is True

    posts = [(m, p, json.loads(b) if b else None) for m, p, b in scripted.requests]
    assert posts == [("POST", "/kitty/workers/smol/pin", {}),
                     ("POST", "/kitty/workers/smol/unpin", {}),
                     ("POST", "/kitty/workers/smol/priority", {"priority": -3}),
                     ("POST", "/kitty/workers/smol/pin", {})]


def test_headroom_parses_sizes_and_prints_what_was_freed(kittyctl, scripted):
    answer = {"requested_bytes": 2 * GIB, "freed_bytes": 19 * GIB, "evicted": [LONG_ID, "smol"],
              "available_bytes": 21 * GIB}
    scripted.routes[("POST", "/kitty/memory/headroom")] = (200, answer)
    sizes = {"512MiB": 512 << 20, "2GiB": 2 * GIB, "1.5GB": 1_500_000_000,
             "1073741824": 1073741824, "64 kib": 65536, "3TB": 3 * 10**12}
    for text, expected in sizes.items():
        p = ctl(kittyctl, scripted.url, "headroom", text)
        assert p.returncode == 0, (text, p.stderr)
        method, path, body = scripted.requests[-1]
        assert (method, path, json.loads(body)) == ("POST", "/kitty/memory/headroom",
                                                    {"bytes": expected}), text
    assert p.stdout == (f"freed 19.0 GiB of 2.0 GiB asked (evicted {LONG_ID}, smol); "
                        "21.0 GiB available\n")
    scripted.routes[("POST", "/kitty/memory/headroom")] = (200, {**answer, "evicted": []})
    assert "(evicted nothing)" in ctl(kittyctl, scripted.url, "headroom", "1").stdout
    as_json = ctl(kittyctl, scripted.url, "headroom", "1", "--json")
    assert json.loads(as_json.stdout)["evicted"] == []

    sent = len(scripted.requests)
    for bad in ("2G", "lots", "1.2.3MiB", "-5", ""):
        p = ctl(kittyctl, scripted.url, "headroom", bad)
        assert p.returncode == 64, (bad, p.returncode, p.stderr)
        assert "not a byte size" in p.stderr and "512MiB" in p.stderr, p.stderr
    assert len(scripted.requests) == sent  # nothing sent for a size that does not parse


def test_policy_commands_on_a_kittyd_without_the_routes(kittyctl, scripted):
    # The scripted kittyd answers every unknown route 404 not_found, as today's kittyd does.
    for args, feature in ((["pin", "smol"], "pin"), (["unpin", "smol"], "unpin"),
                          (["priority", "smol", "2"], "priority"),
                          (["headroom", "1GiB"], "headroom")):
        p = ctl(kittyctl, scripted.url, *args)
        assert (p.returncode, p.stdout) == (1, ""), args
        assert p.stderr == f"kittyctl: this kittyd does not support {feature} (404 not_found)\n"
    # An unknown model is kittyd's message, not "unsupported".
    scripted.routes[("POST", "/kitty/workers/nope/pin")] = (404, error_body(
        "model_not_found", "model 'nope' not found; available: smol"))
    p = ctl(kittyctl, scripted.url, "pin", "nope")
    assert (p.returncode, p.stderr) == (1, "kittyctl: model 'nope' not found; available: smol\n")


# --- against a real kittyd (today's, or one with issue 9's daemon side) --------------------------


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    fake = str(require_binary("FAKE_ENGINE", "build/fake_engine"))
    models = {
        mid: {"backend": "command", "shutdown_path": "/shutdown",
              "command": [fake, "--port", "${PORT}", "--model-id", mid, *extra]}
        for mid, extra in (("big", ["--memory-mb", "48"]), ("small", []),
                           ("an-idle-model-with-a-long-identifier-q8_0", []))}
    d = Kittyd(require_binary("KITTYD", "build/kittyd"), tmp_path_factory.mktemp("kittyd"),
               models)
    yield d
    d.stop(check=True)


def get(url, path):
    """(status, JSON body) of a GET, error statuses included."""
    try:
        with urllib.request.urlopen(url + path, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_top_against_a_real_kittyd_shows_what_it_reports(kittyctl, daemon):
    req = urllib.request.Request(daemon.url + "/kitty/workers/big/ensure", data=b"{}",
                                 method="POST")
    with urllib.request.urlopen(req, timeout=30) as r:
        daemon.seen_pids.add(json.loads(r.read())["pid"])

    def big():  # the sampler measures on a timer: wait for the first figure
        ws = {x["model_id"]: x for x in get(daemon.url, "/kitty/system/workers")[1]["workers"]}
        return ws if ws["big"].get("rss_mb") is not None else None
    workers = wait_until(big, 15)
    assert workers, "kittyd reported no memory for a ready worker"

    p = ctl(kittyctl, daemon.url, "top", "--once", columns=200)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.split("\n")
    assert lines[0].startswith(f"kittyd {daemon.url}  ")
    assert lines[0].endswith("3 models: 1 ready, 2 stopped")
    status, memory = get(daemon.url, "/kitty/system/memory")
    if status == 404:  # a kittyd from before issue 9
        assert lines[1] == "system memory: not reported by this kittyd"
    else:
        assert status == 200 and lines[1].startswith("memory: total ")

    names, rows = frame_table(p.stdout)
    assert [r["MODEL"] for r in rows][0] == "big"  # the one holding memory comes first
    assert re.fullmatch(r"\d+ MiB|\d+\.\d GiB", rows[0]["RSS"]), rows[0]
    assert rows[0]["STATUS"] == "ready" and rows[0]["PID"] == str(workers["big"]["pid"])
    for row in rows:
        wj = workers[row["MODEL"]]
        # Each issue-9 cell shows the daemon's value, or "-" where it reports none.
        assert row["CLASS"] == (wj.get("class") or "-")
        if not isinstance(wj.get("priority"), int):
            assert row["PRIO"] == "-"
        if not isinstance(wj.get("memory"), dict):
            assert row["EXPECTED"] == row["ESTIMATE"] == "-"
    assert {r["MODEL"] for r in rows} == set(workers)

    narrow = ctl(kittyctl, daemon.url, "top", "--once", columns=50)
    assert narrow.returncode == 0 and max(widths(narrow.stdout)) <= 50, narrow.stdout
    j = ctl(kittyctl, daemon.url, "top", "--once", "--json")
    got = json.loads(j.stdout)
    assert [x["model_id"] for x in got["workers"]] == [x["model_id"] for x in workers.values()]
    assert got["memory"] == (memory if status == 200 else None)


def test_pin_unpin_priority_headroom_against_a_real_kittyd(kittyctl, daemon):
    for args, feature, done in ((["pin", "small"], "pin", "small: pinned"),
                                (["priority", "small", "3"], "priority", "small: "),
                                (["unpin", "small"], "unpin", "small: not pinned"),
                                (["headroom", "1"], "headroom", "freed ")):
        p = ctl(kittyctl, daemon.url, *args)
        if p.returncode == 1:  # a kittyd from before issue 9
            assert p.stderr == (f"kittyctl: this kittyd does not support {feature} "
                                "(404 not_found)\n"), args
        else:
            assert p.returncode == 0 and p.stdout.startswith(done), (args, p.stdout, p.stderr)
    # An unknown model is named as such by every kittyd, never "not supported".
    p = ctl(kittyctl, daemon.url, "pin", "nope")
    assert p.returncode == 1 and "nope" in p.stderr and "big" in p.stderr, p.stderr
    assert "does not support" not in p.stderr
