"""Score a whole clip with a wake detector: `assistant wake FILE...`, the tests and the benchmarks."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from assistant.audio.convert import SAMPLE_RATE
from assistant.audio.source import CHUNK_SAMPLES
from assistant.wake.base import WakeDetector


@dataclass
class ScanResult:
    detections: list[dict] = field(default_factory=list)
    """``{"model", "t", "score"}`` per firing, ``t`` in seconds from the start of the clip."""
    max_score: dict[str, float] = field(default_factory=dict)


def scan(detector: WakeDetector, chunks: Iterable[np.ndarray], pad_seconds: float = 1.0) -> ScanResult:
    """Score a whole clip from a fresh state, padded with silence on both sides.

    openWakeWord's own clip scoring pads the same way: a model needs context
    before the word and fires a little after it, so a wake word at the very
    start or end of a short clip is still seen whole.
    """
    pad = np.zeros((int(pad_seconds * SAMPLE_RATE) // CHUNK_SAMPLES, CHUNK_SAMPLES), np.int16)
    detector.reset()
    result = ScanResult(max_score=dict.fromkeys(detector.names, 0.0))
    position = -pad.size
    for chunk in itertools.chain(pad, chunks, pad):
        hit = detector.process(chunk)
        position += len(chunk)
        for name, value in detector.scores.items():
            result.max_score[name] = max(result.max_score[name], value)
        if hit is not None:
            result.detections.append({"model": hit.model, "t": round(max(position, 0) / SAMPLE_RATE, 3), "score": round(hit.score, 4)})
    result.max_score = {k: round(v, 4) for k, v in result.max_score.items()}
    return result
