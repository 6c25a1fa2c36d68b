"""Any block length in, the wake engine's 80 ms frames out.

The engines score 80 ms chunks and ``wake.trigger_frames`` counts them, but a
microphone that hands over smaller blocks answers sooner: the end of a command
is seen up to a block after it happens, not up to 80 ms after
(``audio.block_ms``). So every detector is wrapped in this framing: it scores
the same 80 ms frames of the stream whatever the blocks, fires on the same
frame, and reports the onset from the end of the block it was handed.
"""

from __future__ import annotations

import numpy as np

from assistant.audio.chunker import Chunker
from assistant.audio.source import CHUNK_SAMPLES
from assistant.wake.base import Detection, DetectorWrapper, WakeDetector


class FramedDetector(DetectorWrapper):
    """A :class:`~assistant.wake.base.WakeDetector` over blocks of any length, scoring ``CHUNK_SAMPLES`` frames."""

    def __init__(self, detector: WakeDetector) -> None:
        super().__init__(detector)
        self._frames = Chunker(CHUNK_SAMPLES)

    def process(self, chunk: np.ndarray) -> Detection | None:
        if len(chunk) == CHUNK_SAMPLES and not self._frames.pending:
            return self.detector.process(chunk)
        fired: Detection | None = None
        after = 0  # samples of this block scored after the frame that fired
        for frame in self._frames.push(chunk):
            detection = self.detector.process(frame)
            after += len(frame)
            if detection is not None and (fired is None or detection.score > fired.score):
                fired, after = detection, 0
        if fired is None:
            return None
        return Detection(fired.model, fired.score, fired.onset_samples_ago + after + self._frames.pending)

    def reset(self) -> None:
        super().reset()
        self._frames = Chunker(CHUNK_SAMPLES)
