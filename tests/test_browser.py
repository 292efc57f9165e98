"""The browser client in real headless Chromium, against `python server.py` with a fast game."""

from tests.browser_support import (OUTPUT, browser, click_at, my_row, page, register, server_url,  # noqa: F401
                                   start_game, strict_page)


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
    assert page.inner_text("#game-over-place") == "You came 1st of 3."
    # a win over bots alone is unrated, and the screen says why
    assert page.inner_text("#game-over-score") == "Unrated: only games in which two humans play count."
    page.click("#game-over-lobby")
    page.wait_for_selector("#history li")
    assert page.inner_text("#history li span") == "1st of 3 · vs bots · unrated"  # the match history
    assert page.inner_text("#whoami") == f"{username} · score 1500"
    page.click("#show-leaderboard")
    page.wait_for_selector("body[data-view=leaderboard]")
    page.wait_for_selector(f"#leaderboard-rows tr:has-text('{username}')")
    cells = page.locator(f"#leaderboard-rows tr:has-text('{username}') td").all_inner_texts()
    assert cells[1:] == [username, "1500", "1000"]  # score and rating: a win over bots moves neither


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
