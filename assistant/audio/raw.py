"""Raw PCM from a byte stream (``--input -``: stdin from arecord, sox, ffmpeg, a pipe).

There is no header, so the user states rate, sample format and channels; the
stream is read in blocks, a sample split across two reads is carried over
(:class:`PcmDecoder`, which the network inputs share: WebSocket streams, Wyoming).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

import numpy as np

from assistant.audio.chunker import Chunker
from assistant.audio.convert import Channel, RepairCounts, StreamConverter
from assistant.audio.source import CHUNK_SAMPLES
from assistant.audio.stats import InputStats
from assistant.errors import AudioInputError
from assistant.events import EventSink

PCM_FORMATS: dict[str, np.dtype] = {
    "s16le": np.dtype("<i2"),
    "s32le": np.dtype("<i4"),
    "f32le": np.dtype("<f4"),
    "u8": np.dtype("u1"),
}


class PcmDecoder:
    """Interleaved PCM in blocks of any size → 16 kHz mono int16, converted once (see
    :class:`~assistant.audio.convert.StreamConverter`); a sample split across two blocks is carried over."""

    def __init__(self, rate: int, dtype: np.dtype, channels: int, channel: Channel = "mix") -> None:
        if channels < 1:
            raise AudioInputError(f"channels must be at least 1, got {channels}")
        self.rate = rate
        self.dtype = np.dtype(dtype)
        self.channels = channels
        self._frame_bytes = self.dtype.itemsize * channels
        self._converter = StreamConverter(rate, channel)
        self._carry = b""

    @property
    def counts(self) -> RepairCounts:
        """What conversion had to repair so far (NaN samples, clipping)."""
        return self._converter.counts

    def decode(self, data: bytes) -> np.ndarray:
        if self._carry:
            data = self._carry + data
        usable = len(data) - len(data) % self._frame_bytes
        self._carry = data[usable:]
        block = np.frombuffer(data, dtype=self.dtype, count=usable // self.dtype.itemsize).reshape(-1, self.channels)
        return self._converter.convert(block)

    def finish(self) -> np.ndarray:
        """The end of the stream: the resampler's tail (an incomplete last sample is dropped)."""
        self._carry = b""
        return self._converter.convert(np.zeros((0, self.channels), self.dtype), last=True)


class RawSource:
    def __init__(
        self,
        stream: BinaryIO,
        *,
        rate: int,
        sample_format: str = "s16le",
        channels: int = 1,
        channel: Channel = "mix",
        name: str = "stdin",
        emit: EventSink | None = None,
        block_bytes: int = 8192,
    ) -> None:
        if sample_format not in PCM_FORMATS:
            raise AudioInputError(f"unknown raw sample format {sample_format!r}; use one of {', '.join(PCM_FORMATS)}")
        self.name = name
        self.stats = InputStats()
        self._stream = stream
        self._decoder = PcmDecoder(rate, PCM_FORMATS[sample_format], channels, channel)
        frame_bytes = PCM_FORMATS[sample_format].itemsize * channels
        self._block = max(frame_bytes, block_bytes - block_bytes % frame_bytes)
        self.stats.repairs = self._decoder.counts
        self._emit = emit
        self._closed = False

    def frames(self) -> Iterator[np.ndarray]:
        chunker = Chunker(CHUNK_SAMPLES)
        try:
            while not self._closed:
                data = self._stream.read(self._block)
                if not data:
                    break
                for chunk in chunker.push(self._decoder.decode(data)):
                    self.stats.frames += 1
                    yield chunk
            for chunk in chunker.push(self._decoder.finish()):
                self.stats.frames += 1
                yield chunk
            tail = chunker.flush()
            if tail is not None:
                self.stats.frames += 1
                yield tail
        finally:
            self.stats.report(self._emit, force=True)

    def close(self) -> None:
        self._closed = True
