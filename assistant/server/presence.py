"""A WebSocket connection as its device's way in, whether a stream is open or not.

A satellite that listens for its own wake word opens a stream only for a turn;
between turns its timers must still ring there. So the connection itself is an
outlet of the device (see :class:`~assistant.conversations.Outlet`): it
synthesises announcements and sends them as reply audio, tells the client when
an alarm rings (it then streams so "stop" is heard) and when a question wants
an answer (``listen``), and, for a device that declared ``skills``, sends it
the commands of those plugins and waits for its ``command_done``
(:class:`~assistant.conversations.Remote`). While a stream is open its
pipeline is the device's outlet instead (attached on top), and this one waits.
"""

from __future__ import annotations

import itertools
import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from assistant.audio.playback import AudioOutput
from assistant.chimes import chime
from assistant.events import AlarmState, Command, EventEmitter, Listen
from assistant.intents.engine import IntentMatch
from assistant.reply import speak
from assistant.tts import Speaker

_log = logging.getLogger(__name__)

MAX_COMMANDS = 16
"""Commands sent to the device and not answered yet; more fail at once (a device that never answers)."""


class DeviceConnectionGone(ConnectionError):
    """The device's connection closed before it answered."""


class Presence:
    """One connection's side of its device: an Outlet, and a Remote when ``skills`` is not empty."""

    def __init__(self, emitter: EventEmitter, speaker: Speaker | None, output: AudioOutput | None, skills: frozenset[str] = frozenset()) -> None:
        self.skills = skills
        self.live = speaker is not None and output is not None
        """Heard by someone who can say "stop" (a server without a voice sends the text once)."""
        self._emitter = emitter
        self._speaker = speaker
        self._output = output
        self._voice = ThreadPoolExecutor(max_workers=1, thread_name_prefix="announce")
        self._ids = itertools.count(1)
        self._waiting: dict[int, Future[tuple[str, dict[str, Any] | None]]] = {}
        self._unsaid: set[Future[bool]] = set()
        self._lock = threading.Lock()
        self._closed = False

    # -- Outlet ------------------------------------------------------------------------------------

    def say(self, text: str, *, chime: bool = False, listen: bool = False) -> Future[bool]:
        played: Future[bool] = Future()
        with self._lock:
            if self._closed:
                played.set_result(False)  # the device's next outlet says it
                return played
            self._unsaid.add(played)
            self._voice.submit(self._say, text, chime, listen, played)
        return played

    def hush(self) -> None:
        if self._output is not None:
            self._output.stop()

    def alarm(self, ringing: bool, text: str) -> None:
        self._emitter.emit(AlarmState(ringing=ringing, text=text))

    def _say(self, text: str, ring: bool, listen: bool, played: Future[bool]) -> None:
        with self._lock:
            if self._closed:
                return
            self._unsaid.discard(played)
        try:
            if ring and self._output is not None:
                sound = self._output.play(chime("alarm"))
                sound.wait(timeout=sound.duration + 5.0)
            speak(text, emitter=self._emitter, speaker=self._speaker, output=self._output)
            if listen:
                self._emitter.emit(Listen())
        finally:
            played.set_result(True)

    # -- Remote ------------------------------------------------------------------------------------

    def carry_out(self, match: IntentMatch) -> Future[tuple[str, dict[str, Any] | None]]:
        answer: Future[tuple[str, dict[str, Any] | None]] = Future()
        with self._lock:
            if self._closed or len(self._waiting) >= MAX_COMMANDS:
                answer.set_exception(DeviceConnectionGone("the device's connection is closed" if self._closed else f"{MAX_COMMANDS} commands are waiting for the device already"))
                return answer
            ident = next(self._ids)
            self._waiting[ident] = answer
        answer.add_done_callback(lambda _: self._forget(ident))
        self._emitter.emit(Command(id=ident, intent=match.name, slots=match.slots, text=match.text))
        return answer

    def answered(self, ident: int, reply: str, data: dict[str, Any] | None) -> bool:
        """The device's ``command_done``; False when no such command waits (late, or never sent)."""
        with self._lock:
            answer = self._waiting.pop(ident, None)
        if answer is None:
            return False
        answer.set_result((reply, data))
        return True

    def _forget(self, ident: int) -> None:
        """A command given up on (timed out) must not be remembered for ever."""
        with self._lock:
            self._waiting.pop(ident, None)

    def close(self) -> None:
        """The connection closed: commands in flight fail, announcements not yet said go to the next outlet."""
        with self._lock:
            self._closed = True
            waiting, self._waiting = list(self._waiting.values()), {}
            unsaid, self._unsaid = list(self._unsaid), set()
        for played in unsaid:
            played.set_result(False)
        for answer in waiting:
            if not answer.done():
                answer.set_exception(DeviceConnectionGone("the device's connection closed before it answered"))
        self._voice.shutdown(wait=False, cancel_futures=True)
