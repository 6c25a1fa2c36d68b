"""Who may use the server: a shared token, required as soon as anything but loopback can connect.

Clients present the token as ``Authorization: Bearer TOKEN`` (satellites, HTTP
clients) or, for browsers that cannot set WebSocket headers, in the ``start``
message. Comparison is constant-time, and an address that keeps presenting
wrong tokens is shut out for longer and longer (:class:`Throttle`), so the
token cannot be guessed at network speed.
"""

from __future__ import annotations

import enum
import hmac
import ipaddress
import math
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from assistant.errors import ConfigError


class Verdict(enum.Enum):
    ACCEPTED = "accepted"
    MISSING = "missing"
    """No token presented: not a guess, so not counted against the address."""
    WRONG = "wrong"
    THROTTLED = "throttled"
    """The address is shut out for now; its token was not even looked at."""


@dataclass(frozen=True)
class Check:
    verdict: Verdict
    retry_after: float = 0.0
    """Seconds until a throttled address may try again."""

    @property
    def retry_seconds(self) -> int:
        """``retry_after`` in whole seconds, rounded up: a client told to wait that long is not refused again."""
        return math.ceil(self.retry_after)


class Auth:
    def __init__(self, token: str | None, throttle: Throttle) -> None:
        self.token = token or None
        self.throttle = throttle

    @property
    def required(self) -> bool:
        return self.token is not None

    def check(self, address: str | None, presented: Any) -> Check:
        """Judge a token ``presented`` by ``address`` (any JSON value a client sent; None: no token)."""
        if self.token is None:
            return Check(Verdict.ACCEPTED)
        wait = self.throttle.retry_after(address)
        if wait > 0:
            return Check(Verdict.THROTTLED, wait)
        if presented is None:
            return Check(Verdict.MISSING)
        if isinstance(presented, str) and hmac.compare_digest(presented.encode("utf-8", "surrogatepass"), self.token.encode()):
            self.throttle.succeeded(address)
            return Check(Verdict.ACCEPTED)
        self.throttle.failed(address)
        return Check(Verdict.WRONG)


class Throttle:
    """Per-address count of wrong tokens: after ``allowed`` of them, each further one shuts the address
    out for 1, 2, 4, ... seconds, up to ``max_seconds``. A shut-out address is refused before its token
    is compared, so guessing in parallel or faster gains nothing; a client sharing the address (the same
    NAT) waits too. The right token clears the count.

    Memory is bounded whatever the number of addresses: a record is forgotten once its address has been
    quiet for :attr:`FORGET_SECONDS` (or ``max_seconds``, if longer), and beyond ``capacity`` records
    the longest-quiet ones go first. IPv6 addresses count per /64, the block one subscriber usually
    gets, so hopping within it does not start the count afresh.
    """

    FORGET_SECONDS = 900.0

    def __init__(self, allowed: int, max_seconds: float, capacity: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.allowed = allowed
        self.max_seconds = max_seconds
        self.capacity = capacity
        self._forget_after = max(self.FORGET_SECONDS, max_seconds)
        self._clock = clock
        self._records: OrderedDict[str, _Record] = OrderedDict()
        """Least recently failed first."""
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._records)

    def retry_after(self, address: str | None) -> float:
        with self._lock:
            record = self._records.get(address_key(address))
            return 0.0 if record is None else max(0.0, record.blocked_until - self._clock())

    def failed(self, address: str | None) -> None:
        key, now = address_key(address), self._clock()
        with self._lock:
            while self._records:
                oldest = next(iter(self._records.values()))
                if now - oldest.last < self._forget_after:
                    break
                self._records.popitem(last=False)
            record = self._records.pop(key, None) or _Record()
            record.failures += 1
            record.last = now
            beyond = record.failures - self.allowed
            if beyond > 0:
                record.blocked_until = now + min(2.0 ** min(beyond - 1, 30), self.max_seconds)
            self._records[key] = record
            while len(self._records) > self.capacity:
                self._records.popitem(last=False)

    def succeeded(self, address: str | None) -> None:
        with self._lock:
            self._records.pop(address_key(address), None)


@dataclass
class _Record:
    failures: int = 0
    last: float = 0.0
    blocked_until: float = 0.0


def address_key(address: str | None) -> str:
    """What counts as one client address: IPv4 as is, IPv6 by its /64 (IPv4-mapped ones as IPv4)."""
    if address is None:
        return "unknown"
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


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
