"""The way out to one WebSocket client, usable from any thread.

Pipeline threads, decoder threads and the event loop all send to the client;
everything goes through one FIFO that a single sender task drains, so the
client sees messages in the order they were produced. The FIFO is bounded in
bytes: a client that stops reading makes it overflow, which the connection
treats as a stalled client and closes, instead of buffering without limit.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass

from assistant.events import Event

OnSent = Callable[[], None]


@dataclass(frozen=True)
class Outgoing:
    data: str | bytes
    on_sent: OnSent | None = None
    """Called on the event loop once the message was handed to the socket."""


class ClientLink:
    def __init__(self, loop: asyncio.AbstractEventLoop, max_pending_bytes: int) -> None:
        self._loop = loop
        self._queue: asyncio.Queue[Outgoing | None] = asyncio.Queue()
        self._lock = threading.Lock()
        self._pending = 0
        self._max = max_pending_bytes
        self._closed = False
        self.overflowed = False

    def send_event(self, event: Event) -> None:
        """An :data:`~assistant.events.EventSink`: the event as one JSON text message."""
        self._put(Outgoing(event.to_json()))

    def send_bytes(self, data: bytes, on_sent: OnSent | None = None) -> None:
        self._put(Outgoing(data, on_sent))

    def _put(self, item: Outgoing) -> None:
        size = len(item.data)
        with self._lock:
            if self._closed:
                return
            if self._pending and self._pending + size > self._max:
                self.overflowed = True
                return
            self._pending += size
        try:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, item)
        except RuntimeError:  # the loop is closed: the server is shutting down and the client is gone
            pass

    async def get(self) -> Outgoing | None:
        """The next message to send; None after :meth:`close`."""
        item = await self._queue.get()
        if item is not None:
            with self._lock:
                self._pending -= len(item.data)
        return item

    def close(self) -> None:
        """Stop accepting messages and end the sender after what is queued."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        try:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, None)
        except RuntimeError:
            pass
