"""Wake scores for a client that asked for them: each model's highest score, a few times a second.

A stream's wake detector scores every 80 ms chunk; an event per chunk would be twelve a second per
stream. :class:`ScoreReporter` is the stream's detector as the pipeline sees it: it hands every chunk
to the engine's detector (openWakeWord or microWakeWord, whichever ``wake.engine`` built), keeps each
model's highest score, and emits one ``wake_scores`` event per :data:`REPORT_SECONDS` of audio scored,
and at once when a model fires, so neither a near miss between two reports nor the score that woke the
pipeline is lost. The thresholds in the event are the detector's own (microWakeWord's come from each
model's probability cutoff). Scores come while the pipeline listens for the wake word (and, for
barge-in, while it speaks), not while it captures a command.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from assistant.audio.convert import SAMPLE_RATE
from assistant.events import EventSink, WakeScores
from assistant.wake import Detection, WakeDetector
from assistant.wake.base import DetectorWrapper

REPORT_SECONDS = 0.2
"""Audio between two reports (rounded up to whole 80 ms chunks: 240 ms)."""


class ScoreReporter(DetectorWrapper):
    """A :class:`~assistant.wake.WakeDetector` that also reports ``detector``'s scores to ``emit``.

    ``position()``: samples of the stream consumed so far (the pipeline's), for the events' ``audio_t``.
    """

    def __init__(self, detector: WakeDetector, emit: EventSink, position: Callable[[], int]) -> None:
        super().__init__(detector)
        self._emit = emit
        self._position = position
        self._peaks: dict[str, float] = {}
        self._samples = 0

    def process(self, chunk: np.ndarray) -> Detection | None:
        detection = self.detector.process(chunk)
        for name, score in self.detector.scores.items():
            self._peaks[name] = max(score, self._peaks.get(name, 0.0))
        self._samples += len(chunk)
        if detection is not None or self._samples >= REPORT_SECONDS * SAMPLE_RATE:
            self._report()
        return detection

    def _report(self) -> None:
        scores = {name: round(float(score), 4) for name, score in self._peaks.items()}
        thresholds = {name: float(value) for name, value in self.detector.thresholds.items()}
        self._emit(WakeScores(audio_t=round(self._position() / SAMPLE_RATE, 3), scores=scores, thresholds=thresholds))
        self._peaks = {}
        self._samples = 0
