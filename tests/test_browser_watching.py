"""Watching in the page (issue 25): a finished game's replay from the match history, played back at 1×,
2×, 4×, paused and sought with no request to the server after the download; a live game from the
lobby's list, as a delayed spectator. Screenshots go to the gallery (test-output/gallery/)."""

from tests.browser_support import SERVER_ENV, arena_server, browser, gallery, open_page, register  # noqa: F401

# Bots that shoot soon and kill with one hit: a practice game ends within seconds.
DEADLY_BOTS = {**SERVER_ENV, "GAME_BOT_HOLD_FIRE": "0", "GAME_ROOM_CAPACITY": "2"}


# Resolves once the page has drawn that many more frames.
FRAMES_DRAWN = """(count) => new Promise((done) => {
  const next = () => (count-- > 0 ? requestAnimationFrame(next) : done());
  next();
})"""


def finish_a_practice_game(page) -> str:
    """Play practice until the bot wins; back in the lobby. The bot's name."""
    page.click("#practice")
    page.wait_for_selector("body[data-view=game]")
    bot = page.evaluate("[...window.arena.renderer.players.values()].find(p => p.bot).username")
    page.wait_for_selector("#game-over:not([hidden])", timeout=60000)
    page.click("#game-over-lobby")
    page.wait_for_selector("#history li button")
    return bot


def set_seek(page, step: int) -> None:
    page.evaluate("""(step) => { const seek = document.querySelector('#replay-seek'); seek.value = String(step);
                     seek.dispatchEvent(new Event('input')); }""", step)


def test_a_replay_plays_pauses_seeks_and_changes_speed_without_asking_the_server(browser):
    with arena_server(**DEADLY_BOTS) as url:
        context, page = open_page(browser, url)
        try:
            me = register(page)
            bot = finish_a_practice_game(page)
            requests = []
            with page.expect_response(lambda response: "/replay/" in response.url) as download:
                page.click("#history li button")
            assert download.value.status == 200
            page.on("request", lambda request: requests.append(request.url))
            page.wait_for_selector("body[data-view=game][data-mode=replay]")
            assert page.inner_text("#badge") == f"Replay · {me}, {bot}" or page.inner_text("#badge") == f"Replay · {bot}, {me}"
            assert page.is_visible("#replay-bar") and not page.is_visible("#skill-fireball")

            page.wait_for_function("window.arena.replayer.step > 5")
            page.click("#replay-toggle")  # pause
            assert page.inner_text("#replay-toggle") == "Play"
            paused_at = page.evaluate("window.arena.replayer.step")
            page.evaluate(FRAMES_DRAWN, 20)  # paused: the position must not move while the page draws on
            assert page.evaluate("window.arena.replayer.step") == paused_at

            steps = page.evaluate("window.arena.replayer.steps")
            set_seek(page, steps // 2)
            assert page.evaluate("window.arena.replayer.step") == steps // 2
            page.wait_for_function("window.arena.renderer.snapshots.length === 2")
            gallery(page, "replay")

            page.click("#replay-bar .speed[data-speed='4']")
            assert page.get_attribute("#replay-bar .speed[data-speed='4']", "aria-pressed") == "true"
            assert page.get_attribute("#replay-bar .speed[data-speed='1']", "aria-pressed") == "false"
            page.click("#replay-toggle")  # play on, at 4×, to the end
            page.wait_for_selector("#game-over:not([hidden])", timeout=30000)
            # The end of the replay tells what the game's own end told.
            assert page.inner_text("#game-over-title") == f"{bot} wins"
            assert page.inner_text("#game-over-place") == f"1st {bot} · 2nd {me}"
            assert page.evaluate("window.arena.events.includes('died')")
            assert page.inner_text("#feed li") == f"{bot} ✕ {me}"
            # Everything came with the download; only the session renews itself (4 s access tokens here).
            assert [url for url in requests if not url.endswith("/api/token/refresh/")] == []
            page.click("#replay-toggle")  # and once more from the start
            assert page.is_hidden("#game-over")
            assert page.evaluate("window.arena.replayer.step") < 60
            page.click("#back-from-watching")
            page.wait_for_selector("body[data-view=lobby]")
            assert page.errors == []
        finally:
            context.close()


def test_a_live_game_is_watched_from_the_lobby_behind_its_players_to_its_end(browser):
    slow_bots = {**DEADLY_BOTS, "GAME_BOT_HOLD_FIRE": "4", "ARENA_SPECTATE_DELAY": "1"}
    with arena_server(**slow_bots) as url:
        player_context, player = open_page(browser, url)
        watcher_context, watcher = open_page(browser, url)
        try:
            name = register(player)
            player.click("#practice")
            player.wait_for_selector("body[data-view=game]")
            register(watcher)
            watcher.wait_for_selector("#live li button", timeout=10000)  # the list is asked for again every 5 s
            assert name in watcher.inner_text("#live li")
            watcher.click("#live li button")
            watcher.wait_for_selector("body[data-view=game][data-mode=watch]")
            watcher.wait_for_function("window.arena.lastState !== null")
            assert watcher.inner_text("#badge") == "Watching · 1 s behind"
            assert watcher.evaluate("window.arena.renderer.me") is None
            assert not watcher.is_visible("#skill-fireball") and watcher.is_visible("#back-from-watching")
            gallery(watcher, "spectating")
            # The player sees each moment before the spectator does.
            assert player.evaluate("window.arena.lastState.tick") > watcher.evaluate("window.arena.lastState.tick")

            watcher.wait_for_selector("#game-over:not([hidden])", timeout=60000)
            assert watcher.inner_text("#game-over-place").endswith(f"2nd {name}")
            assert watcher.inner_text("#game-over-score") == "Practice game: unrated."
            assert player.inner_text("#game-over-title") == watcher.inner_text("#game-over-title")
            watcher.click("#game-over-lobby")
            watcher.wait_for_selector("body[data-view=lobby]")
            assert player.errors == [] and watcher.errors == []
        finally:
            player_context.close()
            watcher_context.close()
