"""A first-time player's minute in headless Chromium: landing, dying, reloading, notices, the arena's
face, lost connections, accessibility, and the client module used by another page.

Screenshots for a person to look at go to test-output/gallery/.
"""

import itertools
import math

import pytest

from tests.browser_support import (arena_server, browser, click_at, gallery, my_row, open_page,  # noqa: F401
                                   page, register, start_game)

# Three humans meet before any bot joins; one hit kills.
THREE_HUMANS = {"GAME_BOT_FILL_AFTER": "600", "GAME_ROOM_CAPACITY": "3"}


@pytest.fixture(scope="module")
def server_url():
    """Access tokens that outlive each test: these tests reload pages, and a reload that cuts short a
    rotating refresh in flight would present a retired refresh token (reuse: logged out)."""
    with arena_server(JWT_ACCESS_TOKEN_LIFETIME="300") as url:
        yield url


def test_the_landing_page_says_what_the_game_is_and_play_stands_out(page, server_url):
    assert "fireball brawl" in page.inner_text(".tagline")
    play = page.locator("#register-form button")
    assert play.inner_text() == "Play" and "primary" in play.get_attribute("class")
    assert page.evaluate("document.activeElement.id") == "register-username"
    icon = page.evaluate("document.querySelector('link[rel=icon]').href")
    assert page.request.get(icon).status == 200
    gallery(page, "landing")


def test_dying_shows_the_placement_and_play_again_leaves_at_once(browser):
    with arena_server(**THREE_HUMANS) as url:
        contexts = [open_page(browser, url) for _ in range(3)]
        try:
            killer, victim, bystander = one_of_three_shot([player for _, player in contexts])
            assert victim.inner_text("#death-place") == "3rd of 3"
            killer_name, victim_name = (p.evaluate("window.arena.renderer.players.get(window.arena.renderer.me)"
                                                   ".username") for p in (killer, victim))
            assert victim.inner_text("#death-by") == f"{killer_name} got you."
            bystander.wait_for_selector(f"#feed li:has-text('{killer_name} ✕ {victim_name}')")  # the kill feed
            assert victim.is_disabled("#skill-fireball") and victim.get_attribute("#skill-fireball", "title") == "out"
            gallery(victim, "death-overlay")
            victim.click("#death-play-again")
            victim.wait_for_selector("body[data-view=queue]")
            victim.wait_for_function("document.querySelector('#queue-status').textContent.includes('in the queue')")
            assert bystander.evaluate("document.body.dataset.view") == "game"  # the game goes on without them
            assert victim.errors == []
        finally:
            for context, _ in contexts:
                context.close()


def clear_shot(players):
    """`(killer, victim, bystander)` with the bystander as far as can be from the line of fire: a
    bystander in the way would die first and leave the killer alone, ending the game."""
    rows = {row[0]: row for row in players[0].evaluate("window.arena.lastState.players")}
    spot = {player: rows[player.evaluate("window.arena.renderer.me")][1:3] for player in players}

    def clearance(killer, victim, bystander):
        (ax, ay), (bx, by), (px, py) = spot[killer], spot[victim], spot[bystander]
        along = max(0.0, min(1.0, ((px - ax) * (bx - ax) + (py - ay) * (by - ay)) / ((bx - ax) ** 2 + (by - ay) ** 2)))
        return math.hypot(px - ax - along * (bx - ax), py - ay - along * (by - ay))

    return max(itertools.permutations(players), key=lambda roles: clearance(*roles))


def one_of_three_shot(players):
    """Three players registered into one room; one shoots another until the death screen shows:
    `(killer, victim, bystander)`."""
    for player in players:
        register(player)
        player.click("#play")
    for player in players:
        player.wait_for_selector("body[data-view=game]")
        player.wait_for_function("window.arena.lastState !== null")
    killer, victim, bystander = clear_shot(players)
    victim_id = victim.evaluate("window.arena.renderer.me")
    while victim.is_hidden("#death"):
        row = killer.evaluate(f"window.arena.lastState.players.find(r => r[0] === {victim_id})")
        if row[4] and my_row(killer)[5] == 0:
            killer.keyboard.press("q")
            click_at(killer, row[1], row[2])
        tick = killer.evaluate("window.arena.lastState.tick")
        killer.wait_for_function(f"window.arena.lastState.tick > {tick}")
    return killer, victim, bystander


def test_a_reload_mid_game_offers_to_rejoin_with_the_time_left(page):
    register(page)
    start_game(page)
    room = page.evaluate("window.arena.renderer.room")
    page.reload()
    page.wait_for_selector("body[data-view=lobby]")
    page.wait_for_selector("#rejoin:not([hidden])")
    text = page.inner_text("#rejoin-text")
    assert text.startswith("Your game is still running — rejoin (") and text.endswith(" s left)")
    seconds = int(text.split("(")[1].split()[0])
    assert 10 < seconds <= 20
    gallery(page, "rejoin-prompt")
    page.click("#rejoin-button")
    page.wait_for_selector("body[data-view=game]")
    page.wait_for_function("window.arena.lastState !== null && window.arena.events.includes('game_start')")
    assert page.evaluate("window.arena.renderer.room") == room and my_row(page)[4] == 1  # not queued anew
    assert "queued" not in page.evaluate("window.arena.events")


def test_logging_out_with_a_game_running_asks_first(page):
    register(page)
    start_game(page)
    assert not page.is_visible("#logout")  # nowhere near the arena
    page.reload()
    page.wait_for_selector("#rejoin:not([hidden])")
    messages = []
    page.once("dialog", lambda dialog: (messages.append(dialog.message), dialog.dismiss()))
    page.click("#logout")
    assert "forfeits" in messages[0] and page.evaluate("document.body.dataset.view") == "lobby"
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#logout")
    page.wait_for_selector("body[data-view=auth]")


def test_the_arena_takes_the_screen_and_what_floats_over_it_takes_no_click(page):
    """1280x800 showed a 956x538 arena beside an empty chat column (issue 24): the arena takes the width
    now, and the chat, the feed and the badge float over its edges without catching a click."""
    register(page)
    start_game(page)
    page.keyboard.press("Enter")
    page.keyboard.type("W" * 200)
    page.keyboard.press("Enter")
    page.wait_for_function("document.querySelector('#chat-log').textContent.includes('WWWW')")
    covered = page.evaluate("""() => {
        const box = document.querySelector('#canvas').getBoundingClientRect();
        const points = [[0.02, 0.02], [0.98, 0.02], [0.02, 0.98], [0.98, 0.98], [0.5, 0.5], [0.9, 0.9], [0.1, 0.9]];
        return points.filter(([fx, fy]) => document.elementFromPoint(box.left + fx * box.width, box.top + fy * box.height).id !== 'canvas');
    }""")
    assert covered == []
    assert page.evaluate("(() => { const log = document.querySelector('#chat-log'); "
                         "return log.scrollWidth <= log.clientWidth; })()")
    box = page.locator("#canvas").bounding_box()
    assert box["y"] + box["height"] <= 800 and box["width"] >= 0.9 * 1280


def test_notices_fade_are_styled_by_kind_and_logout_clears_the_forms(browser, server_url):
    (first_context, first), (second_context, second) = open_page(browser, server_url), open_page(browser, server_url)
    try:
        username = f"n{first.evaluate('Date.now()')}"
        login = first.locator("#login-form")
        login.locator("input[name=username]").fill(username)
        login.locator("input[name=password]").fill("wrong horse")
        login.locator("button").click()
        first.wait_for_function("document.querySelector('#login-form .form-error').textContent !== ''")
        register(first, username)
        start_game(first)
        other = second.locator("#login-form")
        other.locator("input[name=username]").fill(username)
        other.locator("input[name=password]").fill("correct horse")
        other.locator("button").click()
        second.wait_for_selector("#rejoin:not([hidden])")
        second.click("#rejoin-button")  # "Play it here": the first tab's socket is replaced (4002)
        second.wait_for_selector("body[data-view=game]")
        first.wait_for_selector("#notice:not([hidden])")
        assert first.inner_text("#notice") == "The game was opened in another window or tab."
        assert first.get_attribute("#notice", "data-kind") == "warning"
        first.wait_for_selector("#notice", state="hidden", timeout=10000)  # transient

        first.once("dialog", lambda dialog: dialog.accept())  # the game still runs, in the other tab
        first.click("#logout")
        first.wait_for_selector("body[data-view=auth]")
        assert (first.inner_text("#notice"), first.get_attribute("#notice", "data-kind")) == ("Logged out.", "info")
        assert first.evaluate("[...document.querySelectorAll('#auth-view form input')].map(i => i.value)") == ["", "", "", ""]
        assert first.inner_text("#login-form .form-error") == ""
    finally:
        first_context.close()
        second_context.close()


def test_the_arena_has_a_face_and_your_ball_moves_at_once(page):
    register(page)
    start_game(page)
    colours = page.evaluate("[...window.arena.renderer.players.values()].map(p => p.color)")
    assert len(colours) == 3 and len(set(colours)) == 3  # bots too
    moved = page.evaluate("""() => {
        const renderer = window.arena.renderer, now = performance.now();
        const row = renderer.latest(renderer.me);
        const box = document.querySelector('#canvas').getBoundingClientRect();
        const tx = row[1] > 0.9 ? 0.1 : 1.7;
        document.querySelector('#canvas').dispatchEvent(new PointerEvent('pointerdown', {
            button: 2, pointerType: 'mouse', bubbles: true,
            clientX: box.left + tx / renderer.map.width * box.width, clientY: box.top + row[2] * box.height}));
        const drawn = renderer.selfAt(now + 200);
        return {dx: drawn.x - row[1], toward: tx - row[1], sent: renderer.prediction !== null};
    }""")
    assert moved["sent"] and moved["dx"] * moved["toward"] > 0 and abs(moved["dx"]) >= 0.025  # 0.15/s × 0.2 s
    page.keyboard.press("q")
    assert "armed" in page.get_attribute("#canvas", "class")
    assert page.get_attribute("#skill-fireball", "aria-pressed") == "true"
    page.mouse.move(400, 300)
    while not page.evaluate("window.arena.events.includes('attack')"):  # bots wander: shoot until one is hit
        bots = page.evaluate("window.arena.lastState.players.filter(r => r[0] < 0 && r[4] === 1)")
        if my_row(page)[5] == 0:
            page.keyboard.press("q")
            click_at(page, bots[0][1], bots[0][2])
        tick = page.evaluate("window.arena.lastState.tick")
        page.wait_for_function(f"window.arena.lastState.tick > {tick}")
    delayed = page.evaluate("""() => {
        const renderer = window.arena.renderer, bot = [...renderer.players.keys()].find(id => id < 0);
        renderer.hit(bot, renderer.me, 0, 0);
        const onBot = renderer.effects[renderer.effects.length - 1];
        renderer.hit(renderer.me, bot, 0, 0);
        const onMe = renderer.effects[renderer.effects.length - 1];
        return {bot: onBot.startAt - performance.now(), me: onMe.startAt - performance.now(),
                colour: onBot.color === renderer.players.get(renderer.me).color};
    }""")
    # Hits on others wait for the 100 ms-delayed clock their balls are drawn on; on your own ball (drawn
    # at once) at once; the ring takes the attacker's colour.
    assert delayed["bot"] >= 99 and delayed["me"] <= 1 and delayed["colour"]
    gallery(page, "desktop-game")


def test_a_lost_connection_is_shown_wherever_a_socket_is_expected(browser):
    with arena_server() as url:
        context, page = open_page(browser, url)
        register(page)
    try:
        page.click("#play")  # the server is gone now
        page.wait_for_function("document.querySelector('#queue-status').textContent"
                               ".startsWith('Connection lost, retrying… (')", timeout=5000)
        page.wait_for_function("document.querySelector('#queue-status').textContent.includes('(2)')", timeout=5000)
        assert page.errors == []
    finally:
        context.close()


def test_accessibility_basics(page):
    assert page.evaluate("document.activeElement.id") == "register-username"
    assert page.get_attribute("#canvas", "aria-label") == "Game arena"
    assert page.inner_text("label[for=chat-input]") == "Chat message"
    assert page.evaluate("[...document.querySelectorAll('input')].every(i => i.labels.length > 0 || i.getAttribute('aria-label'))")
    form = page.locator("#register-form")
    form.locator("input[name=username]").fill("someone")
    form.locator("input[name=password]").fill("short")
    form.locator("button").click()
    page.wait_for_selector("#register-password[aria-invalid=true]")
    described = page.evaluate("document.getElementById(document.querySelector('#register-password')"
                              ".getAttribute('aria-describedby')).textContent")
    assert "too short" in described
    assert page.get_attribute("#register-username", "aria-invalid") is None


def test_the_client_module_works_from_another_page(page, server_url):
    page.goto(server_url + "/api/health/live")  # any page of the origin: no UI of ours loaded
    welcome = page.evaluate("""async (base) => {
        const { ArenaClient } = await import(base + '/static/js/arena-client.js');
        const client = new ArenaClient({ baseUrl: base });
        const name = 'mod' + Math.random().toString(36).slice(2, 10);
        await client.register(name, 'correct horse');
        const game = client.connect();
        const welcomed = new Promise((resolve) => game.addEventListener('event',
            (event) => event.detail.event === 'welcome' && resolve(event.detail)));
        game.open();
        const welcome = await welcomed;
        game.stop();
        return { name, welcome, me: await client.me() };
    }""", server_url)
    assert welcome["welcome"]["user"]["username"] == welcome["name"] == welcome["me"]["username"]
