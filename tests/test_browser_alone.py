"""A first-time player alone (issue 24): practice at once, an end screen that tells the truth, who got
whom, trouble that is shown, aims that do what they show, and a session that survives a new tab.
Screenshots go to the gallery (test-output/gallery/)."""

import math
import signal

from tests.browser_support import (SERVER_ENV, browser, gallery, open_page, page, register,  # noqa: F401
                                   server_url, start_game)
from tests.test_server_process import LogReader, free_port, start_server

# Bots that shoot at once and kill with one hit: a player who stands still is soon out.
DEADLY_BOTS = {**SERVER_ENV, "GAME_BOT_HOLD_FIRE": "0", "GAME_ROOM_CAPACITY": "2", "GAME_FIREBALL_COOLDOWN": "0.3"}


class Server:
    """`python server.py` whose process the test may stop, continue or kill."""

    def __init__(self, **env: str):
        self.port = free_port()
        self.process = start_server("--port", str(self.port), env={**SERVER_ENV, **env})
        LogReader(self.process).wait_until_listening()
        self.url = f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.process.send_signal(signal.SIGCONT)
        self.process.kill()
        self.process.wait()


def test_practice_starts_at_once_says_it_is_unrated_and_a_new_tab_keeps_the_session(browser):
    server = Server()
    context, page = open_page(browser, server.url)
    try:
        register(page)
        start_game(page, "#practice")
        started = page.evaluate("window.arena.eventAt.game_start - window.arena.eventAt.welcome")
        assert started < 1000  # no wait for bots
        assert page.inner_text("#badge") == "Practice · unrated"
        gallery(page, "practice-game")
        other = context.new_page()  # the same browser, another tab: still logged in
        other.goto(server.url)
        other.wait_for_selector("body[data-view=lobby]")
        assert page.errors == []
    finally:
        context.close()
        server.close()


def test_killed_by_a_bot_the_screens_say_who_won_your_place_and_why_it_is_unrated(browser):
    server = Server(**DEADLY_BOTS)
    context, page = open_page(browser, server.url)
    try:
        register(page)
        page.click("#practice")
        page.wait_for_selector("body[data-view=game]")
        bot = page.evaluate("[...window.arena.renderer.players.values()].find(p => p.bot).username")
        page.wait_for_selector("#game-over:not([hidden])", timeout=60000)
        assert page.evaluate("window.arena.events.includes('died')")
        assert page.inner_text("#game-over-title") == f"{bot} wins"  # not "Nobody wins"
        assert page.inner_text("#game-over-place") == "You came 2nd of 2."
        assert page.inner_text("#game-over-score") == "Practice game: unrated."
        # The result waits until the fatal hit is drawn (the arena is drawn 100 ms late).
        assert page.evaluate("window.arena.resultShownAt - window.arena.eventAt.game_over") >= 100
        assert page.inner_text("#feed li") == f"{bot} ✕ {page.evaluate('window.arena.renderer.players.get(window.arena.renderer.me).username')}"
        gallery(page, "killed-by-a-bot")
        page.click("#game-over-lobby")
        page.wait_for_selector("#history li")
        assert page.inner_text("#history li span") == "2nd of 2 · vs bots · practice"
    finally:
        context.close()
        server.close()


def test_a_stalled_server_is_said_at_once_and_a_lost_one_greys_the_arena(browser):
    server = Server()
    context, page = open_page(browser, server.url)
    try:
        register(page)
        start_game(page, "#practice")
        server.process.send_signal(signal.SIGSTOP)  # frozen: the socket stays open, no frame comes
        page.wait_for_selector("#trouble:not([hidden])", timeout=3000)
        stalled_after = page.evaluate("performance.now() - window.arena.eventAt.state")
        assert stalled_after < 1500 and page.inner_text("#trouble").startswith("Connection stalled")
        assert page.evaluate("window.arena.renderer.stalled && !window.arena.renderer.lost")
        gallery(page, "connection-stalled")
        server.process.send_signal(signal.SIGCONT)
        page.wait_for_selector("#trouble", state="hidden")
        server.process.kill()  # gone: the client reconnects, and says so over a greyed arena
        page.wait_for_function("window.arena.renderer.lost", timeout=5000)
        assert page.inner_text("#trouble").startswith("Connection lost — reconnecting (")
        gallery(page, "connection-lost")
    finally:
        context.close()
        server.close()


def test_what_you_aim_is_what_happens_and_cooldowns_keep_the_buttons_still(page):
    register(page)
    start_game(page)
    page.wait_for_function("window.arena.lastState.players.find(r => r[0] === window.arena.renderer.me)[6] === 0")
    width = page.locator("#skill-blink").bounding_box()["width"]
    box = page.locator("#canvas").bounding_box()
    # A right-click leaves a mark where it sends you.
    page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5, button="right")
    assert page.evaluate("window.arena.renderer.marker !== null")
    # An armed blink's line ends where the blink lands: never past its range.
    page.keyboard.press("f")
    me = page.evaluate("window.arena.renderer.selfAt(performance.now())")
    far = (0.02 if me["x"] > 0.9 else 1.75, 0.02 if me["y"] > 0.5 else 0.98)
    page.mouse.move(box["x"] + far[0] / (16 / 9) * box["width"], box["y"] + far[1] * box["height"])
    page.wait_for_function("window.arena.renderer.aimEnd !== undefined")
    end = page.evaluate("window.arena.renderer.aimEnd")
    me = page.evaluate("window.arena.renderer.selfAt(performance.now())")
    assert math.dist((end["x"], end["y"]), (me["x"], me["y"])) <= 0.8 + 0.02 < math.dist(far, (me["x"], me["y"]))
    page.mouse.click(box["x"] + far[0] / (16 / 9) * box["width"], box["y"] + far[1] * box["height"])
    page.wait_for_function("window.arena.lastState.players.find(r => r[0] === window.arena.renderer.me)[6] > 0")
    assert page.locator("#skill-blink").bounding_box()["width"] == width  # a ring fills: the button stays put
    # Your own fireball leaves at once, before the server has it.
    page.wait_for_function("window.arena.lastState.players.find(r => r[0] === window.arena.renderer.me)[5] === 0")
    page.keyboard.press("q")
    shots = page.evaluate("""() => {
        const box = document.querySelector('#canvas').getBoundingClientRect();
        document.querySelector('#canvas').dispatchEvent(new PointerEvent('pointerdown', {
            button: 0, pointerType: 'mouse', bubbles: true, clientX: box.left + box.width / 2, clientY: box.top + 10}));
        return window.arena.renderer.shots.length;
    }""")
    assert shots == 1
    gallery(page, "desktop-aim")


def test_a_player_who_watches_after_dying_can_leave_before_the_game_ends(browser):
    from tests.test_browser_first_minute import THREE_HUMANS, one_of_three_shot
    server = Server(**THREE_HUMANS)
    contexts = [open_page(browser, server.url) for _ in range(3)]
    try:
        killer, victim, bystander = one_of_three_shot([player for _, player in contexts])
        victim.click("#death-watch")
        assert victim.inner_text("#badge") == "Watching · you are out"
        assert victim.is_visible("#back-from-watching") and not victim.is_visible("#skill-fireball")
        gallery(victim, "watching")
        victim.click("#back-from-watching")
        victim.wait_for_selector("body[data-view=lobby]")
        assert bystander.evaluate("document.body.dataset.view") == "game"
    finally:
        for context, _ in contexts:
            context.close()
        server.close()
