"""The browser client against a cluster: it follows `redirect` (4004) to the process running its room,
goes back to its own origin after two failed tries, and takes a spectator to the process of the room it
watches."""

import asyncio
import threading

import pytest
from pymongo import MongoClient

from tests.browser_support import browser, open_page, register  # noqa: F401
from tests.cluster_harness import Cluster, mongo_for_cluster, require_redis
from tests.test_cluster import player


@pytest.fixture
def cluster(request):
    require_redis()
    mongo_url, server = mongo_for_cluster()
    made = Cluster(mongo_url, GAME_ROOM_CAPACITY="3", **getattr(request, "param", {}))
    yield made
    made.stop()
    with MongoClient(mongo_url) as client:
        client.drop_database(made.database)
    if server is not None:
        server.stop()


def queue_two_players_on(process) -> None:
    """Two players on `process`, queued (in a thread: Playwright's sync API owns this one)."""
    ready = threading.Event()

    def run() -> None:
        async def queue() -> None:
            clients = [await player(process, name) for name in ("bob", "carol")]
            for client, _ in clients:
                await client.wait_for("queued")
            ready.set()
            await asyncio.Event().wait()  # stay connected until the test is over
        asyncio.run(queue())

    threading.Thread(target=run, daemon=True).start()
    assert ready.wait(30)


def test_the_page_follows_a_redirect_to_the_room_s_process(browser, cluster):
    a, b = cluster.start("a", "b")
    queue_two_players_on(b)  # the room will run on b, where most of its players are
    context, page = open_page(browser, a.url)
    try:
        register(page)
        page.click("#play")
        page.wait_for_selector("body[data-view=game]")
        assert page.evaluate("window.arena.socketUrls") == [a.ws_url, b.ws_url]
        assert page.evaluate("window.arena.events.includes('game_start')") and page.errors == []
    finally:
        context.close()


@pytest.mark.parametrize("cluster", [{}], indirect=True)
def test_after_two_failed_redirects_the_page_goes_back_to_its_own_origin(browser, cluster):
    a, = cluster.start("a")
    cluster.env["ARENA_PUBLIC_URL"] = "ws://127.0.0.1:9/wss/multiplayer/"  # b announces a URL nobody answers
    b, = cluster.start("b")
    queue_two_players_on(b)
    context, page = open_page(browser, a.url)
    try:
        register(page)
        page.click("#play")
        page.wait_for_function("window.arena.socketUrls.length >= 4", timeout=20000)
        urls = page.evaluate("window.arena.socketUrls")
        assert urls[:4] == [a.ws_url, b.public_url, b.public_url, a.ws_url]
    finally:
        context.close()


@pytest.mark.parametrize("cluster", [{}], indirect=True)
def test_the_page_takes_its_token_to_no_host_it_does_not_trust(browser, cluster):
    """A redirect carries the token: a process announcing a URL on another host (a misconfiguration, or a
    Redis someone else writes to) is not followed; the page stays with the server it came from."""
    a, = cluster.start("a")
    cluster.env["ARENA_PUBLIC_URL"] = "ws://evil.example:9/wss/multiplayer/"
    b, = cluster.start("b")
    queue_two_players_on(b)
    context, page = open_page(browser, a.url)
    try:
        register(page)
        page.click("#play")
        page.wait_for_function("window.arena.socketUrls.length >= 3", timeout=20000)
        assert set(page.evaluate("window.arena.socketUrls")) == {a.ws_url}
    finally:
        context.close()


def test_a_spectator_of_a_room_on_another_process_is_taken_there(browser, cluster):
    a, b = cluster.start("a", "b")
    player_context, player = open_page(browser, b.url)
    watcher_context, watcher = open_page(browser, a.url)
    try:
        register(player)
        player.click("#practice")  # the room runs on b, where its player is
        player.wait_for_selector("body[data-view=game]")
        register(watcher)
        watcher.wait_for_selector("#live li button", timeout=10000)  # every process's rooms are listed
        watcher.click("#live li button")
        watcher.wait_for_selector("body[data-view=game][data-mode=watch]", timeout=20000)
        watcher.wait_for_function("window.arena.lastState !== null")
        assert watcher.evaluate("window.arena.socketUrls") == [a.ws_url, b.ws_url]
        assert watcher.evaluate("window.arena.renderer.room") == player.evaluate("window.arena.renderer.room")
        assert player.errors == [] and watcher.errors == []
    finally:
        player_context.close()
        watcher_context.close()
