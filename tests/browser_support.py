"""Shared by the Chromium tests: the browser, a `python server.py` with a fast game, and page helpers.

Needs Debian's `chromium` (`.ci/run` installs it). Without it the tests are skipped, except in CI
(`CI` set), where a missing browser is a failure.
"""

import os
import shutil
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from tests.test_server_process import LogReader, free_port, start_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
OUTPUT = Path(__file__).resolve().parent.parent / "test-output"
GALLERY = OUTPUT / "gallery"  # screenshots for a person to look at

if not os.path.exists(CHROMIUM) and not os.environ.get("CI"):
    pytest.skip("Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True)

sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright

# Bots do not shoot for a long while, so games end only when the player ends them; one hit kills.
SERVER_ENV = {
    "GAME_BOT_FILL_AFTER": "0.3", "GAME_MATCH_INTERVAL": "0.1", "GAME_BOT_HOLD_FIRE": "600",
    "GAME_FIREBALL_COOLDOWN": "0.3", "GAME_FIREBALL_SPEED": "3", "GAME_FIREBALL_RANGE": "3",
    "GAME_HITS_TO_KILL": "1", "JWT_ACCESS_TOKEN_LIFETIME": "4", "GAME_TOKEN_EXPIRY_GRACE": "0.5",
    "JWT_ROTATE_REFRESH_TOKENS": "true", "JWT_BLACKLIST_AFTER_ROTATION": "true",
    "ARENA_PASSWORD_TIME_COST": "1", "ARENA_PASSWORD_MEMORY_COST": "1024", "SECRET_KEY": "browser-tests-" * 4,
    # Every page of the session comes from 127.0.0.1: per-address limits would count them all as one client.
    **{f"ARENA_THROTTLE_{name}_ADDRESS": "" for name in ("LOGIN", "PASSWORD", "REGISTER", "SOCKET")},
}


@contextmanager
def arena_server(**overrides: str) -> Iterator[str]:
    """`python server.py` with SERVER_ENV and `overrides`; its URL while it runs."""
    port = free_port()
    process = start_server("--port", str(port), env={**SERVER_ENV, **overrides})
    try:
        LogReader(process).wait_until_listening()
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=15)


@pytest.fixture(scope="module")
def server_url():
    with arena_server() as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--disable-quic", "--no-first-run"])
        yield browser
        browser.close()


def open_page(browser, server_url, bypass_csp: bool = True, **context_options):
    """A new browser context (its own sessionStorage: another player) on the client page; the page
    records CSP violations and uncaught errors."""
    options = {"viewport": {"width": 1280, "height": 800}, **context_options}
    context = browser.new_context(bypass_csp=bypass_csp, **options)
    page = context.new_page()
    page.set_default_timeout(15000)
    page.csp_violations, page.errors = [], []
    page.on("console", lambda message: "Content Security Policy" in message.text
            and page.csp_violations.append(message.text))
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.goto(server_url)
    return context, page


def gallery(page, name: str) -> None:
    GALLERY.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(GALLERY / f"{name}.png"))


@pytest.fixture
def page(browser, server_url):
    """The client page; Playwright's string predicates are evaluated as code, which the page's CSP
    forbids, so these tests bypass it (test_the_page_works_under_its_own_csp does not)."""
    context, page = open_page(browser, server_url, bypass_csp=True)
    yield page
    context.close()


@pytest.fixture
def strict_page(browser, server_url):
    context, page = open_page(browser, server_url, bypass_csp=False)
    yield page
    context.close()


def register(page, username=None, password="correct horse"):
    username = username or f"p{uuid.uuid4().hex[:10]}"
    form = page.locator("#register-form")
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=password]").fill(password)
    form.locator("button").click()
    page.wait_for_selector("body[data-view=lobby]")
    return username


def start_game(page, button="#play"):
    """Click Play (or another button that starts a game, `#practice`) and wait for the first state."""
    page.click(button)
    page.wait_for_selector("body[data-view=game]")
    page.wait_for_function("window.arena.lastState !== null")


def my_row(page):
    """The page's own player in the last snapshot."""
    return page.evaluate("window.arena.lastState.players.find(row => row[0] === window.arena.renderer.me)")


def click_at(page, tx, ty, button="left"):
    """Click the canvas at map coordinates."""
    box = page.locator("#canvas").bounding_box()
    page.mouse.click(box["x"] + tx / (16 / 9) * box["width"], box["y"] + ty * box["height"], button=button)
