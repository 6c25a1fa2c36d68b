"""WavWriter: what the assistant would have said, written to a file reply after reply."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from assistant.audio.playback import AudioOutput, WavWriter
from assistant.errors import DeviceError


def tone(hz: float, seconds: float, rate: int = 16000) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    return (0.3 * 32767 * np.sin(2 * np.pi * hz * t)).astype(np.int16)


def test_replies_are_appended_in_order_and_the_file_is_valid_meanwhile(tmp_path):
    path = tmp_path / "reply.wav"
    writer: AudioOutput = WavWriter(path)
    first = writer.play(tone(440, 0.5))
    assert first.finished.is_set() and first.started.is_set() and not first.interrupted
    assert sf.info(str(path)).frames == 8000  # readable before close: the header is kept up to date
    writer.play(tone(880, 0.25))
    writer.close()
    audio, rate = sf.read(str(path), dtype="int16")
    assert rate == 16000 and len(audio) == 12000
    assert np.array_equal(audio[:8000], tone(440, 0.5)) and np.array_equal(audio[8000:], tone(880, 0.25))


def test_other_rates_and_float_audio_are_converted(tmp_path):
    path = tmp_path / "reply.flac"
    writer = WavWriter(path)
    playback = writer.play(tone(440, 1.0, rate=22050).astype(np.float32) / 32768, rate=22050)
    writer.close()
    audio, rate = sf.read(str(path), dtype="int16")
    assert rate == 16000 and abs(len(audio) - 16000) <= 1 and playback.duration == pytest.approx(1.0, abs=1e-3)
    spectrum = np.abs(np.fft.rfft(audio))
    assert abs(np.argmax(spectrum) * 16000 / len(audio) - 440) < 3


def test_empty_audio_writes_nothing_and_does_not_start(tmp_path):
    writer = WavWriter(tmp_path / "reply.wav")
    playback = writer.play(np.zeros(0, np.int16))
    writer.close()
    assert playback.finished.is_set() and not playback.started.is_set()
    assert sf.info(str(tmp_path / "reply.wav")).frames == 0


def test_unwritable_path_is_a_clear_error(tmp_path):
    with pytest.raises(DeviceError, match="cannot write replies to"):
        WavWriter(tmp_path / "no" / "such" / "dir" / "reply.wav")
