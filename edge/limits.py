"""The server's throttles, and the rules for password guesses (logins and password changes).

A guess is counted before its password is hashed, so a burst of concurrent guesses is counted in full,
never checked in full. Per address, every attempt counts (a success too: one client cannot keep the
hashing threads busy with its own account). Per account, failures count and a success clears them,
as before. An account whose failures are used up still takes a guess from an address that has not
failed against it in the window: someone else's wrong guesses cannot lock the owner out. The price:
an attacker with many addresses gets one guess per address per window at a locked account, and each
address is still bound by its own limit (docs/security.md).
"""

from edge.throttles import RateLimits, Throttle, Throttled, Windows, account_key, address_key
from settings import Settings


class Guesses:
    """Password guesses of one kind (logins, or password changes): per account, per address, and per
    account and address together (what lets the owner in)."""

    def __init__(self, per_account: str, per_address: str, windows: Windows):
        self.per_account = Throttle(per_account, windows)
        self.per_address = Throttle(per_address, windows)
        self.per_pair = Throttle(per_account, windows)

    async def admit(self, account: str, address: str) -> None:
        """Count a guess at `account` (a throttle key) from `address`, or raise Throttled."""
        address = address_key(address)
        pair = f"{account}@{address}"
        await self.per_address.hit(address)
        failed_here = await self.per_pair.count(pair)
        try:
            await self.per_account.hit(account)
        except Throttled:
            if failed_here:
                raise  # this address is one of those that failed: it waits like the rest
        await self.per_pair.hit(pair)

    async def succeeded(self, account: str, address: str) -> None:
        """The password was right: the account's failures are forgotten (its address's count stays)."""
        await self.per_account.reset(account)
        await self.per_pair.reset(f"{account}@{address_key(address)}")


class Throttles:
    """Every throttle of the server, on the given windows (in memory, or in Redis in cluster mode);
    game frames are limited per process, by token buckets."""

    def __init__(self, settings: Settings, windows: Windows):
        self.windows = windows
        self.logins = Guesses(settings.THROTTLE_LOGIN_USERNAME, settings.THROTTLE_LOGIN_ADDRESS, windows)
        self.password_changes = Guesses(settings.THROTTLE_PASSWORD_USER, settings.THROTTLE_PASSWORD_ADDRESS, windows)
        self.register_address = Throttle(settings.THROTTLE_REGISTER_ADDRESS, windows)
        self.socket_address = Throttle(settings.THROTTLE_SOCKET_ADDRESS, windows)
        self.socket_user = Throttle(settings.THROTTLE_SOCKET_USER, windows)
        self.frames = RateLimits(settings.game.MESSAGE_RATE, settings.game.MESSAGE_BURST)

    async def register(self, address: str) -> None:
        await self.register_address.hit(address_key(address))

    async def socket_from(self, address: str) -> None:
        await self.socket_address.hit(address_key(address))

    async def socket_for(self, user_id: int) -> None:
        await self.socket_user.hit(f"user:{user_id}")


def login_account(username_key: str) -> str:
    """A login's account as a throttle key: the normalised username, hashed."""
    return account_key("username", username_key)


def user_account(user_id: int) -> str:
    return f"user:{user_id}"
