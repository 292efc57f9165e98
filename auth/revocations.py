"""What stateless authentication knows of revocations without reading the user on every request.

Each user's token generation is read once from the store and then kept, moved on by every revoke-all
this process makes; revoked families are loaded once and added to on every logout or reuse.
(Across processes, cluster mode carries the same events.)
"""

from collections import OrderedDict
from dataclasses import dataclass
from typing import Optional

from store.database import Store
from store.documents import UserId

GENERATIONS_KEPT = 100_000


@dataclass(frozen=True)
class Revocation:
    """Tokens revoked: every token of the user (`family` None) or one login's. `keep` names a login whose
    live socket stays open: the caller of a password change, who carries on with the new pair."""

    user_id: UserId
    family: Optional[str] = None
    keep: Optional[str] = None


class RevocationCache:
    def __init__(self, store: Store):
        self.store = store
        self._generations: OrderedDict[UserId, int] = OrderedDict()
        self._revoked_families: set[str] = set()
        self._revocations = 0  # counts revoke-alls, so a read that raced one is not kept
        self._families_loaded = False


    async def generation(self, user_id: UserId) -> int:
        generation = self._generations.get(user_id)
        if generation is None:
            revocations = self._revocations
            generation = await self.store.token_generation(user_id)
            if revocations != self._revocations:
                return generation  # a revoke-all came in meanwhile: use this read, keep none
            self._generations[user_id] = generation
            if len(self._generations) > GENERATIONS_KEPT:
                self._generations.popitem(last=False)
        else:
            self._generations.move_to_end(user_id)
        return generation

    def user_revoked(self, user_id: UserId) -> None:
        """A revoke-all: forget the generation, so the next check reads the new one."""
        self._revocations += 1
        self._generations.pop(user_id, None)

    def family_revoked(self, family: str) -> None:
        self._revoked_families.add(family)

    async def is_family_revoked(self, family: str) -> bool:
        if not self._families_loaded:  # once, at the first stateless check
            self._revoked_families.update(await self.store.revoked_families())
            self._families_loaded = True
        return family in self._revoked_families
