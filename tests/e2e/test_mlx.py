"""backend: mlx (issue 13, seed 004): kittyd runs `mlx_lm.server --model M --host H --port P`
and waits for GET /v1/models. mlx-lm runs only on Apple silicon, so here the fake engine stands
in its place (it takes the same three flags): the argv kittyd builds is asserted, the worker is
started, serves and stops like any other."""

from pathlib import Path

from kitty_e2e import fake_model  # noqa: F401  (the fixtures' module)


def test_mlx_model_runs_mlx_lm_server_argv(start_kittyd, fake_bin, tmp_path):
    model_dir = tmp_path / "Qwen2.5-7B-Instruct-4bit"
    model_dir.mkdir()
    d = start_kittyd({
        "qwen": {"backend": "mlx", "model_path": str(model_dir), "mlx_server_bin": str(fake_bin),
                 "extra_args": ["--model-id", "qwen"]},
        "hub": {"backend": "mlx", "model_path": "mlx-community/Qwen2.5-7B-Instruct-4bit",
                "mlx_server_bin": str(fake_bin), "extra_args": ["--model-id", "hub"]},
    }, memory={"max_memory_gb": 8})
    r = d.client.post("/v1/chat/completions", json={"model": "qwen", "max_tokens": 2,
                                                     "messages": [{"role": "user", "content": "hi"}]})
    assert r.status_code == 200, r.text
    w = d.client.get("/kitty/workers/qwen").json()
    d.seen_pids.add(w["pid"])
    argv = Path(f"/proc/{w['pid']}/cmdline").read_bytes().split(b"\0")[:-1]
    port = str(w["port"])
    assert [a.decode() for a in argv] == [str(fake_bin), "--model", str(model_dir), "--host", "127.0.0.1",
                                          "--port", port, "--model-id", "qwen"]
    assert w["backend"] == "mlx"
    # A Hugging Face repo id is passed as it is (mlx-lm fetches it into its own cache).
    h = d.ensure("hub")
    d.seen_pids.add(h["pid"])
    argv = Path(f"/proc/{h['pid']}/cmdline").read_bytes().split(b"\0")[:-1]
    assert argv[1:3] == [b"--model", b"mlx-community/Qwen2.5-7B-Instruct-4bit"]
    # Seed 004's max_memory_gb is the scheduler's budget.
    assert d.client.get("/kitty/system/memory").json()["budget_bytes"] == 8 << 30
    d.release("qwen")


def test_a_missing_local_model_directory_is_refused(start_kittyd, fake_bin, tmp_path):
    d = start_kittyd({"qwen": {"backend": "mlx", "model_path": str(tmp_path / "nope"),
                               "mlx_server_bin": str(fake_bin)}})
    r = d.client.post("/v1/chat/completions", json={"model": "qwen", "messages": []})
    assert r.status_code == 503, r.text
    assert r.json()["error"]["reason"] == "model_file_invalid"
    assert "nope" in r.json()["error"]["message"]
