"""Matchmaking by skill rating (or by score, the original course's rule), with bots for whoever waits
too long."""

from dataclasses import dataclass

from settings import GameSettings
from store.documents import Rating


@dataclass(slots=True)
class Ticket:
    """A player waiting for a room (with their rating's mu and sigma)."""

    user_id: int
    username: str
    score: int
    queued_at: float
    mu: float = Rating.mu
    sigma: float = Rating.sigma


class Matchmaker:
    """Forms rooms from the queue: consecutive players by skill whose gaps fit everyone's window.

    By rating (GAME_MATCH_BY, the default): players are ordered by their skill (mu, in shown-rating
    units), and a player accepts anyone within RATING_WINDOW + RATING_WINDOW_PER_SECOND × seconds waited
    + RATING_WINDOW_PER_DEVIATION × their deviation: narrow at first for a player the system knows,
    wide at once for a newcomer (who is placed quickly), wider with every second. By score: within
    MATCH_WINDOW_PER_SECOND × seconds waited points (50 per second in the original). Whoever has waited
    BOT_FILL_AFTER seconds gets a room completed by bots.
    """

    def __init__(self, settings: GameSettings):
        self.settings = settings
        self.queue: dict[int, Ticket] = {}
        self._by_rating = settings.MATCH_BY == "rating"

    def add(self, ticket: Ticket) -> None:
        self.queue[ticket.user_id] = ticket

    def remove(self, user_id: int) -> None:
        self.queue.pop(user_id, None)

    def _skill(self, ticket: Ticket) -> float:
        return Rating.DISPLAY_SCALE * ticket.mu if self._by_rating else ticket.score

    def _window(self, ticket: Ticket, now: float) -> float:
        s, waited = self.settings, now - ticket.queued_at
        if not self._by_rating:
            return s.MATCH_WINDOW_PER_SECOND * waited
        return (s.RATING_WINDOW + s.RATING_WINDOW_PER_SECOND * waited
                + s.RATING_WINDOW_PER_DEVIATION * Rating.DISPLAY_SCALE * ticket.sigma)

    def _accepts(self, a: Ticket, b: Ticket, now: float) -> bool:
        gap = abs(self._skill(a) - self._skill(b))
        return gap <= self._window(a, now) and gap <= self._window(b, now)

    def match(self, now: float) -> tuple[list[list[Ticket]], list[list[Ticket]]]:
        """Take from the queue the full rooms that can form now, and the groups to fill with bots."""
        capacity = self.settings.ROOM_CAPACITY
        waiting = sorted(self.queue.values(), key=self._skill)
        rooms = []
        i = 0
        while i + capacity <= len(waiting):
            group = waiting[i:i + capacity]
            if all(self._accepts(a, b, now) for n, a in enumerate(group) for b in group[n + 1:]):
                rooms.append(group)
                del waiting[i:i + capacity]
            else:
                i += 1
        overdue = sorted((t for t in waiting if now - t.queued_at >= self.settings.BOT_FILL_AFTER),
                         key=lambda ticket: ticket.queued_at)
        bot_filled = [overdue[n:n + capacity - 1] for n in range(0, len(overdue), capacity - 1)]
        for group in rooms + bot_filled:
            for ticket in group:
                del self.queue[ticket.user_id]
        return rooms, bot_filled
