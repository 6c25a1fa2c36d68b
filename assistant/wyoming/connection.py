"""One Wyoming client connection: its events in, its answers out, its work on a thread of its own.

The event loop only moves events. Everything that runs a model (a wake
detector, a recognizer, a voice, a plugin) runs on the connection's one
worker thread, in the order the events came, so a connection's per-stream
state (its detector, its recognizer) is only ever touched by that thread, and
a connection that waits for a decode never holds up another client.

A mistake gets an ``error`` event and the connection reads on: a line that is
not an event, a header over 64 KiB, data or payload over
``wyoming.max_event_bytes``, a malformed or out-of-order event. Events of types
this server neither takes nor sends are ignored, as the protocol asks of
servers (a newer client may send ``select-program``-like hints); each is logged.
A client is disconnected only when it goes quiet, or stops reading, for
``wyoming.timeout_seconds``, or when the server is full.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from wyoming.error import Error as WyomingError
from wyoming.event import Event, async_read_event
from wyoming.ping import Pong
from wyoming.server import AsyncEventHandler

from assistant.errors import AssistantError
from assistant.events import Error
from assistant.wyoming.errors import ClientError
from assistant.wyoming.framing import GuardedReader
from assistant.wyoming.handle import TextRequests, client_device
from assistant.wyoming.info import PROGRAM
from assistant.wyoming.listen import AudioRequests
from assistant.wyoming.tts import Speech

if TYPE_CHECKING:
    from assistant.wyoming.server import WyomingServer

_log = logging.getLogger(__name__)

T = TypeVar("T")

SERVER_EVENTS = frozenset(
    {
        "info", "pong", "error", "detection", "not-detected", "transcript-start", "transcript-chunk", "transcript-stop",
        "intents-start", "intents-stop", "not-recognized", "handled", "not-handled", "handled-start", "handled-chunk",
        "handled-stop", "synthesize-stopped", "voice-started", "voice-stopped",
    }
)  # fmt: skip
"""What a server sends: a client sending one of these has the roles mixed up (an error says so)."""


class Gone(Exception):
    """The client stopped reading what it is sent (or went away): the connection ends."""


class Connection(AsyncEventHandler):
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, server: WyomingServer) -> None:
        super().__init__(reader, writer)
        self.server = server
        self.timeout = server.config.wyoming.timeout_seconds
        self.client = client_device(writer.get_extra_info("peername"))
        self._events = GuardedReader(reader, server.config.wyoming.max_event_bytes)
        self._worker: ThreadPoolExecutor | None = None
        self.audio = AudioRequests(self, server)
        self.speech = Speech(self, server)
        self.text = TextRequests(self, server)
        self._handlers: dict[str, Callable[[Event], Awaitable[None]]] = {
            "describe": self._describe,
            "ping": self._ping,
            "select-program": self._select_program,
            "intent": self._structured_intent,
            "detect": self.audio.detect,
            "transcribe": self.audio.transcribe,
            "audio-start": self.audio.start,
            "audio-chunk": self.audio.chunk,
            "audio-stop": self.audio.stop,
            "synthesize": self.speech.synthesize,
            "synthesize-start": self.speech.start,
            "synthesize-chunk": self.speech.chunk,
            "synthesize-stop": self.speech.stop,
            "recognize": self.text.recognize,
            "transcript": self.text.handle,
        }

    # -- the connection ----------------------------------------------------------------------------

    async def run(self) -> None:
        if not self.server.admit():
            try:
                limit = self.server.config.wyoming.max_connections
                await self.send(WyomingError(text=f"server busy: {limit} clients are connected (wyoming.max_connections); try again later", code="busy").event())
            except Gone:
                pass
            await self._close()
            return
        try:
            await self._read_events()
        except Gone:
            pass
        except Exception:  # a bug must cost this client its connection, logged, not go unanswered or reach other clients
            _log.exception("serving a Wyoming client failed")
            try:
                await self.send(WyomingError(text="internal error: the server failed on that event; its log has the details", code="internal").event())
            except Gone:
                pass
        finally:
            await self.disconnect()
            await self._close()
            self.server.release()

    async def _read_events(self) -> None:
        while True:
            try:
                event = await asyncio.wait_for(async_read_event(self._events), self.timeout)
            except TimeoutError:
                _log.info("closing a Wyoming connection from %s: nothing received for %g s", self.client, self.timeout)
                return
            except ClientError as exc:
                await self.error(exc)
                continue
            except (asyncio.IncompleteReadError, ConnectionError):  # the client went away mid-event
                return
            if event is None:
                if self._events.at_eof():
                    return
                await self.error(ClientError("bad_event", "not an event: its header or data could not be read; it was skipped"))
                continue
            try:
                await self.handle_event(event)
            except ClientError as exc:
                await self.error(exc)

    async def handle_event(self, event: Event) -> bool:
        handler = self._handlers.get(event.type)
        if handler is not None:
            await handler(event)
        elif event.type in SERVER_EVENTS:
            raise ClientError("unexpected_event", f"{event.type[:40]!r} is an event a server sends, not one it takes")
        else:
            _log.info("ignoring a Wyoming event of a type this server does not use: %r", event.type[:40])
        return True

    async def disconnect(self) -> None:
        """The client is gone: release its per-stream state on its worker thread, after the work in flight."""
        if self._worker is not None:
            self._worker.submit(self.audio.release)
            self._worker.shutdown(wait=False)
            self._worker = None

    async def _close(self) -> None:
        self.writer.close()
        try:
            await asyncio.wait_for(self.writer.wait_closed(), 1.0)
        except (TimeoutError, ConnectionError):
            pass

    # -- what the role handlers use ----------------------------------------------------------------

    async def send(self, event: Event) -> None:
        """Write one event; :class:`Gone` when the client has not taken it within ``wyoming.timeout_seconds``."""
        try:
            await asyncio.wait_for(self.write_event(event), self.timeout)
        except TimeoutError:
            _log.info("closing a Wyoming connection from %s: it read nothing for %g s", self.client, self.timeout)
            raise Gone from None
        except ConnectionError:
            raise Gone from None

    async def work(self, function: Callable[..., T], *args: Any) -> T:
        """Run model work on this connection's worker thread (never on the event loop). A model that
        fails (:class:`AssistantError`: a broken model, a voice that cannot speak) fails this request,
        as a :class:`ClientError` the client is told about."""
        if self._worker is None:
            self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wyoming")
        try:
            return await asyncio.get_running_loop().run_in_executor(self._worker, function, *args)
        except AssistantError as exc:
            _log.warning("Wyoming client %s: %s", self.client, exc)
            raise ClientError("failed", str(exc)) from None

    async def error(self, exc: ClientError) -> None:
        """Tell the client what was wrong with what it sent, and log it (one line, no traceback)."""
        _log.info("Wyoming client %s: %s: %s", self.client, exc.code, exc.message)
        self.server.emitter.emit(Error(code=exc.code, message=exc.message))
        await self.send(WyomingError(text=exc.message, code=exc.code).event())

    # -- events of no role -------------------------------------------------------------------------

    async def _describe(self, event: Event) -> None:
        await self.send(self.server.info_event)

    async def _ping(self, event: Event) -> None:
        text = event.data.get("text")
        await self.send(Pong(text=text if isinstance(text, str) else None).event())

    async def _select_program(self, event: Event) -> None:
        name = event.data.get("name")
        if name != PROGRAM:
            raise ClientError("unknown_program", f"no program named {str(name)[:40]!r} here; each role has one, named {PROGRAM!r}")

    async def _structured_intent(self, event: Event) -> None:
        raise ClientError("not_supported", "structured intents are not carried out here: send the sentence as a transcript event")
