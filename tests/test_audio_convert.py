"""Conversion at the edge, framing and the ring buffer."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.audio.chunker import Chunker
from assistant.audio.convert import StreamConverter
from assistant.audio.ring import RingBuffer


def _tone(freq: float, rate: int, seconds: float, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _peak_hz(x: np.ndarray, rate: int = 16000) -> float:
    spectrum = np.abs(np.fft.rfft(x.astype(np.float64) * np.hanning(len(x))))
    return float(np.argmax(spectrum) * rate / len(x))


@pytest.mark.parametrize("rate", [8000, 22050, 44100, 48000])
def test_resampling_keeps_pitch_level_and_length_blockwise(rate):
    tone = _tone(440, rate, 2.0)
    stereo = np.stack([tone, tone], axis=1)
    conv = StreamConverter(rate)
    blocks = [conv.convert(stereo[i : i + 1000]) for i in range(0, len(stereo), 1000)]
    out = np.concatenate(blocks + [conv.convert(stereo[:0], last=True)])
    assert out.dtype == np.int16
    assert abs(len(out) - 32000) <= 2
    assert abs(_peak_hz(out) - 440) < 5
    rms = np.sqrt(np.mean((out[2000:-2000] / 32768.0) ** 2))
    assert abs(rms - 0.5 / np.sqrt(2)) < 0.01
    # no clicks at block boundaries: the largest sample-to-sample step stays that of a clean 440 Hz sine
    assert np.max(np.abs(np.diff(out[100:-100].astype(np.int32)))) < 0.5 * 32768 * 2 * np.pi * 440 / 16000 * 1.1


def test_nan_and_inf_are_zeroed_and_counted():
    block = np.array([0.1, np.nan, -0.2, np.inf, -np.inf, 0.3], dtype=np.float32)
    conv = StreamConverter(16000)
    out = conv.convert(block)
    assert conv.counts.nan_samples == 3
    assert out.tolist() == [3277, 0, -6554, 0, 0, 9830]


def test_clipping_is_counted_for_float_and_int16():
    conv = StreamConverter(16000)
    conv.convert(np.array([0.5, 1.0, -1.5, 2.0], dtype=np.float32))
    assert conv.counts.clipped_samples == 3
    conv16 = StreamConverter(16000)
    out = conv16.convert(np.array([0, 32767, -32768, 100], dtype=np.int16))
    assert conv16.counts.clipped_samples == 2 and out.tolist() == [0, 32767, -32768, 100]


def test_channel_pick_and_mix():
    left = np.full(100, 1000, np.int16)
    right = np.full(100, -3000, np.int16)
    stereo = np.stack([left, right], axis=1)
    assert StreamConverter(16000, "mix").convert(stereo)[0] == -1000
    assert StreamConverter(16000, 1).convert(stereo)[0] == -3000
    with pytest.raises(ValueError, match="channel 2 does not exist"):
        StreamConverter(16000, 2).convert(stereo)


def test_int_types_scale_to_the_same_level():
    ref = StreamConverter(16000).convert(np.array([0.25], np.float32))[0]
    assert StreamConverter(16000).convert(np.array([2**29], np.int32))[0] == ref
    assert StreamConverter(16000).convert(np.array([160], np.uint8))[0] == ref


def test_chunker_reframes_any_block_sizes_without_loss():
    rng = np.random.default_rng(0)
    data = rng.integers(-1000, 1000, 10_000).astype(np.int16)
    chunker = Chunker(1280)
    out, pos = [], 0
    for size in rng.integers(1, 3000, 100):
        out.extend(chunker.push(data[pos : pos + size]))
        pos += size
        if pos >= len(data):
            break
    tail = chunker.flush()
    joined = np.concatenate(out + [tail])
    assert all(len(c) == 1280 for c in out) and len(tail) == 1280
    assert np.array_equal(joined[: len(data)], data) and not joined[len(data) :].any()


def test_ring_buffer_keeps_the_newest_samples_by_stream_position():
    ring = RingBuffer(100)
    data = np.arange(350, dtype=np.int16)
    for i in range(0, 350, 30):
        ring.write(data[i : i + 30])
    assert ring.total == 350 and len(ring) == 100
    assert np.array_equal(ring.since(300), data[300:])
    assert np.array_equal(ring.since(0), data[250:])  # older audio is gone, clamped
    assert np.array_equal(ring.last(10), data[340:])
    ring.write(np.arange(1000, 1250, dtype=np.int16))  # a block larger than the ring
    assert np.array_equal(ring.last(100), np.arange(1150, 1250))
    assert ring.total == 600
