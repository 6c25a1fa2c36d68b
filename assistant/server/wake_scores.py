"""Wake scores for a client that asked for them: each model's highest score, a few times a second.

A stream's wake detector scores every 80 ms chunk; an event per chunk would be twelve a second per
stream. :class:`ScoreReporter` wraps the stream's detector (the pipeline sees the same detector:
everything but ``process`` passes through), keeps each model's highest score, and emits one
``wake_scores`` event per :data:`REPORT_SECONDS` of audio scored, and at once when a model fires, so
neither a near miss between two reports nor the score that woke the pipeline is lost. Scores come
while the pipeline listens for the wake word (and, for barge-in, while it speaks), not while it
captures a command.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from assistant.audio.convert import SAMPLE_RATE
from assistant.events import EventSink, WakeScores

REPORT_SECONDS = 0.2
"""Audio between two reports (rounded up to whole 80 ms chunks: 240 ms)."""


class ScoreReporter:
    """``position()``: samples of the stream consumed so far (the pipeline's), for the events' ``audio_t``."""

    def __init__(self, detector: Any, emit: EventSink, thresholds: dict[str, float], position: Callable[[], int]) -> None:
        self._detector = detector
        self._emit = emit
        self._thresholds = dict(thresholds)
        self._position = position
        self._peaks: dict[str, float] = {}
        self._samples = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._detector, name)

    def process(self, chunk: np.ndarray) -> Any:
        detection = self._detector.process(chunk)
        for name, score in self._detector.scores.items():
            self._peaks[name] = max(score, self._peaks.get(name, 0.0))
        self._samples += len(chunk)
        if detection is not None or self._samples >= REPORT_SECONDS * SAMPLE_RATE:
            self._report()
        return detection

    def _report(self) -> None:
        scores = {name: round(float(score), 4) for name, score in self._peaks.items()}
        self._emit(WakeScores(audio_t=round(self._position() / SAMPLE_RATE, 3), scores=scores, thresholds=self._thresholds))
        self._peaks = {}
        self._samples = 0
