"""The state machine that wires the stages, one per audio stream.

    listening ──wake──▶ capturing (VAD + streaming recognizer) ──speech end──▶ responding
        ▲                    ▲                                                  │ understand, act,
        │                    └────────── a handler asked a question ───────────┤ synthesise, play
        └──────────────── reply played (+ echo tail) ──────────────────────────┘

``feed`` is called with every chunk, one at a time (the capture loop's
``audio.block_ms`` blocks, a file reader's or the server's 80 ms chunks, from
a recording's stream thread or one of the server's feeders for a live stream). It never waits for a
recognizer, a handler or the speaker: whisper reads on the process's shared
:class:`~assistant.asr.pool.RecognitionPool`, and a turn (waiting for the
transcript, intent, handler, synthesis, playback) runs on the pipeline's own
turn thread while ``feed`` keeps consuming audio, so a
microphone queue never overflows during a reply and the wake word can barge
in. With ``synchronous=True`` (files) ``feed`` waits for each turn instead, so
what follows a command in a file is heard after the reply, as a person would.

Our own voice must not trigger us: while a reply plays, and ``echo_tail``
after it, audio only goes to the wake detector for barge-in (and not at all if
the reply itself contains the wake word), and the wake model is reset before
listening again because its buffers hold our reply.

The pipeline hears one device (:class:`~assistant.conversations.Conversation`):
what it hears is that device's turn, and while it lives it is where the
device's announcements and alarms are spoken (an ``Outlet``: :meth:`say`,
:meth:`hush`, :meth:`alarm`). While an alarm rings or a reply is spoken, a
:class:`~assistant.stop.StopListener` hears "stop" without the wake word.

A command typed instead of spoken (:meth:`hear`, the page's text box) waits,
like an announcement, for the pipeline to listen, and then runs the turn its
transcript would: the same understanding, reply and voice as speech. A client
that sends no audio at all gets it through :meth:`idle`.
"""

from __future__ import annotations

import enum
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from assistant.asr.base import Recognizer, Transcription
from assistant.asr.pool import RecognitionPool
from assistant.asr.stream import CommandRecognizer
from assistant.audio.convert import SAMPLE_RATE
from assistant.audio.playback import AudioOutput
from assistant.audio.processing import AudioProcessor
from assistant.audio.ring import RingBuffer
from assistant.audio.source import AudioSource
from assistant.chimes import Chime, chime
from assistant.events import Activity, AlarmState, EventEmitter, State, Stopped, Transcript, Wake
from assistant.reply import speak
from assistant.stop import StopListener
from assistant.tts import Speaker
from assistant.turn_taking import TurnTaking
from assistant.vad import Endpointer
from assistant.wake import WakeDetector

if TYPE_CHECKING:
    from assistant.conversations import Conversation

_log = logging.getLogger(__name__)

_WAKE_LOOKBACK = int(0.3 * SAMPLE_RATE)
"""The wake model grows confident anywhere from 0.1 s before to 0.3 s after the word ends."""
NOT_HEARD = "Sorry, I didn't catch that."
MAX_TYPED = 4
"""Typed commands that may wait for their turn (see :meth:`Pipeline.hear`)."""


class Phase(enum.Enum):
    """Where the pipeline is; entering listening or capturing says so as that :class:`Activity`, and a
    turn (responding) says ``understanding`` and ``speaking`` as it gets to them."""

    LISTENING = Activity.LISTENING.value
    CAPTURING = Activity.CAPTURING.value
    RESPONDING = "responding"


@dataclass
class _Announcement:
    text: str
    chime: bool
    listen: bool
    played: Future[bool] = field(default_factory=Future)


@dataclass(frozen=True)
class SoundPolicy:
    """How the pipeline treats its own sound (``feedback`` in the config): whether it chimes, whether the
    wake word may interrupt a reply, and how long after playing it stays deaf to its own echo."""

    chimes: bool = True
    barge_in: bool = True
    echo_tail_seconds: float = 0.3


class Pipeline:
    def __init__(
        self,
        *,
        emitter: EventEmitter,
        endpointer: Endpointer,
        wake: WakeDetector | None,
        recognizer: Recognizer | None = None,
        conversation: Conversation | None = None,
        stop: StopListener | None = None,
        speaker: Speaker | None = None,
        output: AudioOutput | None = None,
        sound: SoundPolicy = SoundPolicy(),
        buffer_seconds: float = 1.5,
        synchronous: bool = False,
        turn_taking: TurnTaking | None = None,
        processor: AudioProcessor | None = None,
        recognition: RecognitionPool | None = None,
    ) -> None:
        self.emitter = emitter
        self.processor = processor
        """The audio front end (noise suppression, gain): every chunk passes it once, and the endpointer, the
        recognizer and the replay buffer hear its output. The wake word hears the microphone as it is: on the
        wake-dev clips in kitchen noise every suppression level cost microWakeWord detections and added false
        accepts (README "In kitchen noise", ``bench/bench_frontend.py --wake``)."""
        self.endpointer = endpointer
        self.wake = wake
        # ``recognition``: where the commands' readings run; None reads them at once (files)
        self.commands = CommandRecognizer(endpointer, recognizer, emitter, turn_taking=turn_taking, pool=recognition)
        self.conversation = conversation
        self.stop = stop
        self.speaker = speaker
        self.output = output
        self.sound = sound
        self.synchronous = synchronous
        self.live = not synchronous and output is not None
        """An alarm keeps ringing here until "stop" (a file run, or text without a voice, has it once)."""
        self._announcements: queue.SimpleQueue[_Announcement] = queue.SimpleQueue()
        self._typed: queue.Queue[str] = queue.Queue(MAX_TYPED)
        self._outlet_lock = threading.Lock()
        self._closed = False
        self._stop_listening = False
        self._ring = RingBuffer(int(buffer_seconds * SAMPLE_RATE))
        self._pos = 0
        self._quiet_until = 0
        self._turns = ThreadPoolExecutor(max_workers=1, thread_name_prefix="turn")
        self._turn: Future[bool] | None = None
        self._speaking = threading.Event()
        self._played = False
        """The turn in flight played audio: its echo tail follows (see :meth:`_turn_done`)."""
        self._barge_in_allowed = False
        self._follow_up = False
        self.phase = Phase.LISTENING
        if conversation is not None:
            conversation.attach(self)

    @property
    def position(self) -> int:
        """Samples of the stream consumed so far."""
        return self._pos

    def run(self, source: AudioSource) -> None:
        """Process a whole source; returns when it ends (files) or is closed (live inputs)."""
        self.begin()
        for chunk in source.frames():
            self.feed(chunk)
        self.finish()

    def begin(self) -> None:
        """Say the pipeline listens, before the first :meth:`feed` (for a caller that feeds it chunk by chunk)."""
        self._set_phase(Phase.LISTENING)

    def feed(self, chunk: np.ndarray) -> None:
        raw = chunk
        if self.processor is not None:
            chunk = self.processor.process(chunk)
        start = self._pos
        self._ring.write(chunk)
        self._pos += len(chunk)
        if self.phase is Phase.RESPONDING:
            self._respond_step(chunk, raw)
        elif self.phase is Phase.CAPTURING:
            if self.commands.feed(chunk):
                self._command_ended()
        elif self._pos > self._quiet_until:
            self._listen_step(start, chunk, raw)

    def finish(self) -> None:
        """The input ended: close the command in progress and let the turn in flight complete, then those of
        commands typed before the end."""
        if self.phase is Phase.CAPTURING:
            self.commands.finish()
            self._command_ended()
        while True:
            if self._turn is not None:
                self._turn.result()
                self._turn_done()
            if self._typed.empty():
                return
            self._serve_waiting()

    def linger(self, limit: float) -> None:
        """After the input ended, stay for announcements due within ``limit`` seconds (a file that set a timer)."""
        if self.conversation is None:
            return
        while True:
            due = self.conversation.next_due()
            if (due is None or due > limit) and not self.conversation.delivering and self._announcements.empty():
                return
            try:
                item = self._announcements.get(timeout=min(due if due is not None else 0.0, limit) + 1.0)
            except queue.Empty:
                continue
            self._turns.submit(self._announce, item).result()

    # -- the device's outlet (see assistant.conversations.Outlet) ----------------------------------

    def say(self, text: str, *, chime: bool = False, listen: bool = False) -> Future[bool]:
        """Speak ``text`` (an announcement) at the next moment the pipeline is listening; any thread."""
        item = _Announcement(text, chime, listen)
        with self._outlet_lock:
            if self._closed:
                item.played.set_result(False)  # the device's next outlet says it
            else:
                self._announcements.put(item)
        return item.played

    def hush(self) -> None:
        if self.output is not None:
            self.output.stop()

    def alarm(self, ringing: bool, text: str) -> None:
        self.emitter.emit(AlarmState(ringing=ringing, text=text))

    def hear(self, text: str) -> bool:
        """A command typed instead of spoken (any thread): the turn a transcript would start, at the next moment
        the pipeline listens. False when :data:`MAX_TYPED` already wait."""
        try:
            self._typed.put_nowait(text)
        except queue.Full:
            return False
        return True

    def idle(self) -> None:
        """No audio is coming (a client that only types), on the thread that calls ``feed``: end a turn that has
        finished, and serve a typed command or an announcement that waits."""
        if self.phase is Phase.RESPONDING and self._turn is not None and self._turn.done():
            self._turn_done()
        if self.phase is Phase.LISTENING:
            self._serve_waiting()

    def close(self) -> None:
        if self.conversation is not None:
            self.conversation.detach(self)
        if self.output is not None:
            self.output.stop()
        self._turns.shutdown(wait=True, cancel_futures=True)
        with self._outlet_lock:
            self._closed = True
            while not self._announcements.empty():  # never said here: the device's next outlet says it
                self._announcements.get().played.set_result(False)
        self.commands.close()
        if self.wake is not None:
            self.wake.close()  # its native model state, now rather than whenever the collector runs
        if self.processor is not None:
            self.processor.close()

    # -- listening --------------------------------------------------------------------------

    def _listen_step(self, start: int, chunk: np.ndarray, raw: np.ndarray) -> None:
        """``chunk`` through the front end, ``raw`` as the microphone gave it (for the wake word)."""
        if self._serve_waiting():
            return
        ringing = self.conversation is not None and self.conversation.ringing
        if self._stop_heard(chunk, ringing):
            self.conversation.stop()
            self.emitter.emit(Stopped(what="alarm"))
            return
        if ringing and self.wake is None:
            return  # no wake word to wait for: while the alarm rings only "stop" is heard
        if self.wake is None or self._follow_up:
            self._follow_up = False
            self._begin_capture(start, chunk)
            return
        detection = self.wake.process(raw)
        if detection is None:
            self.endpointer.observe(chunk)
            return
        self._woken(detection.model, detection.score, detection.onset_samples_ago)

    def _serve_waiting(self) -> bool:
        """Start the turn of an announcement or else a typed command, if one waits."""
        if not self._announcements.empty():
            self._start_turn(self._announce, self._announcements.get())
        elif not self._typed.empty():
            text = self._typed.get()
            self._follow_up = False  # a typed answer to a question replaces the spoken one
            self.emitter.emit(Transcript(text=text))
            self._start_turn(self._respond, Transcription(text, None))
        else:
            return False
        return True

    def _woken(self, model: str, score: float, onset_samples_ago: int) -> None:
        self.emitter.emit(Wake(model=model, score=round(score, 4), audio_t=self._pos / SAMPLE_RATE))
        self._chime("wake")
        replay = max(self._pos - onset_samples_ago - _WAKE_LOOKBACK, self._pos - self._ring.capacity)
        self._begin_capture(replay, self._ring.since(replay), after_wake=True)

    def _begin_capture(self, position: int, audio: np.ndarray, after_wake: bool = False) -> None:
        self._set_phase(Phase.CAPTURING)
        if self.commands.begin(position, audio, after_wake=after_wake):
            self._command_ended()

    # -- after the command ------------------------------------------------------------------

    def _command_ended(self) -> None:
        if self.commands.heard is None:  # nobody spoke after the wake word (or a follow-up question)
            if self.conversation is not None:
                self.conversation.cancel_follow_up()
            self._chime("error")
            self._listen_again()
        elif self.conversation is None or self.commands.recognizer is None:
            self._listen_again()  # bounding commands only (no recognizer): nothing to understand
        else:  # its transcript may still be being read: the turn thread waits for it, the audio path does not
            self._start_turn(self._answer)

    def _start_turn(self, work: Callable[..., bool], *args: object) -> None:
        self._set_phase(Phase.RESPONDING)
        self._played = False
        self._turn = self._turns.submit(work, *args)
        if self.synchronous:
            self._turn.result()
            self._turn_done()

    def _respond_step(self, chunk: np.ndarray, raw: np.ndarray) -> None:
        if self._turn is not None and self._turn.done():
            self._turn_done()
            return
        ringing = self.conversation is not None and self.conversation.ringing
        if self._stop_heard(chunk, ringing or self._speaking.is_set()):
            what = "alarm" if self.conversation.stop() else "reply"
            self.hush()  # the rest of the reply is left unsaid; the turn then ends as after a barge-in
            self.emitter.emit(Stopped(what=what))
            return
        if self._speaking.is_set() and self._barge_in_allowed:
            detection = self.wake.process(raw)
            if detection is not None:
                self.output.stop()
                self._turn.result()  # playback stops at once; the turn then reports speak_end
                self._turn = None
                self._woken(detection.model, detection.score, detection.onset_samples_ago)

    def _turn_done(self) -> None:
        follow_up = self._turn.result()
        self._turn = None
        echo = self._played and not self.synchronous
        self._quiet_until = self._pos + int(self.sound.echo_tail_seconds * SAMPLE_RATE) if echo else self._pos
        self._listen_again(follow_up)

    def _listen_again(self, follow_up: bool = False) -> None:
        if self.wake is not None:
            self.wake.reset()  # its buffers hold the wake word, or our own reply
        self._follow_up = follow_up
        self._set_phase(Phase.LISTENING)

    # -- the turn thread --------------------------------------------------------------------

    def _answer(self) -> bool:
        """The spoken command's turn: wait for its transcript, then act on it (or say it was not caught)."""
        heard = self.commands.result()
        if heard.text:
            return self._respond(heard)
        if self.wake is not None:
            return self._speak(NOT_HEARD)
        return False  # without a wake word, noise the recognizer made nothing of is not a command

    def _respond(self, heard: Transcription) -> bool:
        """Understand and act on what was heard, say the reply; returns whether a follow-up answer is expected."""
        self.emitter.emit(State(state=Activity.UNDERSTANDING))
        turn = self.conversation.respond(heard.text, [a.text for a in heard.alternatives])
        for event in turn.events():
            self.emitter.emit(event)
        self._speak(turn.reply, turn.data)
        return turn.follow_up

    def _speak(self, text: str, data: dict | None = None) -> bool:
        def allow_barge_in() -> None:
            self._barge_in_allowed = self.sound.barge_in and self.wake is not None and not _says_wake_word(text, self.wake.names)

        playback = speak(
            text,
            emitter=self.emitter,
            speaker=self.speaker,
            output=self.output,
            data=data,
            before_play=allow_barge_in,
            playing=self._playing,
        )
        if playback is None and self.speaker is not None and self.output is not None:
            self._chime("error")
        return False

    def _announce(self, item: _Announcement) -> bool:
        """Say an announcement (after the alarm chime, played whole); returns whether to listen for an answer."""
        try:
            if item.chime and self.output is not None:
                ring = self.output.play(chime("alarm"))
                ring.wait(timeout=ring.duration + 5.0)
            self._speak(item.text)
        finally:
            item.played.set_result(True)
        return item.listen

    def _stop_heard(self, chunk: np.ndarray, active: bool) -> bool:
        """While ``active`` (an alarm rings, a reply plays): whether this chunk completed a "stop"."""
        if self.stop is None:
            return False
        if not active:
            if self._stop_listening:
                self.stop.reset()
                self._stop_listening = False
            return False
        self._stop_listening = True
        return self.stop.feed(chunk)

    def _playing(self, on: bool) -> None:
        if on:
            self._played = True
            self._speaking.set()
            self.emitter.emit(State(state=Activity.SPEAKING))
        else:
            self._speaking.clear()

    def _chime(self, kind: Chime) -> None:
        if self.sound.chimes and self.output is not None:
            self.output.play(chime(kind))

    def _set_phase(self, phase: Phase) -> None:
        self.phase = phase
        if phase is not Phase.RESPONDING:
            self.emitter.emit(State(state=Activity(phase.value)))


def _says_wake_word(text: str, models: list[str]) -> bool:
    """A reply that says our wake word ("say hey jarvis to ...") would barge in on itself."""
    words = set(text.lower().replace(",", " ").replace(".", " ").split())
    return any(name.split("_")[-1] in words for name in models)
