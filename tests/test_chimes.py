"""Chimes: short, clickless, rising for wake, low and falling for errors, generated once."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.chimes import chime, error_chime, wake_chime

RATE = 16000


def dominant_hz(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64) * np.hanning(len(samples)), n=1 << 15))
    return float(np.argmax(spectrum) * RATE / (1 << 15))


def test_wake_chime_is_a_short_rising_two_tone():
    audio = wake_chime()
    assert audio.dtype == np.int16 and audio.ndim == 1
    assert 0.12 <= len(audio) / RATE <= 0.18
    half = len(audio) // 2
    low, high = dominant_hz(audio[:half]), dominant_hz(audio[half:])
    assert 600 < low < high < 2000 and high / low > 1.3


def test_error_chime_is_low_and_falling():
    audio = error_chime()
    assert 0.2 <= len(audio) / RATE <= 0.5
    quarter = len(audio) // 4
    start, end = dominant_hz(audio[:quarter]), dominant_hz(audio[-quarter:])
    assert start > end * 1.2
    assert start < dominant_hz(wake_chime()[: len(wake_chime()) // 2])


@pytest.mark.parametrize("kind", ["wake", "error"])
def test_chimes_have_no_clicks(kind):
    audio = chime(kind).astype(np.int32)
    peak = np.abs(audio).max()
    assert 0.2 * 32768 < peak < 0.5 * 32768  # clearly audible, far from clipping
    assert abs(audio[0]) < 0.01 * peak and abs(audio[-1]) < 0.01 * peak  # fades reach silence at both ends
    # a click is a jump steeper than the highest note can make: its sine plus the octave partial at 0.2
    # moves at most 2*pi*f/rate * (1 + 2*0.2)/(1 - 0.2) of the peak per sample (0.9 for E6); unfaded edges jump ~peak
    edged = np.concatenate([[0], audio, [0]])
    steepest = 2 * np.pi * 1318.5 / RATE * 1.4 / 0.8 * peak
    assert np.abs(np.diff(edged)).max() < steepest


def test_chimes_are_cached_and_shared_read_only():
    assert wake_chime() is chime("wake") and error_chime() is chime("error")
    with pytest.raises(ValueError):
        wake_chime()[0] = 1
