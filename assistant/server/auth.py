"""Who may use the server: a shared token, required as soon as anything but loopback can connect.

Clients present the token as ``Authorization: Bearer TOKEN`` (satellites, HTTP
clients) or, for browsers that cannot set WebSocket headers, in the ``start``
message. Comparison is constant-time.
"""

from __future__ import annotations

import hmac
import ipaddress
import socket
from collections.abc import Iterable, Mapping

from assistant.errors import ConfigError


class Auth:
    def __init__(self, token: str | None) -> None:
        self.token = token or None

    @property
    def required(self) -> bool:
        return self.token is not None

    def accepts(self, presented: str | None) -> bool:
        if self.token is None:
            return True
        return presented is not None and hmac.compare_digest(presented.encode(), self.token.encode())

    def accepts_headers(self, headers: Mapping[str, str]) -> bool:
        return self.accepts(bearer(headers))


def bearer(headers: Mapping[str, str]) -> str | None:
    scheme, _, value = headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def is_loopback(host: str) -> bool:
    """True when ``host`` (an address or a name) only ever means this machine."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except socket.gaierror:
        return False
    return bool(infos) and all(ipaddress.ip_address(info[4][0].split("%")[0]).is_loopback for info in infos)


def check_exposure(addresses: Iterable[str], token: str | None) -> None:
    """Refuse to serve beyond this machine without a token: anyone on the network could listen in."""
    exposed = [a for a in addresses if not is_loopback(a)]
    if exposed and not token:
        raise ConfigError(f"serving on {', '.join(exposed)} (not loopback) needs a token: set server.token in the config or pass --token; or bind to 127.0.0.1")
