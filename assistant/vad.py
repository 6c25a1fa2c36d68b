"""Voice-activity endpointing with webrtcvad: where does the spoken command start and end?

After the wake word the endpointer waits for speech (giving up after
``no_speech_timeout``), declares its start once ``start_ms`` of speech-like
audio arrived with at most a couple of other frames among it and a few of its
frames active (back-dated to the first speech-like frame; a shorter blip, such
as the tail of the wake word or a click, is not a command), and its end after
``end_silence_ms`` of trailing silence or at ``max_command``. The audio handed
to the recognizer begins ``pre_roll_ms`` before the start so the first
syllable, which webrtcvad often rates unvoiced, is kept.

webrtcvad alone calls clatter and steady kitchen noise "speech", so a command
in a noisy room would never end. A frame is active only when webrtcvad says
speech *and* it stands ``gate_db`` above the ambient noise floor, which is
tracked all the time (the pipeline feeds it while waiting for the wake word);
speech-like when webrtcvad says speech and it stands ``edge_db`` above the floor.
In loud noise only a word's loudest syllables are active, so a start needs a
few active frames among speech-like ones rather than a run of active ones.
The reported boundaries are then refined on energy alone: unvoiced edges such
as the "s" of "minutes" that rise above the floor belong to the command.

After a wake word the caller replays audio from a little before the wake
model became confident, because that moment varies by ±0.3 s around the
word's real end. The tail of the wake word in that replay is skipped: speech
can only start after a pause of ``settle_pause_ms``, or, for someone who runs
the command into the wake word without pausing, ``settle_max_ms`` into it.
"""

from __future__ import annotations

import enum
import math
from collections import deque
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


def energy_db(samples: np.ndarray) -> float:
    """Mean power in dB over int16 full scale units: digital silence 0 dB, a loud voice 70-80 dB."""
    x = samples.astype(np.float32)
    return 10.0 * math.log10(float(np.dot(x, x)) / max(len(x), 1) + 1.0)


START_GAP_FRAMES = 2
"""Frames allowed among the ``start_ms`` of speech-like ones that start a command (a stop consonant, a noise
burst), so the start is dated from the first word, not from the first long voiced run."""

START_VOICED_FRAMES = 3
"""Of the speech-like frames that start a command, how many must be active (``gate_db`` above the floor).
In kitchen noise at 6 dB peak SNR only the loudest syllables clear the gate, a few frames at a time, while
webrtcvad hears the whole phrase above the floor: when ``start_ms`` of active frames were required, 4 of
coffee-dev's 186 orders (3 noise draws) started up to 2 s late, after their first words ("cappuccino with
sugar and cream" without "make me a single shot medium roast"). README "In kitchen noise" has the table that
chose 3."""


class NoiseFloor:
    """The ambient level: follows quieter audio within ~0.1 s, louder audio over ~2 s.

    The asymmetry keeps a clatter or a word from dragging the floor up while a
    real change of room (a fan switched on) is learned in a few seconds. The
    first level heard is taken as is: there is nothing better to start from.
    """

    def __init__(self, fall_seconds: float = 0.1, rise_seconds: float = 2.0) -> None:
        self.db: float | None = None
        self._fall = fall_seconds
        self._rise = rise_seconds

    def update(self, level_db: float, seconds: float) -> None:
        if self.db is None:
            self.db = level_db
            return
        tau = self._fall if level_db < self.db else self._rise
        self.db += (level_db - self.db) * (1.0 - math.exp(-seconds / tau))

    def above(self, level_db: float, margin_db: float) -> bool:
        return self.db is None or level_db > self.db + margin_db


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
        start_ms: int = 210,
        end_silence_ms: int = 700,
        no_speech_timeout: float | None = 4.0,
        max_command: float = 10.0,
        pre_roll_ms: int = 300,
        gate_db: float = 8.0,
        edge_db: float = 2.0,
        edge_ms: int = 250,
        edge_gap_ms: int = 180,
        settle_pause_ms: int = 120,
        settle_max_ms: int = 600,
    ) -> None:
        if frame_ms not in (10, 20, 30):
            raise ValueError(f"webrtcvad frames are 10, 20 or 30 ms, not {frame_ms}")
        self._vad = _webrtcvad().Vad(aggressiveness)
        self.frame = SAMPLE_RATE * frame_ms // 1000
        self._start_frames = max(1, -(-start_ms // frame_ms))
        self._recent: deque[tuple[bool, bool]] = deque(maxlen=self._start_frames + START_GAP_FRAMES)
        """Speech-like and voiced, the last frames while waiting for speech: a start needs ``start_ms`` of them
        speech-like and ``START_VOICED_FRAMES`` voiced."""
        self._start_voiced = min(START_VOICED_FRAMES, self._start_frames)
        self._end_frames = max(1, -(-end_silence_ms // frame_ms))
        self._frame_ms = frame_ms
        self._timeout = None if no_speech_timeout is None else int(no_speech_timeout * SAMPLE_RATE)
        self._max = int(max_command * SAMPLE_RATE)
        self._pre_roll = SAMPLE_RATE * pre_roll_ms // 1000
        self._history = RingBuffer(self._pre_roll + (self._start_frames + 1) * self.frame)
        self._chunker = Chunker(self.frame)
        self.floor = NoiseFloor()
        self._gate_db = gate_db
        self._edge_db = edge_db
        self._edge_frames = max(0, edge_ms // frame_ms)
        self._edge_gap = max(1, edge_gap_ms // frame_ms)
        self._frame_seconds = frame_ms / 1000
        self._levels: deque[float] = deque(maxlen=self._start_frames + self._end_frames + self._edge_frames + 1)
        self._settle_pause = max(1, -(-settle_pause_ms // frame_ms))
        self._settle_max = SAMPLE_RATE * settle_max_ms // 1000
        self.phase = Phase.IDLE
        self._pos = 0

    def observe(self, samples: np.ndarray) -> None:
        """Learn the ambient level from audio that is not a command (the pipeline's listening phase)."""
        if len(samples):
            self.floor.update(energy_db(samples), len(samples) / SAMPLE_RATE)

    def start(self, position: int = 0, *, after_wake: bool = False) -> None:
        """Begin bounding one command; ``position`` is the stream sample index of the next sample fed.

        ``after_wake``: the audio fed first may end with the wake word itself; skip it (see module doc).
        """
        self.phase = Phase.WAITING
        self._settled = not after_wake
        self._earliest = position  # speech cannot start before this (the end of the wake word)
        self._quiet_run = 0
        self._pos = position
        self._began = position
        self._chunker = Chunker(self.frame)
        self._history = RingBuffer(self._history.capacity, start=position)
        self._levels.clear()
        self._voiced_levels: list[float] = []
        self._recent.clear()
        self._silence_run = self._still_run = 0
        self._still_end_frames: int | None = None
        self._speech_start = 0
        self._last_voiced_end = 0
        self._sound_end = 0

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

    @property
    def trailing_silence_ms(self) -> int:
        """Silence since the last voiced frame of the command in progress (0 before it starts)."""
        return self._silence_run * self._frame_ms if self.phase is Phase.SPEECH else 0

    @property
    def snr_db(self) -> float:
        """How far the command in progress stands above the noise floor: the 90th percentile of its voiced
        frames' levels over the floor (coffee-dev: clean 40-73 dB, mixed with kitchen noise at 24 dB SNR
        32-40, at 6 dB 14-22)."""
        if not self._voiced_levels or self.floor.db is None:
            return 0.0
        return float(np.percentile(self._voiced_levels, 90)) - self.floor.db

    @property
    def voiced_until(self) -> int:
        """Stream sample index where the last voiced frame of the command in progress ended."""
        return self._last_voiced_end

    @property
    def position(self) -> int:
        """Stream sample index after the last whole frame judged."""
        return self._pos

    def possible_speech_until(self, min_snr_db: float) -> int:
        """Stream sample index where what may have been speech in the command in progress ended: its last
        voiced frame; for a command less than ``min_snr_db`` above the noise floor, its last frame that was
        not still. In noise the weak parts of words are not voiced ("skim" voiced, "milk" only above the
        floor), so a reading that ends at the last voiced frame may lack the last words."""
        return self._sound_end if self.snr_db < min_snr_db else self._last_voiced_end

    def require_silence(self, ms: int | None) -> VadOutput:
        """End the command after ``ms`` of stillness instead of ``end_silence_ms`` of silence, until speech
        resumes; ends it at once when it has been still that long already (the output says so).
        ``ms`` None: back to ``end_silence_ms`` (what was said turned out to go on).

        Still is stricter than silent: the level within ``edge_db`` of the noise floor, not just too weak or
        unvoiced for webrtcvad. In noise, the weak parts of speech pass for silence, and a command cut short
        there loses its last words; stillness does not come then, so the endpointer's own silence applies.
        """
        out = VadOutput()
        if self.phase is not Phase.SPEECH:
            return out
        if ms is None:
            self._still_end_frames = None
            return out
        self._still_end_frames = max(1, -(-ms // self._frame_ms))
        if self._still_run >= self._still_end_frames:
            self._end_by_silence(out)
            self.phase = Phase.IDLE
        return out

    def finish(self) -> VadOutput:
        """The input ended: close a command in progress."""
        out = VadOutput()
        if self.phase is Phase.SPEECH:
            end = self._last_voiced_end if self._silence_run else self._pos
            out.events.append(self._end_event(end, "end_of_input"))
            out.done = True
        self.phase = Phase.IDLE
        return out

    def _step(self, frame: np.ndarray, out: VadOutput) -> None:
        level = energy_db(frame)
        speechlike = self.floor.above(level, self._edge_db) and self._vad.is_speech(frame.tobytes(), SAMPLE_RATE)
        voiced = speechlike and self.floor.above(level, self._gate_db)
        if not voiced:
            self.floor.update(level, self._frame_seconds)
        self._levels.append(level)
        frame_start = self._pos
        self._pos += len(frame)
        if self.phase is Phase.WAITING:
            self._history.write(frame)
            if not self._settled:
                # a pause is quiet audio, not just audio webrtcvad calls unvoiced (the "x" of "alexa")
                self._quiet_run = 0 if self.floor.above(level, self._gate_db) else self._quiet_run + 1
                if self._quiet_run >= self._settle_pause or self._pos - self._began >= self._settle_max:
                    self._settled, self._earliest = True, self._pos
                return
            self._recent.append((speechlike, voiced))
            if sum(s for s, _ in self._recent) >= self._start_frames and sum(v for _, v in self._recent) >= self._start_voiced:
                first = next(i for i, (s, _) in enumerate(self._recent) if s)
                span = len(self._recent) - first  # frames from the first speech-like one to now
                self._speech_start = frame_start - (span - 1) * self.frame
                self._speech_start -= self._edge(before=span) * self.frame
                self._speech_start = max(self._speech_start, self._earliest)
                self.phase = Phase.SPEECH
                self._silence_run = self._still_run = 0
                self._last_voiced_end = self._sound_end = self._pos
                out.events.append(SpeechStart(audio_t=self._speech_start / SAMPLE_RATE))
                out.audio.append(self._history.since(self._speech_start - self._pre_roll))
            elif self._timeout is not None and self._pos - self._began >= self._timeout:
                out.events.append(NoSpeech(audio_t=self._pos / SAMPLE_RATE))
                out.done = True
            return
        out.audio.append(frame)
        if voiced:
            self._silence_run = self._still_run = 0
            self._last_voiced_end = self._sound_end = self._pos
            self._voiced_levels.append(level)
            self._still_end_frames = None  # a shortened wait applied to the silence it was judged on
        else:
            self._silence_run += 1
            if self.floor.above(level, self._edge_db):
                self._still_run, self._sound_end = 0, self._pos
            else:
                self._still_run += 1
        if self._silence_run >= self._end_frames or (self._still_end_frames is not None and self._still_run >= self._still_end_frames):
            self._end_by_silence(out)
        elif self._pos - self._speech_start >= self._max:
            out.events.append(self._end_event(self._pos, "max_length"))
            out.done = True

    def _end_by_silence(self, out: VadOutput) -> None:
        end = self._last_voiced_end + self._edge(after=self._silence_run) * self.frame
        out.events.append(self._end_event(end, "silence"))
        out.done = True

    def _end_event(self, end: int, reason: str) -> SpeechEnd:
        return SpeechEnd(audio_t=end / SAMPLE_RATE, reason=reason, endpoint_delay=round((self._pos - end) / SAMPLE_RATE, 3))

    def _edge(self, *, before: int = 0, after: int = 0) -> int:
        """Frames beside the voiced span that belong to it: the outermost frame within ``edge_ms`` that
        still rises ``edge_db`` above the floor, across short gaps (the closure of a "t" before its "s",
        longer in noise that hides the weak part) but not across a pause of ``edge_gap_ms``.

        ``before``: the voiced span is the last ``before`` frames; look at the frames preceding it.
        ``after``: the last ``after`` frames follow the span; look at the first of them.
        """
        levels = list(self._levels)
        if before:
            window = levels[max(0, len(levels) - before - self._edge_frames) : len(levels) - before][::-1]
        else:
            window = levels[len(levels) - after :][: self._edge_frames]
        outermost = quiet = 0
        for i, level in enumerate(window, start=1):
            if self.floor.above(level, self._edge_db):
                outermost, quiet = i, 0
            else:
                quiet += 1
                if quiet >= self._edge_gap:
                    break
        return outermost
