"""The browser client in real headless Chromium, against `python server.py` with a fast game.

Needs Debian's `chromium` (`.ci/run` installs it). Without it these tests are skipped, except in CI
(`CI` set), where a missing browser is a failure.
"""

import os
import shutil
import uuid
from pathlib import Path

import pytest

from tests.test_server_process import free_port, start_server, wait_until_listening

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
OUTPUT = Path(__file__).resolve().parent.parent / "test-output"

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
}


@pytest.fixture(scope="module")
def server_url():
    port = free_port()
    process = start_server("--port", str(port), env=SERVER_ENV)
    try:
        wait_until_listening(process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.communicate(timeout=15)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--disable-quic", "--no-first-run"])
        yield browser
        browser.close()


def open_page(browser, server_url, bypass_csp: bool):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=bypass_csp)
    page = context.new_page()
    page.set_default_timeout(15000)
    page.csp_violations = []
    page.on("console", lambda message: "Content Security Policy" in message.text
            and page.csp_violations.append(message.text))
    page.goto(server_url)
    return context, page


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


def start_game(page):
    page.click("#play")
    page.wait_for_selector("body[data-view=game]")
    page.wait_for_function("window.arena.lastState !== null")


def my_row(page):
    return page.evaluate("""() => {
        const state = window.arena.lastState;
        return state.players.find(row => row[0] > 0);
    }""")


def click_at(page, tx, ty, button="left"):
    """Click the canvas at map coordinates."""
    box = page.locator("#canvas").bounding_box()
    page.mouse.click(box["x"] + tx / (16 / 9) * box["width"], box["y"] + ty * box["height"], button=button)


def test_register_and_log_in_through_the_forms(page, server_url):
    username = register(page)
    assert username in page.inner_text("#whoami")
    page.click("#logout")
    page.wait_for_selector("body[data-view=auth]")
    form = page.locator("#login-form")
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=password]").fill("correct horse")
    form.locator("button").click()
    page.wait_for_selector("body[data-view=lobby]")
    assert "1500" in page.inner_text("#whoami")


def test_the_page_works_under_its_own_csp(strict_page):
    register(strict_page)
    strict_page.click("#play")
    strict_page.wait_for_selector("body[data-view=game]")  # the socket connected and a game started
    assert strict_page.csp_violations == []


def test_api_errors_are_shown_next_to_the_field(page):
    form = page.locator("#register-form")
    form.locator("input[name=username]").fill("shorty")
    form.locator("input[name=password]").fill("short")
    form.locator("button").click()
    page.wait_for_function("""() => document.querySelector('#register-form .field-error[data-for="password"]')
                              .textContent.includes('too short')""")
    login = page.locator("#login-form")
    login.locator("input[name=username]").fill("nobody-here")
    login.locator("input[name=password]").fill("wrong password")
    login.locator("button").click()
    page.wait_for_function("""() => document.querySelector('#login-form .form-error')
                              .textContent.includes('No active account')""")


def test_play_with_bots_move_shoot_and_screenshot(page):
    register(page)
    start_game(page)
    x, y = my_row(page)[1:3]
    target_x = 0.2 if x > 0.9 else 1.6
    click_at(page, target_x, y, button="right")
    page.wait_for_function(f"""() => {{
        const row = window.arena.lastState.players.find(r => r[0] > 0);
        return Math.abs(row[1] - {x}) > 0.05 && (row[1] - {x}) * ({target_x} - {x}) > 0;
    }}""")
    page.wait_for_function("window.arena.lastState.players.find(r => r[0] > 0)[5] === 0")
    page.keyboard.press("q")
    click_at(page, 0.9, 0.5)
    page.wait_for_function("window.arena.events.includes('shoot_fireball')")
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "running-game.png"))


def test_full_game_reaches_game_over_and_the_leaderboard(page):
    username = register(page)
    start_game(page)
    while page.is_hidden("#game-over"):
        bots = page.evaluate("window.arena.lastState.players.filter(r => r[0] < 0 && r[4] === 1)")
        me = my_row(page)
        if bots and me[5] == 0:
            page.keyboard.press("q")
            click_at(page, bots[0][1], bots[0][2])
        page.wait_for_function(f"window.arena.lastState.tick > {page.evaluate('window.arena.lastState.tick')}"
                               " || !document.querySelector('#game-over').hidden")
    assert page.inner_text("#game-over-title") == "You win!"
    assert page.inner_text("#game-over-score") == "Score +0"  # a win over bots alone is unrated
    page.click("#game-over-leaderboard")
    page.wait_for_selector("body[data-view=leaderboard]")
    page.wait_for_selector(f"#leaderboard-rows tr:has-text('{username}')")
    assert "1500" in page.locator(f"#leaderboard-rows tr:has-text('{username}')").inner_text()


def test_expiring_access_token_is_refreshed_and_the_socket_stays_open(page):
    register(page)
    start_game(page)
    refreshes = page.evaluate("window.arena.tokenRefreshes")
    # The access token lives 4 s; two renewals later the first token is long dead (4 s + 0.5 s grace).
    page.wait_for_function(f"window.arena.tokenRefreshes >= {refreshes + 3}", timeout=20000)
    assert page.evaluate("window.arena.socketOpen")
    assert page.evaluate("document.body.dataset.view") == "game"


def test_reload_keeps_the_session(page):
    username = register(page)
    page.reload()
    page.wait_for_selector("body[data-view=lobby]")
    assert username in page.inner_text("#whoami")
