#!/usr/bin/env python3
"""Regenerates the dashboard's screenshots in docs/img (dashboard-desktop.png 1280 pixels wide
and as tall as the page, dashboard-phone.png at 390x844 CSS pixels, drawn at 2x): a kittyd with fake engines in a
realistic state — one model ready with a hold and a few requests behind it, one starting, one
pinned, one stopped — and the log of the ready one open. Headless Chromium through Selenium, as
the dashboard's tests use it (tests/support/kitty_browser.py); nothing is downloaded.

Usage (after a build; the page is the one compiled into kittyd, or KITTY_UI_DIR's):
  VENV=$(scripts/setup_python.sh | tail -n 1)
  "$VENV/bin/python" scripts/dashboard_screenshots.py [--out docs/img]
Env: KITTYD (default build/kittyd), FAKE_ENGINE (default build/fake_engine).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "support"))

import httpx  # noqa: E402  (after the path above)

import kitty_browser  # noqa: E402
import kitty_testkit  # noqa: E402



def fake(engine: Path, model_id: str, *flags: str, **keys: object) -> dict[str, object]:
    """A `backend: command` model running fake_engine (as tests/e2e/conftest.py's fake_model)."""
    m: dict[str, object] = {
        "backend": "command",
        "command": [str(engine), "--port", "${PORT}", "--model-id", model_id, *flags],
        "shutdown_path": "/shutdown", "stop_timeout_seconds": 3}
    m.update(keys)
    return m


def wait_page(driver, pred, timeout: float, what: str) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = kitty_browser.page(driver)
        if pred(state):
            return state
        time.sleep(0.1)
    raise SystemExit(f"dashboard_screenshots: {what}: not within {timeout} s: {kitty_browser.page(driver)}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "img")
    args = ap.parse_args()
    why = kitty_browser.browser_paths()
    if isinstance(why, str):
        raise SystemExit(f"dashboard_screenshots: {why}")
    kittyd = kitty_testkit.binary("KITTYD", "build/kittyd")
    engine = kitty_testkit.binary("FAKE_ENGINE", "build/fake_engine")
    for b in (kittyd, engine):
        if not b.is_file():
            raise SystemExit(f"dashboard_screenshots: {b} not found: build it first (scripts/build.sh)")

    models = {
        "qwen2.5-7b-instruct": fake(engine, "qwen2.5-7b-instruct", "--log-requests", "--memory-mb", "1800",
                                    aliases=["qwen"], idle_shutdown_seconds=1800),
        "llama3.2-3b": fake(engine, "llama3.2-3b", "--load-ms", "600000", aliases=["llama"],
                            memory="2.2 GiB", start_timeout_seconds=900),
        "nomic-embed-text": fake(engine, "nomic-embed-text", "--memory-mb", "300", pinned=True),
        "mistral-nemo-12b": fake(engine, "mistral-nemo-12b", memory="7.1 GiB"),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kitty-shots-") as tmp:
        # CPU pressure is left out: a busy build machine would put it in every picture.
        d = kitty_testkit.Kittyd(kittyd, Path(tmp), models,
                                 memory={"budget": "12 GiB", "pressure": {"cpu_percent": 100, "cpu_seconds": 3600}})
        driver = None
        try:
            c = httpx.Client(base_url=d.url, timeout=60)
            for m in ("nomic-embed-text", "qwen2.5-7b-instruct"):
                c.post(f"/kitty/workers/{m}/ensure").raise_for_status()
            for prompt in ("Summarise the meeting notes", "Draft a reply", "Translate to German"):
                c.post("/v1/chat/completions", json={
                    "model": "qwen", "messages": [{"role": "user", "content": prompt}], "max_tokens": 8,
                }).raise_for_status()
            c.post("/kitty/workers/qwen2.5-7b-instruct/hold",
                   json={"lease_seconds": 600, "owner": "research-graph"}).raise_for_status()
            # The 3B model loads for ten minutes: it stays `starting` in the pictures.
            threading.Thread(target=lambda: httpx.post(f"{d.url}/kitty/workers/llama3.2-3b/ensure",
                                                       timeout=900), daemon=True).start()
            time.sleep(3)  # memory sampled (every 2 s), idle clocks past zero

            driver = kitty_browser.new_driver()
            kitty_browser.set_viewport(driver, *kitty_browser.DESKTOP)
            driver.get(d.url + "/ui/")
            wait_page(driver, lambda s: len(s["states"]) == len(models) and s["conn"] == "live"
                      and s["states"]["llama3.2-3b"] == "starting", 20, "the page is live")
            driver.find_element("css selector", '[data-model="qwen2.5-7b-instruct"] button[data-action="logs"]').click()
            wait_page(driver, lambda s: s["log"] and "POST /v1/chat/completions" in s["log"], 10, "the log shows")
            # Desktop width, as tall as the page (the log's end is below 800 px).
            height = driver.execute_script("return document.documentElement.scrollHeight")
            kitty_browser.set_viewport(driver, kitty_browser.DESKTOP[0], min(max(height, kitty_browser.DESKTOP[1]), 1400))
            time.sleep(1.5)
            desktop = args.out / "dashboard-desktop.png"
            driver.save_screenshot(str(desktop))

            kitty_browser.set_viewport(driver, *kitty_browser.PHONE, scale=2)
            driver.execute_script("window.scrollTo(0, 0)")
            time.sleep(1)
            phone = args.out / "dashboard-phone.png"
            driver.save_screenshot(str(phone))
            print(desktop)
            print(phone)
        finally:
            if driver is not None:
                driver.quit()
            d.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
