"""Convert any incoming audio to the pipeline's format, once, at the edge.

Inside the pipeline audio is always 16 kHz, mono, int16. Devices, files and
sockets deliver whatever they like (44.1 kHz stereo float, 8 kHz int32, ...);
:class:`StreamConverter` turns each block into pipeline audio with a real
streaming resampler (soxr), so block boundaries leave no clicks and a stream
converted block by block equals the same audio converted at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import soxr

SAMPLE_RATE = 16000
INT16_SCALE = 32768.0

Channel = Literal["mix"] | int


@dataclass
class RepairCounts:
    """What conversion had to fix: non-finite samples zeroed, samples at or beyond full scale."""

    nan_samples: int = 0
    clipped_samples: int = 0


def to_float32(block: np.ndarray) -> np.ndarray:
    """Scale any PCM dtype to float32 in [-1, 1); floats pass through (they may hold NaN or overs)."""
    if block.dtype == np.float32:
        return block
    if np.issubdtype(block.dtype, np.floating):
        return block.astype(np.float32)
    if block.dtype == np.uint8:  # 8-bit WAV is unsigned with 128 as zero
        return (block.astype(np.float32) - 128.0) / 128.0
    if np.issubdtype(block.dtype, np.integer):
        scale = float(2 ** (8 * block.dtype.itemsize - 1))
        return block.astype(np.float32) / scale
    raise TypeError(f"unsupported sample type {block.dtype}")


def select_channel(block: np.ndarray, channel: Channel) -> np.ndarray:
    """(frames, channels) → (frames,): average all channels, or pick one."""
    if block.ndim == 1:
        return block
    if channel == "mix":
        return block[:, 0] if block.shape[1] == 1 else block.mean(axis=1, dtype=np.float32)
    if not 0 <= channel < block.shape[1]:
        raise ValueError(f"channel {channel} does not exist: the input has {block.shape[1]} channel(s) (0..{block.shape[1] - 1})")
    return block[:, channel]


def float_to_int16(samples: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(samples * INT16_SCALE), -32768, 32767).astype(np.int16)


class StreamConverter:
    """Block-by-block conversion of one input stream to 16 kHz mono int16.

    Counts repairs in ``counts``: NaN/inf samples are zeroed (a broken driver or
    a corrupt float file must not poison every model downstream) and clipped
    samples are counted so a too-hot microphone shows up in the stats.
    """

    def __init__(self, rate: int, channel: Channel = "mix") -> None:
        if rate <= 0:
            raise ValueError(f"sample rate must be positive, got {rate}")
        self.rate = rate
        self.channel = channel
        self.counts = RepairCounts()
        self._resampler = None if rate == SAMPLE_RATE else soxr.ResampleStream(rate, SAMPLE_RATE, 1, dtype="float32", quality="HQ")

    def convert(self, block: np.ndarray, last: bool = False) -> np.ndarray:
        """Convert one block; ``last=True`` flushes the resampler's tail at the end of the stream."""
        if block.dtype == np.int16 and self._resampler is None:
            mono = select_channel(block, self.channel) if block.ndim == 2 else block
            if mono.dtype != np.int16:  # channel mixing averaged into float
                mono = np.rint(mono).astype(np.int16)
            self.counts.clipped_samples += int(np.count_nonzero((mono == 32767) | (mono == -32768)))
            return np.ascontiguousarray(mono)
        samples = select_channel(to_float32(block), self.channel)
        finite = np.isfinite(samples)
        if not finite.all():
            self.counts.nan_samples += int(samples.size - np.count_nonzero(finite))
            samples = np.where(finite, samples, 0.0).astype(np.float32)
        self.counts.clipped_samples += int(np.count_nonzero(np.abs(samples) >= 1.0))
        if self._resampler is not None:
            samples = self._resampler.resample_chunk(np.ascontiguousarray(samples), last=last)
        return float_to_int16(samples)
