"""``/v1/stream``: one WebSocket connection, its admission, its messages, its streams, its timeouts.

A connection is admitted in two steps. First the token: from the ``Authorization`` header at once,
or else from the first message, which must be a ``start``, ``hello`` or ``watch`` carrying it and must come within
``server.handshake_timeout_seconds``; meanwhile the connection only holds a place in the small
pending budget (:mod:`~assistant.server.admission`), never a stream slot, and a stranger learns
nothing but a close code. Then a stream slot (``server.max_connections``).

The receive loop runs on the event loop and never blocks: building a stream's
pipeline (it loads models) happens in a thread, audio goes into the stream's
bounded queue, and everything the client receives goes through one
:class:`~assistant.server.link.ClientLink` drained by a sender task.

A connection is one device (named by ``hello`` or by ``device`` in ``start``;
else a device of its own): while it is open the device is connected, and its
announcements and alarms reach it between streams too (:mod:`~assistant.server.presence`). A protocol
mistake gets an ``error`` event and the connection lives on; a wrong token,
an idle or stalled client, an oversized message or a full server close it
with a code and a reason (see :class:`~assistant.server.protocol.CloseCode`).

A connection that sends ``watch`` also gets what every device does from the
:class:`~assistant.server.hub.Hub` (the page's hub view, which can ``cancel`` a
device's timer or alarm), and is not closed for being idle (uvicorn's pings
still find a client that is gone). A ``text`` message is a command typed into
the connection's running stream: its pipeline runs the turn a transcript would.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from assistant.conversations import BadDevice, Conversation, TooManyDevices
from assistant.errors import AssistantError
from assistant.events import Error, EventEmitter, EventSink
from assistant.intents.dispatcher import PluginBusy
from assistant.server.auth import Check, Verdict, bearer
from assistant.server.link import ClientLink
from assistant.server.output import WebSocketOutput
from assistant.server.presence import Presence
from assistant.server.protocol import (
    CloseCode,
    Hello,
    ProtocolError,
    StartRequest,
    parse_cancel,
    parse_command_done,
    parse_hello,
    parse_message,
    parse_start,
    parse_text,
)
from assistant.server.state import ServerState
from assistant.server.stream import Stream

_log = logging.getLogger(__name__)

_OUTBOX_BYTES = 16 * 1024 * 1024
"""What may wait for a slow client before it counts as stalled (a long spoken reply is ~1 MB)."""

_ROOM_POLL_SECONDS = 0.01

MESSAGE_TYPES = ("hello", "start", "stop", "text", "command_done", "watch", "cancel")

_UNAUTHORIZED = "unauthorized: send the server token as 'Authorization: Bearer TOKEN' or in the start message"


async def stream_endpoint(websocket: WebSocket) -> None:
    state: ServerState = websocket.app.state.assistant
    address = websocket.client.host if websocket.client else None
    await websocket.accept()
    check = state.auth.check(address, bearer(websocket.headers))
    start: str | None = None
    """The start (or watch) message that carried the token, when the header did not."""
    if check.verdict is Verdict.MISSING:
        start = await _handshake(websocket, state, address)
        if start is None:
            return
    elif check.verdict is not Verdict.ACCEPTED:
        await _refuse(websocket, state, check)
        return
    if not state.admission.admit():
        state.metrics.rejected.labels("busy").inc()
        await _close(websocket, CloseCode.BUSY, f"server busy: {state.config.server.max_connections} connections are open; try again later")
        return
    state.metrics.connections.inc()
    try:
        await Connection(websocket, state).run(start)
    finally:
        state.metrics.connections.dec()
        state.admission.release()


async def _handshake(websocket: WebSocket, state: ServerState, address: str | None) -> str | None:
    """Wait, in the pending budget, for the first message: a start, hello or watch with the right token. Returns its
    text, or None once the connection is closed (budget spent, deadline passed, no or wrong token)."""
    server = state.config.server
    if not state.admission.wait(address):
        state.metrics.rejected.labels("pending_full").inc()
        await _close(websocket, CloseCode.BUSY, "server busy: too many connections are waiting to authenticate; try again later")
        return None
    try:
        try:
            message = await asyncio.wait_for(websocket.receive(), server.handshake_timeout_seconds)
        except TimeoutError:
            state.metrics.rejected.labels("handshake_timeout").inc()
            await _close(websocket, CloseCode.TIMEOUT, f"handshake: no start message with the token within {server.handshake_timeout_seconds:g} s")
            return None
        except (WebSocketDisconnect, RuntimeError):  # the client vanished
            return None
        text = message.get("text")
        if message["type"] == "websocket.disconnect" or text is None:
            check = Check(Verdict.MISSING)
        else:
            check = state.auth.check(address, _presented_token(text))
        if check.verdict is Verdict.ACCEPTED:
            return text
        if message["type"] != "websocket.disconnect":
            await _refuse(websocket, state, check)
        return None
    finally:
        state.admission.done_waiting(address)


def _presented_token(text: str) -> Any:
    """The ``token`` of a start, hello or watch message, as sent (any JSON value); None when the message is anything else."""
    try:
        message = parse_message(text)
    except ProtocolError:
        return None
    return message.get("token") if message["type"] in ("start", "hello", "watch") else None


async def _refuse(websocket: WebSocket, state: ServerState, check: Check) -> None:
    """Close an unauthenticated connection; it learns the close code and nothing else."""
    if check.verdict is Verdict.THROTTLED:
        state.metrics.rejected.labels("throttled").inc()
        code, reason = CloseCode.TRY_LATER, f"too many wrong tokens from this address: retry in {check.retry_seconds} s"
    else:
        state.metrics.rejected.labels("unauthorized").inc()
        code, reason = CloseCode.UNAUTHORIZED, _UNAUTHORIZED
    _log.info("refusing a connection from %s: %d %s", websocket.client.host if websocket.client else "?", code, reason)
    await _close(websocket, code, reason)


_CLOSE_SECONDS = 1.0


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    """Send a close frame; a client that reads nothing never gets it, so give up after a second
    (returning from the handler then drops the connection)."""
    with contextlib.suppress(RuntimeError, WebSocketDisconnect, OSError, TimeoutError):
        await asyncio.wait_for(websocket.close(code, reason[:120]), _CLOSE_SECONDS)  # a reason must fit in 123 bytes


class Connection:
    def __init__(self, websocket: WebSocket, state: ServerState) -> None:
        self.ws = websocket
        self.state = state
        self.server = state.config.server
        self.link = ClientLink(asyncio.get_running_loop(), _OUTBOX_BYTES)
        self.emitter = EventEmitter([self.link.send_event, state.metrics.observer()])
        self.stream: Stream | None = None
        self._stream_done: asyncio.Event | None = None
        self._closed = asyncio.Event()
        self.conversation: Conversation | None = None
        """The device this connection is, once it said (or started a stream)."""
        self.presence: Presence | None = None
        self.output: WebSocketOutput | None = None
        self._watching = False

    async def run(self, start: str | None = None) -> None:
        """``start``: the first message, when the handshake already read it."""
        sender = asyncio.create_task(self._send_loop())
        try:
            if start is not None:
                await self._on_text(start)
            await self._receive_loop()
        except Exception:  # a bug must cost this client its connection, with a close code, not go unanswered
            _log.exception("handling a client's message failed")
            await self.close(CloseCode.INTERNAL_ERROR, "internal error: the server failed on that message")
        finally:
            if self._watching:
                self.state.hub.unwatch(self.link.send_event)
            if self.stream is not None:
                self.stream.abort()
            self._leave()
            self.link.close()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(sender, 1.0)

    # -- receiving ---------------------------------------------------------------------------------

    async def _receive_loop(self) -> None:
        closed = asyncio.create_task(self._closed.wait())
        try:
            while not self._closed.is_set():
                await self._wait_for_room()
                receive = asyncio.create_task(self.ws.receive())
                # a watching client (a dashboard) may be silent for hours; a dead one is found by the ping timeout
                idle = None if self._watching else self.server.idle_timeout_seconds
                done, _ = await asyncio.wait({receive, closed}, timeout=idle, return_when=asyncio.FIRST_COMPLETED)
                if receive not in done:
                    receive.cancel()
                    if not self._closed.is_set():
                        await self.close(CloseCode.TIMEOUT, f"idle: nothing received for {self.server.idle_timeout_seconds:g} s")
                    return
                try:
                    message = receive.result()
                except (WebSocketDisconnect, RuntimeError):  # the client vanished mid-receive
                    return
                if message["type"] == "websocket.disconnect":
                    return
                if message.get("bytes") is not None:
                    await self._on_audio(message["bytes"])
                elif message.get("text") is not None:
                    await self._on_text(message["text"])
        finally:
            closed.cancel()

    async def _wait_for_room(self) -> None:
        """Stop reading the socket while the stream cannot take more (backpressure streams, the compressed
        decoder's input); TCP then slows the client down."""
        while self.stream is not None and not self.stream.input.has_room() and not self._closed.is_set():
            await asyncio.sleep(_ROOM_POLL_SECONDS)

    async def _on_text(self, text: str) -> None:
        try:
            message = parse_message(text)
        except ProtocolError as exc:
            self._error(exc.code, exc.message)
            return
        kind = message["type"]
        if kind == "start":
            await self._start(message)
        elif kind == "stop":
            self._stop()
        elif kind == "hello":
            try:
                await self._be(parse_hello(message))
            except ProtocolError as exc:
                self._error(exc.code, exc.message)
        elif kind == "command_done":
            self._command_done(message)
        elif kind == "text":
            self._text(message)
        elif kind == "watch":
            await self._watch()
        elif kind == "cancel":
            await self._cancel(message)
        else:
            self._error("unknown_type", f"unknown message type {kind[:40]!r}; the client sends {list(MESSAGE_TYPES)} and binary audio")

    async def _on_audio(self, data: bytes) -> None:
        if self.stream is None or self.stream.stopping:
            self._error("not_started", 'audio before "start": send {"type": "start", "rate": 16000, "encoding": "pcm_s16le"} first')
            return
        self.stream.input.push(data)

    def _build_stream(self, request: StartRequest, on_finished: Callable[[], None]) -> Stream:
        """In a worker thread, once the connection is a device (so the models are loaded)."""
        state = self.state
        assert self.conversation is not None
        return Stream(
            request,
            state.config,
            self.emitter,
            state.metrics,
            on_finished,
            resources=state.resources.get(),
            feeders=state.feeders,
            output=self.output,
            conversation=self.conversation,
        )

    # -- the device --------------------------------------------------------------------------------

    async def _be(self, hello: Hello, *, ephemeral: bool = False) -> bool:
        """Make this connection device ``hello.device`` (once; the same id again updates its area)."""
        if self.conversation is not None:
            if hello.device != self.conversation.id:
                raise ProtocolError("already_device", f"this connection is device {self.conversation.id!r}; open another connection for {hello.device!r}")
            if hello.area is not None:  # through the registry, which tells the hub (the device is connected: never forgotten meanwhile)
                self.conversation.owner.device(hello.device, area=hello.area)
            return True
        try:
            resources = await asyncio.to_thread(self.state.resources.get)  # the first client waits for the models to load
        except AssistantError as exc:
            raise ProtocolError("stream_failed", f"cannot serve this device: {exc}") from None
        try:
            conversation = resources.conversations.device(hello.device, area=hello.area, ephemeral=ephemeral)
        except BadDevice as exc:
            raise ProtocolError("bad_device", str(exc)) from None
        except TooManyDevices as exc:
            raise ProtocolError("too_many_devices", str(exc)) from None
        self.output = WebSocketOutput(self.link, self.emitter) if resources.speaker is not None else None
        self.presence = Presence(self.emitter, resources.speaker, self.output, hello.skills)
        self.conversation = conversation
        if hello.skills:
            conversation.remote = self.presence
        conversation.attach(self.presence)
        _log.info("connection is device %s (area %s, skills %s)", hello.device, hello.area, sorted(hello.skills))
        return True

    def _leave(self) -> None:
        """The connection closed: the device is not connected through it any more (its conversation stays)."""
        conversation, presence = self.conversation, self.presence
        if conversation is None or presence is None:
            return
        if conversation.remote is presence:
            conversation.remote = None
        conversation.detach(presence)
        presence.close()
        conversation.owner.forget_idle()

    def _command_done(self, message: dict[str, Any]) -> None:
        try:
            done = parse_command_done(message)
        except ProtocolError as exc:
            self._error(exc.code, exc.message)
            return
        if self.presence is None or not self.presence.answered(done.id, done.reply, done.data):
            self._error("unknown_command", f"no command {done.id} is waiting for an answer (it timed out, or was never sent)")

    async def _start(self, message: dict[str, Any]) -> None:
        if self.stream is not None:
            if not self.stream.stopping:
                self._error("already_started", 'a stream is running: send {"type": "stop"} before starting another')
                return
            assert self._stream_done is not None
            await self._stream_done.wait()
        try:
            request = parse_start(message)
            if request.device is not None:
                await self._be(request.device)
            elif self.conversation is None:  # a client that never said which device it is: a device of its own
                await self._be(Hello(f"connection-{uuid.uuid4().hex[:12]}"), ephemeral=True)
        except ProtocolError as exc:
            self._error(exc.code, exc.message)
            return
        loop = asyncio.get_running_loop()
        done = asyncio.Event()
        try:
            stream = await asyncio.to_thread(self._build_stream, request, lambda: _notify(loop, done))
        except ProtocolError as exc:
            self._error(exc.code, exc.message)
            return
        except AssistantError as exc:
            self._error("stream_failed", f"cannot start the stream: {exc}")
            return
        except Exception as exc:  # a broken model or config must cost this client a stream, not the server
            _log.exception("building a stream failed")
            self._error("stream_failed", f"cannot start the stream: {type(exc).__name__}: {exc}")
            return
        self.stream, self._stream_done = stream, done
        assert self.conversation is not None
        to_hub = self.state.hub.stream_sink(stream.id, self.conversation)
        self.emitter.add_sink(to_hub)
        self.emitter.emit(stream.ready_event())
        stream.start()
        asyncio.create_task(self._forget_when_done(stream, done, to_hub))

    async def _forget_when_done(self, stream: Stream, done: asyncio.Event, to_hub: EventSink) -> None:
        await done.wait()  # set after the stream's `done` event went out, to the hub too
        self.emitter.remove_sink(to_hub)
        if self.stream is stream:
            self.stream = None

    def _stop(self) -> None:
        if self.stream is None or self.stream.stopping:
            self._error("not_started", 'no stream to stop: send {"type": "start", ...} first')
            return
        self.stream.stop()

    def _text(self, message: dict[str, Any]) -> None:
        try:
            text = parse_text(message)
        except ProtocolError as exc:
            self._error(exc.code, exc.message)
            return
        if self.stream is None or self.stream.stopping:
            self._error("not_started", 'typed commands go into a running stream: send {"type": "start", ...} first (it may send no audio)')
            return
        if not self.stream.hear(text):
            self._error("busy", "typed commands are already waiting for their turn; send the next when a reply comes")

    async def _watch(self) -> None:
        """From now on the client also gets what every device does (idempotent)."""
        if self._watching:
            return
        try:
            resources = await asyncio.to_thread(self.state.resources.get)  # the devices live with the models
        except AssistantError as exc:
            self._error("watch_failed", f"cannot watch the devices: {exc}")
            return
        if not self._watching:
            self._watching = True
            self.state.hub.watch(self.link.send_event, resources.conversations)

    async def _cancel(self, message: dict[str, Any]) -> None:
        """Cancel a device's timer or stop its alarms (the hub view's buttons); the change comes back as a
        ``device_status`` to every watcher."""
        try:
            cancel = parse_cancel(message)
            resources = await asyncio.to_thread(self.state.resources.get)
        except ProtocolError as exc:
            self._error(exc.code, exc.message)
            return
        except AssistantError as exc:
            self._error("cancel_failed", f"cannot reach the devices: {exc}")
            return
        conversation = resources.conversations.get(cancel.device)
        if conversation is None:
            self._error("unknown_device", f"no device {cancel.device!r} on this server (it may have been forgotten)")
            return
        if cancel.timer is None:
            if not conversation.stop():
                self._error("no_alarm", f"no alarm is ringing on device {cancel.device!r}")
            return
        try:  # in a thread: it waits for the plugin's lock if one of its commands is running
            cancelled = await asyncio.to_thread(conversation.cancel, cancel.timer)
        except PluginBusy as exc:
            self._error("busy", str(exc))
            return
        if not cancelled:
            self._error("unknown_timer", f"device {cancel.device!r} has no timer {cancel.timer} running (it rang, or was cancelled already)")

    def _error(self, code: str, message: str) -> None:
        _log.info("client error %s: %s", code, message)
        self.emitter.emit(Error(code=code, message=message))

    # -- sending -----------------------------------------------------------------------------------

    async def _send_loop(self) -> None:
        stall = self.server.stall_timeout_seconds
        while (item := await self.link.get()) is not None:
            if self.link.overflowed:
                await self.close(CloseCode.TIMEOUT, f"stalled: the client is not reading (over {_OUTBOX_BYTES // 2**20} MiB waiting)")
                return
            try:
                if isinstance(item.data, str):
                    await asyncio.wait_for(self.ws.send_text(item.data), stall)
                else:
                    await asyncio.wait_for(self.ws.send_bytes(item.data), stall)
            except TimeoutError:
                await self.close(CloseCode.TIMEOUT, f"stalled: the client read nothing for {stall:g} s")
                return
            except (WebSocketDisconnect, RuntimeError, OSError):
                return
            if item.on_sent is not None:
                item.on_sent()

    async def close(self, code: int, reason: str) -> None:
        if self._closed.is_set():
            return
        self._closed.set()
        if code != CloseCode.NORMAL:
            _log.info("closing connection: %d %s", code, reason)
        await _close(self.ws, code, reason)


def _notify(loop: asyncio.AbstractEventLoop, done: asyncio.Event) -> None:
    """Tell the connection its stream ended; a stream outliving a stopped server has nobody left to tell."""
    try:
        loop.call_soon_threadsafe(done.set)
    except RuntimeError:
        _log.debug("stream ended after the server's event loop closed")
