"""Audio files as a source: whatever :mod:`assistant.audio.decode` reads, which is whatever the server accepts.

Any rate, channel count and sample type is converted once. Damaged files are
the normal case for an assistant fed by users, so: a file that cannot be opened
or holds no audio raises :class:`AudioInputError` naming the file and the
reason; a file that breaks part-way (truncated, FLAC "lost sync") yields all
that decoded and reports what was lost as an ``error`` event and a log warning.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from assistant.audio.chunker import Chunker
from assistant.audio.convert import SAMPLE_RATE, Channel, StreamConverter
from assistant.audio.decode import AudioFile, Loss
from assistant.audio.source import CHUNK_SAMPLES
from assistant.audio.stats import InputStats
from assistant.errors import AudioInputError
from assistant.events import Error, EventSink

_log = logging.getLogger(__name__)


class FileSource:
    """An audio file as pipeline chunks; ``realtime`` paces them like a live input, ``channel`` picks one channel instead of the mix."""

    def __init__(
        self,
        path: str | Path,
        *,
        realtime: bool = False,
        channel: Channel = "mix",
        chunk: int = CHUNK_SAMPLES,
        emit: EventSink | None = None,
    ) -> None:
        self.path = Path(path)
        self.name = str(path)
        self.realtime = realtime
        self.stats = InputStats()
        self._emit = emit
        self._chunk = chunk
        self._closed = False
        self._file = AudioFile(self.path)
        self.rate = self._file.rate
        self.channels = self._file.channels
        if channel != "mix" and channel >= self.channels:
            self._file.close()
            raise AudioInputError(f"{self.path}: channel {channel} does not exist (the file has {self.channels})")
        self._converter = StreamConverter(self.rate, channel)
        self.stats.repairs = self._converter.counts

    def frames(self) -> Iterator[np.ndarray]:
        chunker = Chunker(self._chunk)
        start = time.monotonic()
        produced = 0
        try:
            for block in self._converted():
                for chunk in chunker.push(block):
                    produced += len(chunk)
                    self.stats.frames += 1
                    if self.realtime:
                        _pace(start, produced)
                    yield chunk
                    if self._closed:
                        return
            tail = chunker.flush()
            if tail is not None:
                self.stats.frames += 1
                yield tail
        finally:
            self._file.close()
            self.stats.report(self._emit, force=True)

    def close(self) -> None:
        self._closed = True

    def _converted(self) -> Iterator[np.ndarray]:
        for block in self._file.blocks(self._lost):
            yield self._converter.convert(block)
        yield self._converter.convert(np.zeros((0, self.channels), np.float32), last=True)  # the resampler's tail

    def _lost(self, loss: Loss) -> None:
        message = f"{self.path}: {loss.detail}; continuing with the audio that decoded"
        _log.warning("%s", message)
        if self._emit is not None:
            self._emit(Error(code=loss.code, message=message))


def _pace(start: float, produced_samples: int) -> None:
    """Sleep until the wall clock catches up with the audio clock (real-time playback of a file)."""
    ahead = produced_samples / SAMPLE_RATE - (time.monotonic() - start)
    if ahead > 0:
        time.sleep(ahead)
