"""Per-request keep-alive on the OpenAI routes (issue 11): the X-Kitty-Keep-Alive header sets how
long the model that serves the request stays loaded after its last request, as Ollama's
keep_alive does: a duration ("2s", "5m", 300), 0 = unload once its requests end, negative =
keep it."""

from kitty_e2e import fake_model
from kitty_testkit import group_alive, wait_until


def chat(d, model, keep_alive=None):
    headers = {} if keep_alive is None else {"X-Kitty-Keep-Alive": str(keep_alive)}
    return d.client.post("/v1/chat/completions", headers=headers,
                         json={"model": model, "messages": [{"role": "user", "content": "x"}]})


def test_keep_alive_header_sets_how_long_the_model_stays(start_kittyd, fake_bin):
    d = start_kittyd({"m": fake_model(fake_bin, "m", idle_shutdown_seconds=600)})
    r = chat(d, "m", keep_alive="1s")
    assert r.status_code == 200, r.text
    pid = d.worker("m")["pid"]
    assert d.worker("m")["keep_alive_seconds"] == 1
    assert wait_until(lambda: d.worker("m")["status"] == "stopped", 5), d.worker("m")
    assert not group_alive(pid)

    r = chat(d, "m", keep_alive=-1)
    assert r.status_code == 200 and d.worker("m")["keep_alive_seconds"] == -1
    r = chat(d, "m", keep_alive=0)  # unload once this request ends
    assert r.status_code == 200
    assert wait_until(lambda: d.worker("m")["status"] == "stopped", 5), d.worker("m")


def test_a_bad_keep_alive_is_a_400_naming_the_header(start_kittyd, fake_bin):
    d = start_kittyd({"m": fake_model(fake_bin, "m")})
    r = chat(d, "m", keep_alive="soon")
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert err["code"] == "invalid_request" and "X-Kitty-Keep-Alive" in err["message"], err
    assert d.worker("m")["status"] == "stopped", "nothing was started for it"
