"""The audio source stage: anything that yields pipeline audio.

Every source (microphone, file, raw stdin, WebSocket) converts at its edge and
yields 16 kHz mono int16 chunks of ``CHUNK_SAMPLES``; the pipeline never sees
another format.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol, runtime_checkable

import numpy as np

from assistant.audio.convert import SAMPLE_RATE
from assistant.audio.stats import InputStats

CHUNK_SAMPLES = 1280
"""80 ms at 16 kHz: openWakeWord's step, and a whole number of 10/20 ms VAD frames."""

CHUNK_SECONDS = CHUNK_SAMPLES / SAMPLE_RATE


@runtime_checkable
class AudioSource(Protocol):
    name: str
    stats: InputStats

    def frames(self) -> Iterator[np.ndarray]:
        """Yield chunks until the input ends (files) or ``close()`` is called (live inputs)."""
        ...

    def close(self) -> None: ...
