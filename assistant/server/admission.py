"""Who gets a place: stream slots for connections that have shown the token, and a separate, small
budget for connections that are still about to.

A stream slot is what ``server.max_connections`` counts; a connection that has not authenticated must
never hold one, or strangers who open sockets and send nothing lock the owner out. Such a connection
waits in the pending budget instead (``max_pending_connections``, at most ``max_pending_per_address``
from one address) for at most ``handshake_timeout_seconds``, so one stranger can neither take all
pending places nor keep any of them for long.
"""

from __future__ import annotations

import threading

from assistant.config import ServerConfig
from assistant.server.auth import address_key


class Admission:
    def __init__(self, config: ServerConfig) -> None:
        self._max_streams = config.max_connections
        self._max_pending = config.max_pending_connections
        self._max_pending_per_address = config.max_pending_per_address
        self._lock = threading.Lock()
        self._active = 0
        self._pending: dict[str, int] = {}
        """Per address key; an address leaves the dict when its last pending connection does."""

    @property
    def active(self) -> int:
        """Stream slots taken."""
        return self._active

    @property
    def pending(self) -> int:
        """Connections waiting to show their token."""
        with self._lock:
            return sum(self._pending.values())

    def admit(self) -> bool:
        """Take a stream slot for an authenticated connection, unless all are taken."""
        with self._lock:
            if self._active >= self._max_streams:
                return False
            self._active += 1
            return True

    def release(self) -> None:
        with self._lock:
            self._active -= 1

    def wait(self, address: str | None) -> bool:
        """Take a pending place for a connection from ``address``, unless the budget (overall or its address's) is spent."""
        key = address_key(address)
        with self._lock:
            held = self._pending.get(key, 0)
            if held >= self._max_pending_per_address or sum(self._pending.values()) >= self._max_pending:
                return False
            self._pending[key] = held + 1
            return True

    def done_waiting(self, address: str | None) -> None:
        key = address_key(address)
        with self._lock:
            left = self._pending[key] - 1
            if left:
                self._pending[key] = left
            else:
                del self._pending[key]
