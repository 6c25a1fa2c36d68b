"""The wake stage: what the pipeline needs from a wake-word engine, and when a model fires.

Two levels, as for recognizers: an engine's models are loaded once per process
and shared; each stream holds a :class:`WakeDetector` with only its own state
(feature buffers, score windows, the firing state below), which ``close()``
releases when the stream ends, so a server that opens thousands of streams
does not wait for the garbage collector to free native model memory.

Both engines score every 80 ms chunk and leave the decision to one
:class:`Trigger`, so ``wake.trigger_frames`` and ``wake.refractory_seconds``
mean the same thing whichever engine scores.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from assistant.audio.convert import SAMPLE_RATE
from assistant.errors import ModelError


@dataclass(frozen=True)
class Detection:
    model: str
    score: float
    onset_samples_ago: int
    """How far before the end of the firing chunk the score first crossed the threshold.

    That crossing is roughly where the wake word ended, so the caller replays its
    ring buffer from there and the start of the command is not lost.
    """


@runtime_checkable
class WakeDetector(Protocol):
    """One stream's wake-word detector; used from one thread at a time."""

    names: list[str]
    """The loaded models' names, as ``wake`` events report them."""
    scores: dict[str, float]
    """Each model's score for the last chunk (0..1)."""
    thresholds: dict[str, float]
    """The score each model must exceed to fire (the engine's default unless ``wake.threshold(s)`` say otherwise)."""

    def process(self, chunk: np.ndarray) -> Detection | None:
        """Score one chunk (80 ms, int16; :func:`~assistant.wake.open_detector`'s detectors take any length);
        return the strongest model that fires on it, if any."""
        ...

    def reset(self) -> None:
        """Forget all audio (between files, or after our own speech); as deterministic as a fresh detector."""
        ...

    def close(self) -> None:
        """Release this stream's native state now; the detector is unusable afterwards. Idempotent."""
        ...


class DetectorWrapper:
    """A detector around another that adds one thing (framing, score reports): its models, scores and
    thresholds, reset and close are the inner detector's; subclasses define ``process``."""

    def __init__(self, detector: WakeDetector) -> None:
        self.detector = detector

    @property
    def names(self) -> list[str]:
        return self.detector.names

    @property
    def scores(self) -> dict[str, float]:
        return self.detector.scores

    @property
    def thresholds(self) -> dict[str, float]:
        return self.detector.thresholds

    def reset(self) -> None:
        self.detector.reset()

    def close(self) -> None:
        self.detector.close()


@dataclass(frozen=True)
class TriggerRule:
    """When a score becomes a wake: the engine-independent part of ``wake.*``."""

    trigger_frames: int = 1
    """Consecutive chunks whose score is above the threshold before the model fires."""
    refractory_seconds: float = 2.0
    """After firing, a model is deaf this long, so one utterance fires once."""


class Trigger:
    """Per-stream firing state: a model fires when its score stays above its threshold for
    ``trigger_frames`` consecutive chunks and it is not in its refractory period.

    "Above" is strict, as microWakeWord (and ESPHome) compare a model's window mean
    with its probability cutoff; for openWakeWord's float scores it makes no difference.
    """

    def __init__(self, thresholds: dict[str, float], rule: TriggerRule) -> None:
        self.thresholds = thresholds
        self.rule = rule
        self._refractory_samples = int(rule.refractory_seconds * SAMPLE_RATE)
        self._fed = 0  # samples ever scored; only onset and refractory timing use it
        self._above = dict.fromkeys(thresholds, 0)
        self._onset = dict.fromkeys(thresholds, 0)
        self._deaf_until = dict.fromkeys(thresholds, 0)

    def step(self, scores: dict[str, float], samples: int) -> Detection | None:
        """The scores of a chunk of ``samples`` samples → the strongest model that fires on it, if any."""
        self._fed += samples
        fired: list[Detection] = []
        for name, threshold in self.thresholds.items():
            score = scores[name]
            if score <= threshold:
                self._above[name] = 0
                continue
            if self._above[name] == 0:
                self._onset[name] = self._fed - samples
            self._above[name] += 1
            if self._above[name] >= self.rule.trigger_frames and self._fed >= self._deaf_until[name]:
                self._deaf_until[name] = self._fed + self._refractory_samples
                fired.append(Detection(name, score, self._fed - self._onset[name]))
        return max(fired, key=lambda d: d.score, default=None)

    def reset(self) -> None:
        self._above = dict.fromkeys(self.thresholds, 0)
        self._deaf_until = dict.fromkeys(self.thresholds, 0)


def check_names(names: list[str], overrides: dict[str, dict[str, object]]) -> None:
    """Model names must be distinct, and per-model settings (``{"wake.thresholds": {...}}``) must name loaded models."""
    if len(set(names)) != len(names):
        raise ModelError(f"wake models must have distinct names, got {names}")
    for key, per_model in overrides.items():
        unknown = set(per_model) - set(names)
        if unknown:
            raise ModelError(f"{key} given for wake models that are not loaded: {sorted(unknown)}; loaded: {names}")
