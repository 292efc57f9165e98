"""Which browser origins may use the API (CORS) and open the game socket: parsed, never globbed.

A pattern is `scheme://host[:port]`: the host may start with `*.` (any subdomain, not the domain
itself) and the port may be `*` (any port); no port means the scheme's default. IPv6 hosts are
bracketed (`http://[::1]:*`). Besides ARENA_ALLOWED_ORIGINS, the server's own origin is always allowed;
local development pages (`http://localhost:*`) only when the operator lists them.
"""

from dataclasses import dataclass
from typing import Optional

from settings import SettingsError

DEFAULT_PORTS = {"http": "80", "https": "443"}


def _split(text: str, port_wildcard: bool) -> Optional[tuple[str, str, str]]:
    """(scheme, host, port) of an origin or pattern, lowercased, the port made explicit; None if malformed."""
    scheme, separator, rest = text.strip().lower().rstrip("/").partition("://")
    if not separator or scheme not in DEFAULT_PORTS or not rest or "/" in rest or "@" in rest:
        return None
    if rest.startswith("["):
        host, bracket, tail = rest.partition("]")
        host += bracket
        if not bracket or (tail and not tail.startswith(":")):
            return None
        port = tail[1:] if tail else ""
    else:
        host, _, port = rest.partition(":")
    if not host or (port and not (port.isdigit() or (port_wildcard and port == "*"))):
        return None
    return scheme, host, port or DEFAULT_PORTS[scheme]


@dataclass(frozen=True)
class OriginPattern:
    scheme: str
    host: str
    port: str

    @classmethod
    def parse(cls, text: str) -> "OriginPattern":
        parts = _split(text, port_wildcard=True)
        if parts is None or "*" in parts[1].removeprefix("*."):
            raise ValueError(f"{text!r} is not an origin like https://game.example or https://*.example.org:*")
        return cls(*parts)

    def matches(self, scheme: str, host: str, port: str) -> bool:
        if scheme != self.scheme or (self.port != "*" and port != self.port):
            return False
        if self.host.startswith("*."):
            return host.endswith(self.host[1:])
        return host == self.host


class OriginPolicy:
    def __init__(self, allowed: tuple[str, ...]):
        try:
            self.patterns = [OriginPattern.parse(text) for text in allowed]
        except ValueError as exc:
            raise SettingsError(f"ARENA_ALLOWED_ORIGINS: {exc}") from None

    def allows(self, origin: str, own_host: str) -> bool:
        """Is `origin` (a browser's Origin header) allowed, for a server reached as `own_host`?"""
        parts = _split(origin, port_wildcard=False)
        if parts is None:
            return False
        scheme, host, port = parts
        own = _split(f"{scheme}://{own_host}", port_wildcard=False)
        return parts == own or any(pattern.matches(scheme, host, port) for pattern in self.patterns)
