"""Matchmaking by score, the original course's rule, with bots for whoever waits too long."""

from dataclasses import dataclass

from settings import GameSettings


@dataclass(slots=True)
class Ticket:
    """A player waiting for a room."""

    user_id: int
    username: str
    score: int
    queued_at: float


class Matchmaker:
    """Forms rooms from the queue: consecutive players by score whose gaps fit everyone's patience.

    A player who has waited `t` seconds accepts anyone within MATCH_WINDOW_PER_SECOND × t points
    (50 per second in the original). Whoever has waited BOT_FILL_AFTER seconds gets a room completed
    by bots.
    """

    def __init__(self, settings: GameSettings):
        self.settings = settings
        self.queue: dict[int, Ticket] = {}

    def add(self, ticket: Ticket) -> None:
        self.queue[ticket.user_id] = ticket

    def remove(self, user_id: int) -> None:
        self.queue.pop(user_id, None)

    def _accepts(self, a: Ticket, b: Ticket, now: float) -> bool:
        gap = abs(a.score - b.score)
        window = self.settings.MATCH_WINDOW_PER_SECOND
        return gap <= window * (now - a.queued_at) and gap <= window * (now - b.queued_at)

    def match(self, now: float) -> tuple[list[list[Ticket]], list[list[Ticket]]]:
        """Take from the queue the full rooms that can form now, and the groups to fill with bots."""
        capacity = self.settings.ROOM_CAPACITY
        waiting = sorted(self.queue.values(), key=lambda ticket: ticket.score)
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
