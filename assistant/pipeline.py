"""The state machine that wires the stages: source → wake → VAD → (recognizer → intents → speaker).

One ``Pipeline`` per audio stream (the microphone, a file, one WebSocket
connection). ``feed`` is called with each 80 ms chunk from one worker thread;
stages report through the shared :class:`EventEmitter`.
"""

from __future__ import annotations

import enum
import logging

import numpy as np

from assistant.audio.convert import SAMPLE_RATE
from assistant.audio.ring import RingBuffer
from assistant.audio.source import AudioSource
from assistant.events import EventEmitter, State, Wake
from assistant.vad import Endpointer, VadOutput
from assistant.wake import WakeDetector

_log = logging.getLogger(__name__)

_WAKE_LOOKBACK = int(0.3 * SAMPLE_RATE)


class Phase(enum.Enum):
    LISTENING = "listening"
    CAPTURING = "capturing"


class Pipeline:
    def __init__(
        self,
        *,
        emitter: EventEmitter,
        endpointer: Endpointer,
        wake: WakeDetector | None,
        buffer_seconds: float = 1.5,
    ) -> None:
        self.emitter = emitter
        self.endpointer = endpointer
        self.wake = wake
        self._ring = RingBuffer(int(buffer_seconds * SAMPLE_RATE))
        self._pos = 0
        self.phase = Phase.LISTENING

    @property
    def position(self) -> int:
        """Samples of the stream consumed so far."""
        return self._pos

    def run(self, source: AudioSource) -> None:
        """Process a whole source; returns when it ends (files) or is closed (live inputs)."""
        self._set_phase(Phase.LISTENING)
        for chunk in source.frames():
            self.feed(chunk)
        self.finish()

    def feed(self, chunk: np.ndarray) -> None:
        start = self._pos
        self._ring.write(chunk)
        self._pos += len(chunk)
        if self.phase is Phase.LISTENING:
            if self.wake is None:
                self._begin_capture(start, chunk)
                return
            detection = self.wake.process(chunk)
            if detection is None:
                self.endpointer.observe(chunk)
                return
            self.emitter.emit(Wake(model=detection.model, score=round(detection.score, 4), audio_t=self._pos / SAMPLE_RATE))
            # the model grows confident anywhere from 0.1 s before to 0.3 s after the word ends
            replay = max(self._pos - detection.onset_samples_ago - _WAKE_LOOKBACK, self._pos - self._ring.capacity)
            self._begin_capture(replay, self._ring.since(replay), after_wake=True)
        else:
            self._handle(self.endpointer.process(chunk))

    def finish(self) -> None:
        """The input ended: close the command in progress, if any."""
        if self.phase is Phase.CAPTURING:
            self._handle(self.endpointer.finish())

    def _begin_capture(self, position: int, audio: np.ndarray, after_wake: bool = False) -> None:
        self.endpointer.start(position, after_wake=after_wake)
        self._set_phase(Phase.CAPTURING)
        self._handle(self.endpointer.process(audio))

    def _handle(self, out: VadOutput) -> None:
        for event in out.events:
            self.emitter.emit(event)
        if out.done:
            self._end_capture()

    def _end_capture(self) -> None:
        if self.wake is not None:
            self.wake.reset()  # its buffers still hold the wake word; without this it fires again
        self._set_phase(Phase.LISTENING)

    def _set_phase(self, phase: Phase) -> None:
        self.phase = phase
        self.emitter.emit(State(state=phase.value))
