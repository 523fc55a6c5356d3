"""The dashboard at /ui (issue 12, item 5), in a real browser: headless Chromium driven through
Selenium with Debian's chromium-driver (tests/support/kitty_browser.py), against a kittyd with
fake engines. The page comes from the files compiled into kittyd (a kittyd started with
KITTY_UI_DIR in its environment serves that directory instead: handy while working on the page).

The page follows kittyd through GET /kitty/events, not by polling: a request turns a model `ready`
on the page within about a second, without a reload. Buttons call the admin API; a configured
admin key is asked for, and a wrong one is refused visibly. Screenshots (phone and desktop width)
go to $KITTY_ARTIFACTS_DIR/dashboard/<test>/ when it is set, else to the test's tmp dir.

Without chromium, chromium-driver or selenium the tests are skipped, saying what is missing; with
CI=true they fail instead (a CI run must not pass by skipping them).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import httpx
import pytest

import kitty_browser
from kitty_browser import page
from kitty_e2e import fake_model
from kitty_testkit import REPO, in_thread, wait_until

ADMIN_KEY = "dashboard-admin-key"
# The page's own hooks (data-model rows, data-field cells, data-action buttons): see ui/app.js.
ROW = '#model-rows [data-model="{}"]'


def require_browser():
    why = kitty_browser.browser_paths()
    if isinstance(why, str):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{why} (CI=true: the dashboard tests may not be skipped)", pytrace=False)
        pytest.skip(why)


@pytest.fixture
def shots(request, tmp_path):
    """Where this test's screenshots go."""
    base = os.environ.get("KITTY_ARTIFACTS_DIR")
    d = Path(base) / "dashboard" / request.node.name if base else tmp_path / "screenshots"
    d.mkdir(parents=True, exist_ok=True)
    return d


@pytest.fixture
def browser(shots):
    """A headless Chromium at desktop size. Its console is kept in driver.console (read with
    console()); at the end the last screen and the console are saved beside the screenshots."""
    require_browser()
    driver = kitty_browser.new_driver(shots / "chromedriver.log")
    driver.console = []
    try:
        yield driver
    finally:
        try:
            driver.save_screenshot(str(shots / "last.png"))
            console(driver)
            (shots / "console.log").write_text(
                "\n".join(f"{e['level']} {e['message']}" for e in driver.console) + "\n")
        except Exception as exc:  # the browser may be what failed: keep the test's own error
            (shots / "console.log").write_text(f"(could not read the browser: {exc})\n")
        driver.quit()


def console(driver):
    """Every console entry of the browser so far (Chromium hands each out once)."""
    driver.console.extend(driver.get_log("browser"))
    return driver.console


def console_problems(driver, allow=()):
    """Errors in the console (a failed script, a blocked style or script: the page runs under a
    Content-Security-Policy), less those that contain one of `allow`."""
    return [e["message"] for e in console(driver)
            if (e["level"] == "SEVERE" or "Content Security Policy" in e["message"])
            and not any(a in e["message"] for a in allow)]


def wait_page(driver, pred, timeout, what):
    """Polls page(driver) until pred(state) is truthy; returns the state, or fails the test with
    what the page showed last."""
    deadline = time.monotonic() + timeout
    while True:
        state = page(driver)
        if pred(state):
            return state
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout} s; the page shows\n"
                        f"{json.dumps(state, indent=1)[:3000]}", pytrace=False)
        time.sleep(0.05)


def open_dashboard(driver, d, models):
    """Loads /ui/ (through the redirect from /) and waits until it lists `models` and follows the
    event stream."""
    driver.get(d.url + "/")
    assert driver.current_url == d.url + "/ui/"
    return wait_page(driver, lambda s: set(s["states"]) == set(models) and s["conn"] == "live", 20,
                     f"the dashboard lists {sorted(models)} and is live")


def click(driver, model, action):
    driver.find_element("css selector", f'{ROW.format(model)} button[data-action="{action}"]').click()


def snap(driver, shots, name):
    path = shots / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


def test_kittyd_serves_the_files_of_ui_from_its_binary(start_kittyd, fake_bin):
    """The copy in the binary is the one in ui/ (a stale build fails here, not in the browser),
    under a CSP that allows no inline script or style."""
    d = start_kittyd({"a": fake_model(fake_bin, "a")})
    for name in ("index.html", "app.js", "style.css", "favicon.svg"):
        r = d.client.get(f"/ui/{name}")
        assert r.status_code == 200, (name, r.text)
        assert r.content == (REPO / "ui" / name).read_bytes(), f"ui/{name} differs from kittyd's copy: rebuild"
    r = d.client.get("/ui/")
    assert r.content == (REPO / "ui" / "index.html").read_bytes()
    assert r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "unsafe-inline" not in csp
    assert d.client.get("/ui/app.js").headers["content-type"].startswith("text/javascript")
    assert d.client.get("/").headers["location"] == "/ui/"
    html = (REPO / "ui" / "index.html").read_text()
    assert "<style" not in html and "style=" not in html and "<script>" not in html


def test_a_request_turns_a_model_ready_on_the_page_without_reload(start_kittyd, fake_bin, browser, shots):
    models = ["alpha", "beta", "gamma"]
    d = start_kittyd({m: fake_model(fake_bin, m) for m in models})
    state = open_dashboard(browser, d, models)
    assert state["states"] == {m: "stopped" for m in models}
    assert state["error"] is None and not state["key_form"]
    browser.execute_script("window.kittyNotReloaded = true")  # gone if the page reloads
    snap(browser, shots, "1-stopped")

    r = d.client.post("/v1/completions", json={"model": "alpha", "prompt": "hi", "max_tokens": 2})
    answered = time.monotonic()
    assert r.status_code == 200, r.text
    wait_page(browser, lambda s: s["states"]["alpha"] == "ready", 1.5,
              "alpha shows ready within 1.5 s of the request's answer")
    shown_after = time.monotonic() - answered
    snap(browser, shots, "2-ready")

    d.release("alpha")
    released = time.monotonic()
    state = wait_page(browser, lambda s: s["states"]["alpha"] == "stopped", 5, "alpha shows stopped")
    stopped_after = time.monotonic() - released
    assert state["states"] == {m: "stopped" for m in models}
    # The feed, newest first, has alpha's whole run.
    state = wait_page(browser, lambda s: ("alpha", "stopped") in s["events"], 5, "the feed shows the stop")
    lifecycle = ("starting", "spawned", "ready", "stopping", "stopped")  # not `loading`: progress
    alpha = [kind for model, kind in state["events"] if model == "alpha" and kind in lifecycle]
    assert alpha == ["stopped", "stopping", "ready", "spawned", "starting"], state["events"]
    assert browser.execute_script("return window.kittyNotReloaded === true"), "the page was reloaded"
    assert not console_problems(browser)
    snap(browser, shots, "3-released")
    print(f"ready shown {shown_after:.3f} s after the answer; stopped shown {stopped_after:.3f} s after the release")


def test_buttons_ensure_pin_release_and_show_errors(start_kittyd, fake_bin, browser, shots):
    models = {"alpha": fake_model(fake_bin, "alpha"),
              "broken": fake_model(fake_bin, "broken", "--fail-on-start", "--load-ms", "200")}
    d = start_kittyd(models)
    open_dashboard(browser, d, models)

    click(browser, "alpha", "ensure")
    wait_page(browser, lambda s: s["states"]["alpha"] == "ready", 20, "ensure starts alpha")
    assert d.worker("alpha")["status"] == "ready"

    click(browser, "alpha", "pin")
    wait_page(browser, lambda s: s["pinned"]["alpha"], 10, "the pin marker shows")
    assert d.worker("alpha")["pinned"] is True
    pin = browser.find_element("css selector", f'{ROW.format("alpha")} button[data-action="pin"]')
    assert pin.text == "unpin"
    snap(browser, shots, "1-pinned")

    click(browser, "alpha", "release")
    wait_page(browser, lambda s: s["states"]["alpha"] == "stopped", 20, "release stops alpha")
    assert d.worker("alpha")["status"] == "stopped"

    click(browser, "alpha", "pin")  # now "unpin"
    wait_page(browser, lambda s: not s["pinned"]["alpha"], 10, "the pin marker goes")
    assert d.worker("alpha")["pinned"] is False

    # A failed call shows kittyd's error (message and code) in the error area.
    assert page(browser)["error"] is None
    click(browser, "broken", "ensure")
    state = wait_page(browser, lambda s: s["error"] is not None, 20, "the failed ensure shows an error")
    assert "ensure broken" in state["error"] and "worker_start_failed" in state["error"], state["error"]
    snap(browser, shots, "2-error")
    assert not console_problems(browser, allow=["/kitty/workers/broken/ensure"])  # the 503 itself


def test_an_admin_key_is_asked_for_and_a_wrong_one_is_refused(start_kittyd, fake_bin, browser, shots):
    models = ["alpha", "beta"]
    d = start_kittyd({m: fake_model(fake_bin, m) for m in models},
                     server={"admin_keys": [ADMIN_KEY]}, admin_key=ADMIN_KEY)
    browser.get(d.url + "/ui/")
    state = wait_page(browser, lambda s: s["key_form"], 20, "the page asks for the admin key")
    assert state["states"] == {} and state["error"] is None
    snap(browser, shots, "1-asks")

    key = browser.find_element("css selector", "#key-form #admin-key")
    key.send_keys("not-the-key")
    browser.find_element("css selector", "#key-form button[type=submit]").click()
    state = wait_page(browser, lambda s: s["error"] is not None, 10, "a wrong key shows an error")
    assert "the admin key was refused" in state["error"]
    assert state["key_form"] and state["states"] == {}
    snap(browser, shots, "2-refused")

    key.clear()
    key.send_keys(ADMIN_KEY + "\n")  # Enter submits the form
    state = wait_page(browser, lambda s: set(s["states"]) == set(models) and s["conn"] == "live", 20,
                      "the right key shows the models")
    assert not state["key_form"] and state["error"] is None
    # The key goes with the event stream too: the page follows a start.
    d.ensure("alpha")
    wait_page(browser, lambda s: s["states"]["alpha"] == "ready", 5, "alpha shows ready")
    snap(browser, shots, "3-accepted")
    # It is kept for the tab: a reload does not ask again.
    browser.refresh()
    state = wait_page(browser, lambda s: s["states"].get("alpha") == "ready", 20, "the reloaded page")
    assert not state["key_form"]
    assert not console_problems(browser, allow=["401"])  # the refused calls


def test_the_log_view_shows_the_selected_worker_and_follows(start_kittyd, fake_bin, browser, shots):
    models = {m: fake_model(fake_bin, m, "--log-requests") for m in ("alpha", "beta")}
    d = start_kittyd(models)
    pids = {m: d.ensure(m)["pid"] for m in models}
    open_dashboard(browser, d, models)
    assert page(browser)["log"] is None

    click(browser, "alpha", "logs")
    state = wait_page(browser, lambda s: s["log"] and f"model=alpha pid={pids['alpha']}" in s["log"], 10,
                      "the log view shows alpha's start lines")
    assert "fake_engine: ready" in state["log"]
    assert "POST /v1/completions" not in state["log"]
    r = d.client.post("/v1/completions", json={"model": "alpha", "prompt": "hi", "max_tokens": 2})
    assert r.status_code == 200
    wait_page(browser, lambda s: "POST /v1/completions 200" in s["log"], 10,
              "the log view follows: the request's line shows")
    snap(browser, shots, "1-alpha")

    # A click on another row shows that worker's log instead.
    browser.find_element("css selector", f'{ROW.format("beta")} [data-field="state"]').click()
    state = wait_page(browser, lambda s: s["log"] and f"model=beta pid={pids['beta']}" in s["log"], 10,
                      "a click on beta's row shows beta's log")
    assert "model=alpha" not in state["log"]
    assert not console_problems(browser)


def test_the_page_reconnects_after_kittyd_restarts(start_kittyd, fake_bin, browser, shots):
    """The event stream is followed again once kittyd is back (backoff, then a new connection),
    and a restarted kittyd's events, numbered from 1 again, are not skipped as already seen."""
    models = {"alpha": fake_model(fake_bin, "alpha")}
    d = start_kittyd(models)
    d.ensure("alpha")
    d.release("alpha")  # the old kittyd's event ids run past those the new one starts with
    open_dashboard(browser, d, models)
    d.stop()
    wait_page(browser, lambda s: s["conn"] != "live", 10, "the page sees the stream end")
    snap(browser, shots, "1-down")

    again = start_kittyd(models, name="again", server={"listen": f"127.0.0.1:{d.port}"}, wait=False)
    again.client.close()  # made for the port the base class picked; this kittyd listens on d's
    again.port, again.url = d.port, d.url
    again.client = httpx.Client(base_url=d.url, timeout=30)
    assert wait_until(again.healthy, 30), again.log_text()
    wait_page(browser, lambda s: s["conn"] == "live", 20, "the page follows the new kittyd")
    again.ensure("alpha")
    state = wait_page(browser, lambda s: s["states"]["alpha"] == "ready", 5, "alpha shows ready")
    assert ("alpha", "ready") == next(e for e in state["events"] if e[1] in ("ready", "stopped")), state["events"]
    assert (None, "kittyd_restarted") in state["events"]
    snap(browser, shots, "2-again")
    assert not console_problems(browser, allow=["ERR_CONNECTION_REFUSED", "ERR_EMPTY_RESPONSE",
                                                 "ERR_INCOMPLETE_CHUNKED_ENCODING", "net::"])


def test_phone_and_desktop_layouts(start_kittyd, fake_bin, browser, shots):
    long_id = "a-model-with-a-rather-long-name-q4_k_m"
    models = {"alpha": fake_model(fake_bin, "alpha"),
              long_id: fake_model(fake_bin, long_id),
              "slow": fake_model(fake_bin, "slow", "--load-ms", "60000", memory="1 GiB")}
    d = start_kittyd(models, memory={"budget": "4 GiB"})
    d.ensure("alpha")
    d.ensure(long_id)
    d.admin("POST", f"/kitty/workers/{long_id}/pin")
    d.admin("POST", f"/kitty/workers/{long_id}/hold", json={"lease_seconds": 300, "owner": "layout-test"})
    # slow stays `starting` for the whole test: its ensure waits in a thread until kittyd stops.
    in_thread(lambda: httpx.post(f"{d.url}/kitty/workers/slow/ensure", timeout=120))
    open_dashboard(browser, d, models)
    wait_page(browser, lambda s: s["states"]["slow"] == "starting", 10, "slow shows starting")
    click(browser, "alpha", "logs")
    wait_page(browser, lambda s: s["log"], 10, "the log view opens")

    for name, (width, height) in (("phone", kitty_browser.PHONE), ("desktop", kitty_browser.DESKTOP)):
        kitty_browser.set_viewport(browser, width, height)
        browser.execute_script("window.scrollTo(0, 0)")  # the logs button scrolled to the log
        time.sleep(0.3)  # a layout pass
        geometry = browser.execute_script("""
            const buttons = [...document.querySelectorAll('#model-rows button')].map(b => b.getBoundingClientRect());
            return {inner: window.innerWidth, scroll: document.documentElement.scrollWidth,
                    body: document.body.scrollWidth,
                    right: Math.max(...buttons.map(r => r.right)),
                    thead: getComputedStyle(document.querySelector('#models thead')).display};
        """)
        snap(browser, shots, name)
        assert geometry["inner"] == width, geometry
        assert geometry["scroll"] <= geometry["inner"], f"{name}: the page scrolls sideways: {geometry}"
        assert geometry["body"] <= geometry["inner"], f"{name}: the body overflows: {geometry}"
        assert geometry["right"] <= geometry["inner"], f"{name}: a button is off screen: {geometry}"
        assert (geometry["thead"] == "none") == (name == "phone"), geometry  # cards on the phone
    assert not console_problems(browser)
