"""Raw PCM from a byte stream (``--input -``: stdin from arecord, sox, ffmpeg, a pipe).

There is no header, so the user states rate, sample format and channels; the
stream is read in blocks, a sample split across two reads is carried over.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

import numpy as np

from assistant.audio.chunker import Chunker
from assistant.audio.convert import Channel, StreamConverter
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
        if channels < 1:
            raise AudioInputError(f"channels must be at least 1, got {channels}")
        self.name = name
        self.stats = InputStats()
        self._stream = stream
        self._dtype = PCM_FORMATS[sample_format]
        self._channels = channels
        self._frame_bytes = self._dtype.itemsize * channels
        self._block = max(self._frame_bytes, block_bytes - block_bytes % self._frame_bytes)
        self._converter = StreamConverter(rate, channel)
        self.stats.repairs = self._converter.counts
        self._emit = emit
        self._closed = False

    def frames(self) -> Iterator[np.ndarray]:
        chunker = Chunker(CHUNK_SAMPLES)
        carry = b""
        try:
            while not self._closed:
                data = self._stream.read(self._block)
                if not data:
                    break
                data = carry + data
                usable = len(data) - len(data) % self._frame_bytes
                carry = data[usable:]
                block = np.frombuffer(data[:usable], dtype=self._dtype).reshape(-1, self._channels)
                for chunk in chunker.push(self._converter.convert(block)):
                    self.stats.frames += 1
                    yield chunk
            for chunk in chunker.push(self._converter.convert(np.zeros((0, self._channels), self._dtype), last=True)):
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
