"""Skill ratings: OpenSkill's Plackett-Luce model rates a free-for-all game by the humans' ranks, and
keeps an uncertainty per player (a new player's is wide and narrows with each rated game). Chosen over
Glicko-2, which rates one-on-one games: a room is a free-for-all of up to GAME_ROOM_CAPACITY players.
What a user holds and sees is store.documents.Rating; `changes` are applied with the game's score
changes, exactly once (store.Store.record_game)."""

from openskill.models import PlackettLuce

from store.documents import Rating, UserId

MODEL = PlackettLuce(mu=Rating.mu, sigma=Rating.sigma)


def changes(players: dict[UserId, tuple[Rating, int]]) -> dict[UserId, tuple[float, float]]:
    """A rated game's increments of mu and sigma for each human, from their ratings before it and their
    ranks among the humans (1 best; equal ranks tie: rules.Match.human_ranks)."""
    ids = list(players)
    teams = [[MODEL.rating(mu=players[i][0].mu, sigma=players[i][0].sigma)] for i in ids]
    rated = MODEL.rate(teams, ranks=[players[i][1] for i in ids])
    return {i: (after[0].mu - players[i][0].mu, after[0].sigma - players[i][0].sigma) for i, after in zip(ids, rated)}
