"""Black-box tests of fake_engine: a real process on a real port, spoken to over HTTP.

The binary is $KITTY_BUILD_DIR/fake_engine (default: build/, relative to the repository root).
Every test starts its own engine in its own session and kills the whole process group afterwards.
"""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kitty_testkit import free_port, wait_until

REPO = Path(__file__).resolve().parents[2]
BUILD_DIR = Path(os.environ.get("KITTY_BUILD_DIR", "build"))
if not BUILD_DIR.is_absolute():
    BUILD_DIR = REPO / BUILD_DIR
BINARY = BUILD_DIR / "fake_engine"

ECHO_BYTES = 32


def expected_tokens(prompt, n):
    return ["echo: " + prompt[:ECHO_BYTES]] + [f" tok{i}" for i in range(1, n)]


class Engine:
    """One fake_engine process. stdout/stderr go to files, never to pipes: the forked grandchild
    keeps inherited descriptors open, and a pipe nobody drains could block the engine."""

    def __init__(self, tmp_path, args, env=None, port=None, pass_port=True):
        self.port = port or free_port()
        self.out_path = tmp_path / f"engine-{self.port}.out"
        self.err_path = tmp_path / f"engine-{self.port}.err"
        cmd = [str(BINARY)] + (["--port", str(self.port)] if pass_port else []) + list(args)
        full_env = dict(os.environ)
        full_env.pop("KITTY_PORT", None)
        full_env.pop("KITTY_MODEL_ID", None)
        full_env.update(env or {})
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=full_env,
                                         start_new_session=True)

    @property
    def stdout(self):
        return self.out_path.read_text()

    @property
    def stderr(self):
        return self.err_path.read_text()

    def wait_listening(self, timeout=5.0):
        def listening():
            if self.proc.poll() is not None:
                raise AssertionError(f"engine exited {self.proc.returncode}: {self.stderr}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return True
            except OSError:
                return False
        assert wait_until(listening, timeout), "engine never listened"

    def wait_ready(self, timeout=5.0):
        self.wait_listening(timeout)
        assert wait_until(lambda: self.request("GET", "/health")[0] == 200, timeout)

    def conn(self, timeout=5.0):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, timeout=5.0):
        c = self.conn(timeout)
        try:
            data = json.dumps(body) if isinstance(body, (dict, list)) else body
            headers = {"Content-Type": "application/json"} if data is not None else {}
            c.request(method, path, body=data, headers=headers)
            r = c.getresponse()
            raw = r.read()
            return r.status, (json.loads(raw) if raw else None)
        finally:
            c.close()

    def stats(self):
        return self.request("GET", "/fake/stats")[1]

    def wait_exit(self, timeout=5.0):
        return self.proc.wait(timeout=timeout)

    def kill_group(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass


@pytest.fixture
def start(tmp_path):
    if not BINARY.exists():
        pytest.fail(f"{BINARY} not found: build it (ninja -C {BUILD_DIR} fake_engine) "
                    "or set KITTY_BUILD_DIR")
    engines = []

    def _start(*args, ready=True, env=None, pass_port=True, port=None):
        e = Engine(tmp_path, args, env=env, port=port, pass_port=pass_port)
        engines.append(e)
        if ready:
            e.wait_ready()
        return e

    yield _start
    for e in engines:
        e.kill_group()


def read_events(resp):
    """Reads an SSE body to its end; returns the `data:` payloads in order."""
    events = []
    while True:
        line = resp.readline()
        if not line:
            return events
        line = line.decode().rstrip("\r\n")
        if line.startswith("data: "):
            events.append(line[len("data: "):])


def post_stream(engine, path, body):
    c = engine.conn()
    c.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"})
    r = c.getresponse()
    return c, r


# --- health and models ---------------------------------------------------------------------------

def test_health_is_503_while_loading_then_ok(start):
    e = start("--load-ms", "1500", "--model-id", "m1", ready=False)
    e.wait_listening()
    status, body = e.request("GET", "/health")
    assert status == 503
    assert body == {"error": {"code": 503, "message": "Loading model", "type": "unavailable_error"}}
    status, body = e.request("POST", "/v1/completions", {"prompt": "x"})
    assert status == 503
    assert wait_until(lambda: e.request("GET", "/health")[0] == 200, timeout=10)
    assert e.request("GET", "/health") == (200, {"status": "ok", "model_id": "m1"})
    assert "ready" in e.stdout


def test_never_healthy(start):
    e = start("--never-healthy", ready=False)
    e.wait_listening()
    time.sleep(0.2)
    assert e.request("GET", "/health")[0] == 503


def test_models_lists_the_model_id(start):
    e = start("--model-id", "qwen_32b")
    status, body = e.request("GET", "/v1/models")
    assert status == 200
    assert body["object"] == "list"
    assert [(m["id"], m["object"]) for m in body["data"]] == [("qwen_32b", "model")]


def test_port_and_model_id_from_environment(start):
    port = free_port()
    e = start(env={"KITTY_PORT": str(port), "KITTY_MODEL_ID": "from_env"}, pass_port=False,
              port=port)
    assert e.request("GET", "/health")[1]["model_id"] == "from_env"


def test_port_is_required(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "KITTY_PORT"}
    done = subprocess.run([str(BINARY)], env=env, capture_output=True, text=True, timeout=10)
    assert done.returncode != 0
    assert "--port" in done.stderr


def test_unknown_llama_server_flags_are_tolerated(start):
    e = start("-m", "/models/x.gguf", "--ctx-size", "4096", "--jinja", "-ngl", "99")
    assert e.request("GET", "/health")[0] == 200
    assert "ignoring arguments" in e.stderr


# --- completions ---------------------------------------------------------------------------------

def test_completion_answer_echoes_the_prompt(start):
    e = start("--model-id", "m", "--tokens", "16")
    prompt = "The quick brown fox jumps over the lazy dog, twice over."
    status, body = e.request("POST", "/v1/completions",
                             {"prompt": prompt, "max_tokens": 4, "temperature": 0.7, "stop": None})
    assert status == 200
    assert body["object"] == "text_completion"
    assert body["model"] == "m"
    assert body["id"].startswith("cmpl-")
    assert isinstance(body["created"], int)
    choice = body["choices"][0]
    assert choice["index"] == 0
    assert choice["text"] == "".join(expected_tokens(prompt, 4))
    assert choice["finish_reason"] == "length"
    assert body["usage"]["completion_tokens"] == 4
    assert body["usage"]["total_tokens"] == body["usage"]["prompt_tokens"] + 4


def test_completion_without_max_tokens_uses_scripted_length(start):
    e = start("--tokens", "5")
    _, body = e.request("POST", "/v1/completions", {"prompt": "hi"})
    assert body["choices"][0]["text"] == "".join(expected_tokens("hi", 5))
    assert body["choices"][0]["finish_reason"] == "stop"


def test_stop_string_cuts_the_answer(start):
    e = start()
    _, body = e.request("POST", "/v1/completions", {"prompt": "hi", "stop": [" tok3"]})
    assert body["choices"][0]["text"] == "echo: hi tok1 tok2"
    assert body["choices"][0]["finish_reason"] == "stop"


def test_completion_stream(start):
    e = start("--token-ms", "5", "--tokens", "8")
    c, r = post_stream(e, "/v1/completions", {"prompt": "stream me", "max_tokens": 6,
                                              "stream": True})
    assert r.status == 200
    assert r.getheader("Content-Type") == "text/event-stream"
    assert r.getheader("Transfer-Encoding") == "chunked"
    events = read_events(r)
    c.close()
    assert events[-1] == "[DONE]"
    chunks = [json.loads(x) for x in events[:-1]]
    assert all(ch["object"] == "text_completion" for ch in chunks)
    assert len({ch["id"] for ch in chunks}) == 1
    texts = [ch["choices"][0]["text"] for ch in chunks]
    assert texts[:-1] == expected_tokens("stream me", 6)
    assert chunks[-1]["choices"][0]["finish_reason"] == "length"
    assert all(ch["choices"][0]["finish_reason"] is None for ch in chunks[:-1])


def test_keep_alive_serves_many_requests_on_one_connection(start):
    e = start()
    c = e.conn()
    for i in range(5):
        c.request("POST", "/v1/completions", body=json.dumps({"prompt": f"p{i}", "max_tokens": 2}))
        r = c.getresponse()
        assert json.loads(r.read())["choices"][0]["text"] == f"echo: p{i} tok1"
        c.request("POST", "/v1/completions",
                  body=json.dumps({"prompt": f"s{i}", "max_tokens": 2, "stream": True}))
        r = c.getresponse()
        assert read_events(r)[-1] == "[DONE]"
    c.close()
    assert e.stats()["completed"] == 10


# --- chat ----------------------------------------------------------------------------------------

CHAT = {"messages": [{"role": "system", "content": "be brief"},
                     {"role": "user", "content": "first question"},
                     {"role": "assistant", "content": "an answer"},
                     {"role": "user", "content": "second question"}],
        "max_tokens": 3}


def test_chat_answers_the_last_user_message(start):
    e = start("--model-id", "chatty")
    status, body = e.request("POST", "/v1/chat/completions", CHAT)
    assert status == 200
    assert body["object"] == "chat.completion"
    assert body["model"] == "chatty"
    message = body["choices"][0]["message"]
    assert message == {"role": "assistant",
                       "content": "".join(expected_tokens("second question", 3))}
    assert body["choices"][0]["finish_reason"] == "length"


def test_chat_content_parts(start):
    e = start()
    body = {"messages": [{"role": "user", "content": [{"type": "text", "text": "part one"}]}],
            "max_tokens": 1}
    _, answer = e.request("POST", "/v1/chat/completions", body)
    assert answer["choices"][0]["message"]["content"] == "echo: part one"


def test_chat_stream(start):
    e = start("--token-ms", "2")
    c, r = post_stream(e, "/v1/chat/completions",
                       dict(CHAT, stream=True, stream_options={"include_usage": True}))
    assert r.status == 200
    events = read_events(r)
    c.close()
    assert events[-1] == "[DONE]"
    chunks = [json.loads(x) for x in events[:-1]]
    assert all(ch["object"] == "chat.completion.chunk" for ch in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    usage = chunks[-1]
    assert usage["choices"] == [] and usage["usage"]["completion_tokens"] == 3
    final = chunks[-2]
    assert final["choices"][0]["finish_reason"] == "length"
    content = [ch["choices"][0]["delta"]["content"] for ch in chunks[1:-2]]
    assert content == expected_tokens("second question", 3)


# --- embeddings ----------------------------------------------------------------------------------

def test_embeddings_are_deterministic(start):
    e = start("--model-id", "emb")
    status, body = e.request("POST", "/v1/embeddings", {"input": ["alpha", "beta"]})
    assert status == 200
    assert body["object"] == "list" and body["model"] == "emb"
    assert [d["index"] for d in body["data"]] == [0, 1]
    a, b = (d["embedding"] for d in body["data"])
    assert len(a) == 8 and all(isinstance(x, float) for x in a)
    assert a != b
    _, again = e.request("POST", "/v1/embeddings", {"input": "alpha"})
    assert again["data"][0]["embedding"] == a


# --- errors --------------------------------------------------------------------------------------

def test_invalid_json_is_400(start):
    e = start()
    status, body = e.request("POST", "/v1/completions", "{not json")
    assert status == 400
    assert body["error"]["code"] == 400
    assert body["error"]["type"] == "invalid_request_error"
    assert e.request("POST", "/v1/chat/completions", {"messages": "nope"})[0] == 400
    assert e.request("POST", "/v1/completions", {"prompt": "x", "max_tokens": "many"})[0] == 400


def test_unknown_path_is_404(start):
    e = start()
    status, body = e.request("GET", "/v2/nothing")
    assert status == 404
    assert body["error"]["code"] == 404


# --- stopping ------------------------------------------------------------------------------------

def test_shutdown_answers_then_exits_0(start):
    e = start()
    assert e.request("POST", "/shutdown") == (200, {"status": "shutting_down"})
    assert e.wait_exit() == 0


def test_hang_on_shutdown_never_answers(start):
    e = start("--hang-on-shutdown")
    with pytest.raises((TimeoutError, socket.timeout)):
        e.request("POST", "/shutdown", timeout=0.5)
    assert e.proc.poll() is None
    assert e.request("GET", "/health")[0] == 200


def test_sigterm_exits_0(start):
    e = start()
    e.proc.send_signal(signal.SIGTERM)
    assert e.wait_exit() == 0


def test_ignore_sigterm_needs_sigkill(start):
    e = start("--ignore-sigterm")
    e.proc.send_signal(signal.SIGTERM)
    with pytest.raises(subprocess.TimeoutExpired):
        e.proc.wait(timeout=0.5)
    assert e.request("GET", "/health")[0] == 200
    e.proc.send_signal(signal.SIGKILL)
    assert e.wait_exit() == -signal.SIGKILL


# --- faults --------------------------------------------------------------------------------------

def test_fail_on_start_exits_1_with_a_reason(start):
    e = start("--fail-on-start", "--load-ms", "400", "-m", "/x", ready=False)
    assert e.wait_exit() == 1
    assert "error: failed to load model '/x': fake failure" in e.stderr


def test_crash_after_n_requests(start):
    e = start("--crash-after", "2")
    assert e.request("POST", "/v1/completions", {"prompt": "one"})[0] == 200
    assert e.request("POST", "/v1/chat/completions", CHAT)[0] == 200
    assert e.wait_exit() == -signal.SIGABRT
    assert "crashing" in e.stderr


def test_exit_code_sets_how_faults_end(start):
    e = start("--fail-on-start", "--exit-code", "3", ready=False)
    assert e.wait_exit() == 3
    e = start("--crash-after", "1", "--exit-code", "137")
    assert e.request("POST", "/v1/completions", {"prompt": "one"})[0] == 200
    assert e.wait_exit() == 137  # an exit code, not a signal: what a wrapper script reports
    assert "exiting with 137: --crash-after 1" in e.stderr


def test_hang_after_n_requests_answers_nothing_but_keeps_the_socket(start):
    e = start("--hang-after", "1")
    assert e.request("POST", "/v1/completions", {"prompt": "one"})[0] == 200
    for path in ("/health", "/v1/models"):
        with pytest.raises(socket.timeout):
            e.request("GET", path, timeout=0.5)
    assert e.proc.poll() is None, "a hung engine is alive"
    socket.create_connection(("127.0.0.1", e.port), timeout=1).close()  # still accepts
    assert "hanging (--hang-after 1)" in e.stdout


def test_crash_mid_stream_cuts_the_stream_halfway(start):
    e = start("--crash-mid-stream", "--tokens", "10")
    with socket.create_connection(("127.0.0.1", e.port), timeout=5) as s:
        body = json.dumps({"prompt": "doomed", "stream": True}).encode()
        s.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s"
                  % (len(body), body))
        received = b""
        while chunk := s.recv(65536):
            received += chunk
    assert received.startswith(b"HTTP/1.1 200 OK")
    assert received.count(b"data: {") == 5  # half of the 10 tokens
    assert not received.endswith(b"0\r\n\r\n")  # no last chunk: the body was cut
    assert b"[DONE]" not in received
    assert e.wait_exit() == -signal.SIGABRT


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_memory_mb_is_resident(start):
    e = start("--memory-mb", "64", "--load-ms", "50")
    status = Path(f"/proc/{e.proc.pid}/status").read_text()
    rss_kib = int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1])
    assert rss_kib >= 64 * 1024


def test_fork_child_leaves_a_grandchild_in_the_process_group(start):
    e = start("--fork-child")
    line = next(l for l in e.stdout.splitlines() if "forked child pid=" in l)
    child = int(line.split("pid=")[1])
    assert os.getpgid(child) == os.getpgid(e.proc.pid) == e.proc.pid
    e.proc.kill()  # the leader only
    e.wait_exit()
    os.kill(child, 0)  # still there: only a group kill reclaims it
    os.killpg(e.proc.pid, signal.SIGKILL)
    def gone():
        try:
            os.kill(child, 0)
            # A zombie waiting for its reaper counts as gone.
            return Path(f"/proc/{child}/stat").read_text().split(")")[1].split()[0] == "Z"
        except (ProcessLookupError, FileNotFoundError):
            return True
    assert wait_until(gone, 5.0)


# --- cancellation --------------------------------------------------------------------------------

def test_client_disconnect_mid_stream_is_counted(start):
    e = start("--token-ms", "20", "--tokens", "200")
    s = socket.create_connection(("127.0.0.1", e.port), timeout=5)
    body = json.dumps({"messages": [{"role": "user", "content": "long"}], "stream": True}).encode()
    s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s"
              % (len(body), body))
    received = b""
    while received.count(b"data: ") < 3:
        received += s.recv(65536)
    assert e.stats()["in_flight"] == 1
    s.close()
    assert wait_until(lambda: e.stats()["cancelled"] == 1, 5.0)
    stats = e.stats()
    assert stats["in_flight"] == 0
    assert stats["completed"] == 0
    assert stats["requests"] == 1


def test_log_requests(start):
    e = start("--log-requests")
    e.request("GET", "/v1/models")
    assert wait_until(lambda: "GET /v1/models 200" in e.stdout, 5.0)
