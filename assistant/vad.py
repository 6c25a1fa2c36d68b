"""Voice-activity endpointing with webrtcvad: where does the spoken command start and end?

After the wake word the endpointer waits for speech (giving up after
``no_speech_timeout``), declares its start once ``start_ms`` of consecutive
voiced audio arrived (back-dated to the first voiced frame), and its end after
``end_silence_ms`` of trailing silence or at ``max_command``. The audio handed
to the recognizer begins ``pre_roll_ms`` before the start so the first
syllable, which webrtcvad often rates unvoiced, is kept.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import numpy as np

from assistant.audio.chunker import Chunker
from assistant.audio.convert import SAMPLE_RATE
from assistant.audio.ring import RingBuffer
from assistant.errors import ModelError
from assistant.events import Event, NoSpeech, SpeechEnd, SpeechStart


def _webrtcvad():
    try:
        import webrtcvad
    except ImportError:
        raise ModelError("webrtcvad is missing: pip install webrtcvad-wheels") from None
    return webrtcvad


class Phase(enum.Enum):
    IDLE = "idle"
    WAITING = "waiting"
    SPEECH = "speech"


@dataclass
class VadOutput:
    events: list[Event] = field(default_factory=list)
    audio: list[np.ndarray] = field(default_factory=list)
    """Command audio to forward to the recognizer, in order."""
    done: bool = False
    """The command ended (speech end or no-speech timeout): stop forwarding."""


class Endpointer:
    def __init__(
        self,
        *,
        aggressiveness: int = 2,
        frame_ms: int = 30,
        start_ms: int = 90,
        end_silence_ms: int = 700,
        no_speech_timeout: float | None = 4.0,
        max_command: float = 10.0,
        pre_roll_ms: int = 300,
    ) -> None:
        if frame_ms not in (10, 20, 30):
            raise ValueError(f"webrtcvad frames are 10, 20 or 30 ms, not {frame_ms}")
        self._vad = _webrtcvad().Vad(aggressiveness)
        self.frame = SAMPLE_RATE * frame_ms // 1000
        self._start_frames = max(1, -(-start_ms // frame_ms))
        self._end_frames = max(1, -(-end_silence_ms // frame_ms))
        self._timeout = None if no_speech_timeout is None else int(no_speech_timeout * SAMPLE_RATE)
        self._max = int(max_command * SAMPLE_RATE)
        self._pre_roll = SAMPLE_RATE * pre_roll_ms // 1000
        self._history = RingBuffer(self._pre_roll + (self._start_frames + 1) * self.frame)
        self._chunker = Chunker(self.frame)
        self.phase = Phase.IDLE
        self._pos = 0

    def start(self, position: int = 0) -> None:
        """Begin bounding one command; ``position`` is the stream sample index of the next sample fed."""
        self.phase = Phase.WAITING
        self._pos = position
        self._began = position
        self._chunker = Chunker(self.frame)
        self._history = RingBuffer(self._history.capacity)
        self._voiced_run = 0
        self._silence_run = 0
        self._speech_start = 0
        self._last_voiced_end = 0

    def process(self, samples: np.ndarray) -> VadOutput:
        """Feed audio of any length; returns what happened and the command audio to forward."""
        out = VadOutput()
        if self.phase is Phase.IDLE:
            return out
        for frame in self._chunker.push(samples):
            self._step(frame, out)
            if out.done:
                self.phase = Phase.IDLE
                break
        return out

    def finish(self) -> VadOutput:
        """The input ended: close a command in progress."""
        out = VadOutput()
        if self.phase is Phase.SPEECH:
            end = self._last_voiced_end if self._silence_run else self._pos
            out.events.append(SpeechEnd(audio_t=end / SAMPLE_RATE, reason="end_of_input"))
            out.done = True
        self.phase = Phase.IDLE
        return out

    def _step(self, frame: np.ndarray, out: VadOutput) -> None:
        voiced = self._vad.is_speech(frame.tobytes(), SAMPLE_RATE)
        frame_start = self._pos
        self._pos += len(frame)
        if self.phase is Phase.WAITING:
            self._history.write(frame)
            self._voiced_run = self._voiced_run + 1 if voiced else 0
            if self._voiced_run >= self._start_frames:
                self._speech_start = frame_start - (self._voiced_run - 1) * self.frame
                self.phase = Phase.SPEECH
                self._silence_run = 0
                self._last_voiced_end = self._pos
                out.events.append(SpeechStart(audio_t=self._speech_start / SAMPLE_RATE))
                out.audio.append(self._history.since(self._speech_start - self._pre_roll))
            elif self._timeout is not None and self._pos - self._began >= self._timeout:
                out.events.append(NoSpeech(audio_t=self._pos / SAMPLE_RATE))
                out.done = True
            return
        out.audio.append(frame)
        if voiced:
            self._silence_run = 0
            self._last_voiced_end = self._pos
        else:
            self._silence_run += 1
        if self._silence_run >= self._end_frames:
            out.events.append(SpeechEnd(audio_t=self._last_voiced_end / SAMPLE_RATE, reason="silence"))
            out.done = True
        elif self._pos - self._speech_start >= self._max:
            out.events.append(SpeechEnd(audio_t=self._pos / SAMPLE_RATE, reason="max_length"))
            out.done = True
