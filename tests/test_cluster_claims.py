"""Two matchmakers at once over one Redis (a lease that changed hands mid-round): no player is seated
twice and no room is made twice, because every room is claimed by one script that takes all or none."""

import asyncio
import json
import tempfile

import pytest

from cluster import keys, messages
from cluster.link import RedisLink
from cluster.messages import AdoptRoom, CloseSession, OpenRoom, Presence, Player, Redirect, Revoked, RoomRecord, Seat
from cluster.matchmaking import ClusterMatchmaker
from cluster.windows import RedisWindows
from edge.limits import Throttles
from edge.throttles import Throttled
from game.matchmaker import Ticket
from settings import GameSettings, load_settings
from tests.cluster_harness import RedisServer, require_redis


@pytest.fixture
def redis_server():
    require_redis()
    server = RedisServer(tempfile.mkdtemp(prefix="arena-claims-"))
    yield server
    server.stop()


@pytest.mark.gen_test(timeout=30)
async def test_racing_matchmakers_seat_every_player_once(redis_server):
    settings = GameSettings(ROOM_CAPACITY=3, MATCH_WINDOW_PER_SECOND=1e9)
    links = [RedisLink(redis_server.url, 2.0, 1.0, lifetime=60) for _ in range(4)]
    redis_server.client().set(keys.alive("a"), "1", px=60_000)  # the players' process is alive
    players = range(1, 31)
    for user in players:
        await links[0].add_ticket(Ticket(user, f"u{user}", 1500, 0.0), "a")
    matchmakers = [ClusterMatchmaker(link, name, settings, store=None, url_of=lambda name: f"ws://{name}/")
                   for link, name in zip(links, ("a", "b", "c", "d"))]
    formed = await asyncio.gather(*(matchmaker.match_round({}) for matchmaker in matchmakers * 3))
    client = redis_server.client()
    rooms = {key.split(":")[-1]: json.loads(client.get(key)) for key in client.keys("arena:room:*")}
    seated = [user for room in rooms.values() for user, _, _ in room["players"]]
    assert sum(formed) == len(rooms) == 10
    assert sorted(seated) == list(players)  # everyone once, nobody twice
    assert {int(key.split(":")[-1]): client.get(key).split()[0] for key in client.keys("arena:seat:*")} == {
        user: room_id for room_id, room in rooms.items() for user, _, _ in room["players"]}
    assert client.zcard(keys.QUEUE) == 0 and client.hlen(keys.TICKETS) == 0
    assert all(0 < client.pttl(key) <= 60_000 for key in client.keys("arena:seat:*") + client.keys("arena:room:*"))
    for link in links:
        await link.close()


@pytest.mark.gen_test(timeout=30)
async def test_only_players_of_live_processes_that_are_not_stopping_are_matched(redis_server):
    """A player queued on a process that was killed (its heartbeat not lapsed yet) or that is draining is
    never seated: they would not come, and a no-show loses points (issue 23)."""
    settings = GameSettings(ROOM_CAPACITY=2, MATCH_WINDOW_PER_SECOND=1e9)
    link = RedisLink(redis_server.url, 2.0, 1.0, lifetime=60)
    client = redis_server.client()
    for name in ("a", "draining"):
        client.set(keys.alive(name), "1", px=60_000)
    client.set(keys.alive("lapsed"), "1", px=500)  # its last heartbeat is older than most
    for user, instance in ((1, "a"), (2, "a"), (3, "killed"), (4, "lapsed"), (5, "draining"), (6, "a")):
        await link.add_ticket(Ticket(user, f"u{user}", 1500, 0.0), instance)
    matchmaker = ClusterMatchmaker(link, "a", settings, store=None, url_of=lambda name: f"ws://{name}/",
                                   fresh_ms=30_000)
    instances = {"a": Presence("ws://a/", 0, 3, 0.0), "draining": Presence("ws://d/", 0, 1, 0.0, draining=True)}
    assert await matchmaker.match_round(instances) == 1
    seated = {int(key.split(":")[-1]) for key in client.keys("arena:seat:*")}
    assert len(seated) == 2 and seated < {1, 2, 6}
    assert set(map(int, client.hkeys(keys.TICKETS))) == {3, 4, 5} | ({1, 2, 6} - seated)
    await link.close()


@pytest.mark.gen_test(timeout=30)
async def test_a_room_is_handed_off_once_and_only_to_a_live_process(redis_server):
    links = [RedisLink(redis_server.url, 2.0, 1.0, lifetime=60) for _ in range(2)]
    client = redis_server.client()
    client.set(keys.alive("b"), "1", px=60_000)
    client.set(keys.alive("c"), "1", px=60_000)
    players = (Player(1, "alice", 1500), Player(2, "bob", 1500))
    await links[0].add_ticket(Ticket(1, "alice", 1500, 0.0), "a")
    await links[0].add_ticket(Ticket(2, "bob", 1500, 0.0), "a")
    assert await links[0].claim("r1", RoomRecord("a", players, 1.0), [1, 2])
    assert not await links[0].hand_off("r1", RoomRecord("dead", players, 1.0), "a", "{}", [1, 2], 5000)
    moved = await asyncio.gather(*(link.hand_off("r1", RoomRecord(target, players, 1.0), "a", f'"{target}"', [1, 2],
                                                 5000) for link, target in zip(links, ("b", "c"))))
    assert sorted(moved) == [False, True]
    host = "b" if moved[0] else "c"
    assert RoomRecord.decode(client.get(keys.room("r1"))).host == host
    assert client.smembers(keys.rooms(host)) == {"r1"} and client.smembers(keys.rooms("a")) == set()
    assert {client.get(keys.seat(user)) for user in (1, 2)} == {Seat("r1", host).encode()}
    assert messages.decode(client.xrange(keys.inbox(host))[-1][1]) == AdoptRoom("r1")
    assert await links[1].take_handoff("r1") == f'"{host}"' and await links[0].take_handoff("r1") is None
    for link in links:
        await link.close()


@pytest.mark.parametrize("message", [
    OpenRoom("r1", (Player(1, "alice", 1500), Player(2, "Zoë", 1490))),
    AdoptRoom("r1"),
    Redirect(7, "r1", "ws://b/wss/multiplayer/"),
    CloseSession(3),
    Revoked(4, None, "a"),
    Revoked(4, "family", "b"),
])
def test_every_message_between_processes_reads_back_as_it_was_written(message):
    fields = messages.encode(message)
    assert all(isinstance(value, str) for value in fields.values())  # what a Redis stream entry holds
    assert messages.decode(fields) == message


def test_seats_and_room_records_read_back_as_they_were_written():
    assert Seat.decode(Seat("r1", "host:1").encode()) == Seat("r1", "host:1")
    record = RoomRecord("a", (Player(1, "alice", 1500),), 1700000000.5)
    assert RoomRecord.decode(record.encode()) == record
    with pytest.raises(ValueError):
        messages.decode({"type": "open_doors"})


@pytest.mark.gen_test(timeout=30)
async def test_a_throttle_holds_across_processes(redis_server):
    """In cluster mode the windows live in Redis: five wrong guesses on three processes are five, not
    fifteen (each process counted its own before)."""
    settings = load_settings({"SECRET_KEY": "k" * 40}, THROTTLE_LOGIN_USERNAME="5/min")
    links = [RedisLink(redis_server.url, 2.0, 1.0, lifetime=60) for _ in range(3)]
    processes = [Throttles(settings, RedisWindows(link)) for link in links]
    admitted = 0
    for attempt in range(9):
        try:
            await processes[attempt % 3].logins.admit("username:alice", "198.51.100.66")
            admitted += 1
        except Throttled:
            pass
    assert admitted == 5
    for link in links:
        await link.close()
