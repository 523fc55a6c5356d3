"""A real headless Chromium for the dashboard's tests (tests/e2e/test_dashboard.py) and for
scripts/dashboard_screenshots.py: Debian's `chromium` driven through Selenium with Debian's
`chromium-driver` (scripts/setup_deps.sh installs both; clients/python/requirements-test.txt
pins selenium).

Both paths are passed explicitly and Selenium Manager is told to stay offline: the machine has no
internet, and nothing may be downloaded behind the test's back. $KITTY_CHROMIUM and
$KITTY_CHROMEDRIVER override the paths.

Selenium is imported only by `new_driver`, so that this module (and a suite that skips because the
browser is missing) imports without it.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

CHROMIUM = Path(os.environ.get("KITTY_CHROMIUM") or "/usr/bin/chromium")
CHROMEDRIVER = Path(os.environ.get("KITTY_CHROMEDRIVER") or "/usr/bin/chromedriver")

# Headless, as root in a container (no sandbox), with a small /dev/shm; no first-run work, no
# background traffic (there is no network), and no throttling of timers in a page nobody looks at
# (the log view polls every second).
CHROMIUM_ARGS = (
    "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
    "--no-first-run", "--no-default-browser-check", "--disable-extensions",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-features=Translate,MediaRouter,OptimizationHints",
    "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows", "--hide-scrollbars",
)

DESKTOP = (1280, 800)
PHONE = (390, 844)


def browser_paths() -> tuple[Path, Path] | str:
    """(chromium, chromedriver), or why the browser tests cannot run."""
    if importlib.util.find_spec("selenium") is None:
        return ("selenium is not installed: use the venv of scripts/setup_python.sh "
                "(clients/python/requirements-test.txt pins it)")
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not (path.is_file() and os.access(path, os.X_OK)):
            return (f"{path} not found: install Debian's {package} (scripts/setup_deps.sh), "
                    f"or set ${'KITTY_CHROMIUM' if package == 'chromium' else 'KITTY_CHROMEDRIVER'}")
    return CHROMIUM, CHROMEDRIVER


def new_driver(log_path: Path | None = None) -> Any:
    """A headless Chromium through chromedriver; raises RuntimeError if either is missing."""
    paths = browser_paths()
    if isinstance(paths, str):
        raise RuntimeError(paths)
    chromium, chromedriver = paths
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager, should anything call it: no downloads
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = str(chromium)
    for arg in CHROMIUM_ARGS:
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = webdriver.ChromeService(executable_path=str(chromedriver),
                                      log_output=str(log_path) if log_path else None)
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(30)
    set_viewport(driver, *DESKTOP)
    return driver


def set_viewport(driver: Any, width: int, height: int, scale: float = 1, mobile: bool | None = None) -> None:
    """Makes the page's viewport exactly width x height CSS pixels (a window size would include
    the browser's frame); `mobile` (default: width < 600) also makes it honour the page's
    <meta name=viewport> and use overlay scrollbars, as a phone does."""
    if mobile is None:
        mobile = width < 600
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": scale, "mobile": mobile})
    driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": mobile})


# What the page shows, read in one round trip (no stale element references between polls).
PAGE_JS = """
const rows = [...document.querySelectorAll('#model-rows [data-model]')];
const text = (sel) => { const e = document.querySelector(sel); return e ? e.textContent : null; };
const shown = (sel) => { const e = document.querySelector(sel); return !!e && e.getClientRects().length > 0; };
return {
  states: Object.fromEntries(rows.map(r => [r.dataset.model, r.querySelector('[data-field="state"]').textContent])),
  pinned: Object.fromEntries(rows.map(r => [r.dataset.model, r.querySelector('[data-field="pinned"]').getClientRects().length > 0])),
  events: [...document.querySelectorAll('#events > li')].map(li => [li.dataset.eventModel || null, li.dataset.kind]),
  error: shown('#error') ? text('#error-list') : null,
  key_form: shown('#key-form'),
  log: shown('#log') ? text('#log') : null,
  conn: text('#conn'),
};
"""


def page(driver: Any) -> dict[str, Any]:
    """{states: {model: state}, pinned: {model: bool}, events: [(model, kind)] newest first,
    error: the error area's text or None when hidden, key_form: shown, log: the log view's text
    or None when hidden, conn: the connection indicator}."""
    state = driver.execute_script(PAGE_JS)
    state["events"] = [tuple(e) for e in state["events"]]
    return state
