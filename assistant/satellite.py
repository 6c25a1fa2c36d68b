"""A satellite: a microphone (a Pi in the kitchen) streaming to a hub running ``assistant serve``.

The hub runs the whole pipeline; the satellite captures, streams, and plays the
hub's reply audio on its own speaker. Two wake modes:

- ``hub``: every frame streams to the hub, which listens for the wake word
  (the satellite needs no models at all).
- ``local``: the satellite listens for the wake word itself and streams only
  turns: when it fires, one stream with the last :data:`LOOKBACK_SECONDS` of
  audio (the wake word and the quiet before it) and then the live command,
  ended by the hub's ``speech_end`` or ``no_speech``. The hub runs its usual
  pipeline on it, wake word included: it confirms the wake word (a false
  local trigger is dropped after :data:`CONFIRM_SECONDS`) and finds where the
  command starts after it exactly as for any stream. Nothing else leaves the
  room.

The satellite is a device of the hub (``hello``: its id, area and skills), so
the timers set here ring here, also between turns. While an alarm rings the
hub says so (``alarm``) and a local-wake satellite streams until it stops, so
"stop" needs no wake word; a question from the hub (``listen``) gets one turn
without the wake word. Commands of the plugins in ``skills`` ("pause the music
in the living room", said anywhere) come as ``command`` and are carried out
here (:mod:`assistant.local_skills`).

When the hub goes away (restart, network) the satellite reconnects with
exponential backoff and carries on; audio captured meanwhile is dropped, never
queued up. A refused token is final: retrying cannot fix it.

Threads: the capture thread pulls frames from the source (and, in local mode,
runs the wake model); everything else happens on one asyncio loop, which the
capture thread reaches only through ``call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import collections
import enum
import json
import logging
import ssl
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from assistant.audio.convert import SAMPLE_RATE
from assistant.audio.source import CHUNK_SECONDS, AudioSource
from assistant.errors import AssistantError
from assistant.server.protocol import PATH, CloseCode

if TYPE_CHECKING:
    from assistant.audio.playback import AudioOutput, Playback
    from assistant.local_skills import LocalSkills
    from assistant.wake import WakeDetector

_log = logging.getLogger(__name__)

MessageSink = Callable[[dict[str, Any]], None]

_QUEUE_SECONDS = 3.0
"""Audio waiting to be sent before the newest frames are dropped (a slow link must not build up delay)."""

LOOKBACK_SECONDS = 2.0
"""Local wake mode: audio sent from before the wake word fired, so the hub's wake model hears all of it."""

CONFIRM_SECONDS = 1.5
"""Local wake mode: a turn the hub has not confirmed with its own ``wake`` this long after the lookback ends is dropped."""

MAX_TURN_SECONDS = 20.0
"""Local wake mode: a turn is ended after this long whatever the hub says (a lost ``speech_end``)."""


class HubRefused(AssistantError):
    """The hub closed the connection for a reason retrying cannot fix (wrong token)."""

    exit_code = 2


class _Turn(enum.Enum):
    IDLE = "idle"
    """Local mode: listening for the wake word here."""
    STREAMING = "streaming"
    """Sending audio to the hub."""
    FINISHING = "finishing"
    """Sent ``stop``; waiting for the hub's ``done``."""


class _Why(enum.Enum):
    """Local mode: what opened the turn being streamed."""

    WAKE = "wake"
    """The wake word, heard here (the hub confirms it)."""
    QUESTION = "question"
    """The hub asked something (``listen``): one command, no wake word."""
    ALARM = "alarm"
    """An alarm rings: stream until it stops, so the hub hears "stop"."""


def stream_url(server: str) -> str:
    """``ws://host:port`` → ``ws://host:port/v1/stream`` (a full URL is kept as given)."""
    base = server.rstrip("/")
    return base if base.endswith(PATH) else base + PATH


class Satellite:
    def __init__(
        self,
        server: str,
        source: AudioSource,
        *,
        token: str | None = None,
        wake: WakeDetector | None = None,
        output: AudioOutput | None = None,
        on_message: MessageSink | None = None,
        ssl_context: ssl.SSLContext | None = None,
        reconnect_min: float = 0.5,
        reconnect_max: float = 10.0,
        echo_tail: float = 0.3,
        device: str | None = None,
        area: str | None = None,
        skills: LocalSkills | None = None,
    ) -> None:
        """``wake``: a detector means local wake mode; None streams everything to the hub.
        ``device``/``area``: who this is on the hub (None: a device of this connection only).

        The satellite owns the detector: its capture thread, the only one that uses it, closes it when the input ends.
        """
        self.url = stream_url(server)
        self.source = source
        self.token = token
        self.wake = wake
        self.output = output
        self.on_message = on_message
        self.ssl_context = ssl_context
        self.reconnect_min = reconnect_min
        self.reconnect_max = reconnect_max
        self.echo_tail = echo_tail
        self.device = device
        self.area = area
        self.skills = skills
        self.connections = 0
        """Successful connections so far (1 + reconnections)."""
        self.dropped_frames = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._outgoing: asyncio.Queue[bytes | str] | None = None
        self._ws = None
        self._turn = _Turn.STREAMING if wake is None else _Turn.IDLE
        self._why = _Why.WAKE
        self._wanted: _Why | None = None
        """Local mode: a turn the hub asked for, opened once the satellite is idle and not playing."""
        self._ringing = False
        self._turn_began = 0.0
        self._confirmed = False
        self._recent: collections.deque[bytes] = collections.deque(maxlen=max(1, round(LOOKBACK_SECONDS / CHUNK_SECONDS)))
        self._reset_wake = False
        self._source_ended = False
        self._finished: asyncio.Event | None = None
        self._closing = False
        self._playback: Playback | None = None
        self._muted_until = 0.0
        self._reply: dict[str, Any] | None = None
        self._reply_data = bytearray()

    # -- public ------------------------------------------------------------------------------------

    def run(self) -> None:
        """Stream until the source ends (files) or :meth:`close` is called; raises :class:`HubRefused`."""
        asyncio.run(self._main())

    def close(self) -> None:
        """Stop from any thread: the source is closed and the loop ends after telling the hub."""
        self._closing = True
        self.source.close()

    # -- the loop ----------------------------------------------------------------------------------

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._outgoing = asyncio.Queue(maxsize=max(1, round(_QUEUE_SECONDS / CHUNK_SECONDS)))
        self._finished = asyncio.Event()
        capture = threading.Thread(target=self._capture, name="satellite-capture", daemon=True)
        capture.start()
        delay = self.reconnect_min
        try:
            while not self._finished.is_set() and not self._source_ended:
                began = time.monotonic()
                try:
                    await self._connect_and_stream()
                except HubRefused:
                    raise
                except (OSError, TimeoutError, _websockets().exceptions.WebSocketException) as exc:
                    _log.warning("hub %s: %s; retrying in %.1f s", self.url, exc or type(exc).__name__, delay)
                if self._finished.is_set():
                    break
                if time.monotonic() - began > self.reconnect_max:
                    delay = self.reconnect_min  # it was up for a while: this is a fresh outage
                await self._sleep_unless_finished(delay)
                delay = min(delay * 2, self.reconnect_max)
        finally:
            self.source.close()
            if self.output is not None:
                self.output.stop()

    async def _sleep_unless_finished(self, seconds: float) -> None:
        assert self._finished is not None
        try:
            await asyncio.wait_for(self._finished.wait(), seconds)
        except TimeoutError:
            pass

    async def _connect_and_stream(self) -> None:
        websockets = _websockets()
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        async with websockets.connect(self.url, additional_headers=headers, ssl=self.ssl_context, open_timeout=5, max_size=None) as ws:
            self._ws = ws
            self.connections += 1
            _log.info("connected to %s", self.url)
            assert self._outgoing is not None
            while not self._outgoing.empty():  # audio from before the outage is stale
                self._outgoing.get_nowait()
            self._ringing, self._wanted = False, None
            self._turn = _Turn.STREAMING if self.wake is None else _Turn.IDLE
            try:
                if self.device is not None:
                    await ws.send(self._hello_message())
                if self.wake is None:
                    await ws.send(self._start_message())
            except websockets.exceptions.ConnectionClosed:
                pass  # refused at once (a wrong token): the close code below says why
            sender = asyncio.create_task(self._send(ws))
            closer = asyncio.create_task(self._close_when_finished(ws))
            try:
                async for message in ws:
                    await self._on_message(message)
            except websockets.exceptions.ConnectionClosed:
                pass
            finally:
                sender.cancel()
                closer.cancel()
                self._ws = None
            if ws.close_code == CloseCode.UNAUTHORIZED:
                raise HubRefused(f"the hub {self.url} refused the token ({ws.close_reason}); set satellite.token (--token) to the hub's server.token")
            if not self._finished.is_set():
                raise ConnectionError(f"the hub closed the connection ({ws.close_code} {ws.close_reason or 'no reason'})".strip())

    async def _close_when_finished(self, ws) -> None:
        assert self._finished is not None
        await self._finished.wait()
        await ws.close()

    @staticmethod
    def _start_message(wake: bool = True) -> str:
        return json.dumps({"type": "start", "rate": SAMPLE_RATE, "encoding": "pcm_s16le", "wake": wake})

    def _hello_message(self) -> str:
        skills = sorted(self.skills.names) if self.skills is not None else []
        return json.dumps({"type": "hello", "device": self.device, "area": self.area, "skills": skills})

    async def _send(self, ws) -> None:
        assert self._outgoing is not None
        while True:
            await ws.send(await self._outgoing.get())

    def _enqueue(self, message: bytes | str) -> None:
        assert self._outgoing is not None
        if self._ws is None:
            self.dropped_frames += isinstance(message, bytes)
            return
        try:
            self._outgoing.put_nowait(message)
        except asyncio.QueueFull:
            self.dropped_frames += 1

    # -- from the hub ------------------------------------------------------------------------------

    async def _on_message(self, message: str | bytes) -> None:
        if isinstance(message, bytes):
            self._reply_audio(message)
            return
        event = json.loads(message)
        if self.on_message is not None:
            self.on_message(event)
        kind = event.get("type")
        if kind == "reply_audio":
            self._reply, self._reply_data = event, bytearray()
        elif kind == "reply_audio_stop" and self.output is not None:
            self.output.stop()
        elif kind == "wake":
            self._confirmed = True
        elif kind in ("speech_end", "no_speech") and self.wake is not None and self._turn is _Turn.STREAMING and self._why is not _Why.ALARM:
            self._end_turn()
        elif kind == "done":
            self._on_done()
        elif kind == "alarm":
            self._on_alarm(bool(event.get("ringing")))
        elif kind == "listen" and self.wake is not None:
            self._wanted = _Why.QUESTION
        elif kind == "command":
            self._carry_out(event)

    def _reply_audio(self, data: bytes) -> None:
        if self._reply is None:
            return
        self._reply_data += data
        if len(self._reply_data) < self._reply["bytes"]:
            return
        audio = np.frombuffer(bytes(self._reply_data[: self._reply["bytes"]]), dtype="<i2").astype(np.int16)
        rate = int(self._reply["rate"])
        self._reply, self._reply_data = None, bytearray()
        if self.output is not None:
            self._playback = self.output.play(audio, rate)
        self._muted_until = time.monotonic() + len(audio) / rate + self.echo_tail

    def _on_done(self) -> None:
        assert self._finished is not None
        if self._source_ended:
            self._finished.set()
        elif self.wake is not None:
            self._turn = _Turn.IDLE
            if self._ringing:  # it started ringing during the turn
                self._wanted = _Why.ALARM

    def _on_alarm(self, ringing: bool) -> None:
        self._ringing = ringing
        if self.wake is None:
            return  # everything streams already: the hub hears "stop"
        if ringing and self._turn is _Turn.IDLE:
            self._wanted = _Why.ALARM
        elif not ringing:
            if self._wanted is _Why.ALARM:
                self._wanted = None
            if self._turn is _Turn.STREAMING and self._why is _Why.ALARM:
                self._end_turn()

    def _carry_out(self, event: dict[str, Any]) -> None:
        """A command of one of this satellite's skills: run it off the loop, answer with ``command_done``."""
        ident = event.get("id")
        if self.skills is None:
            self._enqueue(json.dumps({"type": "command_done", "id": ident, "reply": "Sorry, I can't do that here."}))
            return
        assert self._loop is not None
        loop, skills = self._loop, self.skills

        def work() -> None:
            turn = skills.carry_out(str(event.get("intent")), event.get("slots") or {}, str(event.get("text", "")))
            answer = json.dumps({"type": "command_done", "id": ident, "reply": turn.reply, "data": turn.data}, default=str)
            try:
                loop.call_soon_threadsafe(self._enqueue, answer)
            except RuntimeError:  # the satellite stopped meanwhile
                pass

        threading.Thread(target=work, name="skill", daemon=True).start()

    # -- from the capture thread -------------------------------------------------------------------

    def _capture(self) -> None:
        assert self._loop is not None
        loop = self._loop
        try:
            for chunk in self.source.frames():
                fired = self._listen_locally(chunk)
                loop.call_soon_threadsafe(self._on_chunk, chunk, fired)
        except Exception as exc:  # a dead microphone must end the satellite with a reason, not hang it
            _log.error("audio input failed: %s", exc)
        finally:
            if self.wake is not None:
                self.wake.close()
            try:
                loop.call_soon_threadsafe(self._on_source_end)
            except RuntimeError:  # the loop already ended
                pass

    def _listen_locally(self, chunk: np.ndarray) -> bool:
        """Local wake mode, on the capture thread: does the wake word end in this chunk?"""
        if self.wake is None or self._turn is not _Turn.IDLE:
            return False
        if self._reset_wake:
            self._reset_wake = False
            self.wake.reset()
        if time.monotonic() < self._muted_until:  # our own reply must not wake us
            return False
        return self.wake.process(chunk) is not None

    def _on_chunk(self, chunk: np.ndarray, fired: bool) -> None:
        data = chunk.astype("<i2", copy=False).tobytes()
        if self._turn is _Turn.IDLE:
            self._recent.append(data)
            if self._ws is None:
                return
            if fired:
                self._begin_turn(_Why.WAKE)
            elif self._wanted is _Why.ALARM or (self._wanted is _Why.QUESTION and time.monotonic() >= self._muted_until):
                self._begin_turn(self._wanted)  # a question is answered once it was heard; an alarm is stopped while it rings
            return
        if self._turn is not _Turn.STREAMING:
            return
        self._enqueue(data)
        if self.wake is not None and self._why is not _Why.ALARM:
            age = time.monotonic() - self._turn_began
            if (not self._confirmed and age > CONFIRM_SECONDS) or age > MAX_TURN_SECONDS:
                _log.info("the hub did not confirm the wake word" if not self._confirmed else "the turn went on too long")
                self._end_turn()

    def _begin_turn(self, why: _Why) -> None:
        """Local mode: open a stream; after the wake word, with the audio that led up to it."""
        _log.info("%s: streaming to the hub", {"wake": "wake word", "question": "the hub asked a question", "alarm": "an alarm rings"}[why.value])
        self._turn, self._why, self._wanted = _Turn.STREAMING, why, None
        self._turn_began, self._confirmed = time.monotonic(), why is not _Why.WAKE
        if why is _Why.WAKE and self.output is not None:
            self.output.stop()  # the user talks over a reply: stop it
        self._enqueue(self._start_message(wake=why is _Why.WAKE))
        if why is _Why.WAKE:
            while self._recent:
                self._enqueue(self._recent.popleft())
        self._recent.clear()

    def _end_turn(self) -> None:
        self._turn = _Turn.FINISHING
        self._enqueue(json.dumps({"type": "stop"}))
        self._reset_wake = True  # done by the capture thread, which owns the detector

    def _on_source_end(self) -> None:
        assert self._finished is not None
        self._source_ended = True
        if self._closing or self._ws is None or self._turn is _Turn.IDLE:
            self._finished.set()
        elif self._turn is _Turn.STREAMING:
            self._end_turn()


def _websockets():
    try:
        import websockets
        import websockets.asyncio.client  # noqa: F401
    except ImportError:
        raise AssistantError("the satellite needs the websockets package: pip install websockets") from None
    return websockets
