"""Player on a real output device: PortAudio → ALSA "default" → a PulseAudio null sink, recorded from its monitor."""

from __future__ import annotations

import contextlib
import subprocess
import time

import numpy as np
import pytest

from assistant.audio.playback import Player
from assistant.chimes import wake_chime
from assistant.errors import DeviceError
from tests.helpers import espeak, trim
from tests.speech_check import missing_words, speech_span

RATE = 16000


def tone(hz: float, seconds: float, rate: int = RATE) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    return (0.3 * 32767 * np.sin(2 * np.pi * hz * t)).astype(np.int16)


@pytest.fixture
def player(pulse):  # noqa: F811
    p = Player()
    yield p
    p.close()


class Heard:
    """What reached the speaker sink from the moment the test began."""

    def __init__(self, recording) -> None:
        self._recording = recording
        self.start = recording.mark()

    @property
    def audio(self) -> np.ndarray:
        return self._recording.audio(self.start)

    def time_of(self, sample: int) -> float:
        return self._recording.time_of(self.start + sample)


@pytest.fixture
def recording(pulse):  # noqa: F811
    return Heard(pulse.speaker)


def segments(audio: np.ndarray, level: float = 1500, min_gap: float = 0.05) -> list[tuple[int, int]]:
    """Loud stretches (start, end) in samples, merging gaps shorter than ``min_gap`` (pauses between words)."""
    envelope = np.convolve(np.abs(audio.astype(np.float32)), np.ones(80, np.float32) / 80, mode="same") > level
    edges = np.diff(np.concatenate([[0], envelope.astype(np.int8), [0]]))
    found: list[list[int]] = []
    for start, end in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
        if found and start - found[-1][1] < min_gap * RATE:
            found[-1][1] = end
        else:
            found.append([start, end])
    return [(int(s), int(e)) for s, e in found]


def tones(audio: np.ndarray) -> list[tuple[int, float]]:
    """What played, in order: each tone's pitch (Hz, to 10) and its seconds of sound. On a starved machine the
    sound server can underrun in the middle of a tone and cut it in two with a gap; its pieces, one after the
    other at one pitch, are one tone (a tone played twice would show as twice the seconds)."""
    found: list[tuple[int, float]] = []
    for start, end in segments(audio):
        pitch, seconds = round(dominant_hz(audio[start:end]), -1), (end - start) / RATE
        if found and found[-1][0] == pitch:
            seconds += found.pop()[1]
        found.append((pitch, seconds))
    return found


def dominant_hz(audio: np.ndarray) -> float:
    return float(np.argmax(np.abs(np.fft.rfft(audio.astype(np.float64)))) * RATE / len(audio))


@pytest.mark.slow
def test_speech_arrives_whole_and_intelligible(player, recording):
    speech = trim(espeak("turn off the music"))
    playback = player.play(speech)
    assert playback.wait(10) and playback.error is None and not playback.interrupted
    time.sleep(0.2)
    heard = recording.audio
    span = speech_span(heard)
    assert span is not None, "nothing arrived at the speaker"
    source = speech_span(speech)
    assert (span[1] - span[0]) / RATE == pytest.approx((source[1] - source[0]) / RATE, abs=0.05)  # nothing cut
    missing, text = missing_words(heard[max(0, span[0] - 1600) : span[1] + 1600], "turn off the music")
    assert not missing, f"heard {text!r}"


def test_start_and_end_times_match_what_the_speaker_emitted(player, recording):
    playback = player.play(tone(440, 1.0))
    assert playback.started.wait(2) and playback.wait(5)
    time.sleep(0.2)
    pieces = segments(recording.audio)
    assert [pitch for pitch, _ in tones(recording.audio)] == [440]  # one tone (an underrun may cut it in pieces)
    onset, offset = recording.time_of(pieces[0][0]), recording.time_of(pieces[-1][1])
    # measured here: the first sample is heard 0-50 ms after start_time; allow for a loaded 2-core box
    assert -0.05 < onset - playback.start_time < 0.3
    assert -0.05 < offset - playback.end_time < 0.3
    assert playback.finished.is_set() and offset < playback.end_time + 0.3
    assert playback.end_time - playback.start_time == pytest.approx(1.0, abs=1e-6)


def test_stop_cuts_the_reply_and_reports_the_interruption(player, recording):
    playback = player.play(tone(440, 3.0))
    assert playback.started.wait(2)
    time.sleep(0.5)
    stopped_at = time.monotonic()
    player.stop()
    assert playback.wait(0.5), "stop() did not end playback promptly"
    assert playback.interrupted and playback.error is None
    assert playback.end_time == pytest.approx(stopped_at, abs=0.2)
    time.sleep(0.3)
    (pitch, seconds), *_ = tones(recording.audio)
    assert pitch == 440 and 0.3 < seconds < 1.0, "the tone kept playing after stop()"


def test_queued_replies_play_in_order_and_stop_drops_the_queue(player, recording):
    low, high = player.play(tone(440, 0.4)), player.play(tone(880, 0.4))
    assert high.wait(5) and not low.interrupted and not high.interrupted
    assert high.start_time >= low.end_time - 0.05
    time.sleep(0.2)
    assert tones(recording.audio) == [(440, pytest.approx(0.4, abs=0.06)), (880, pytest.approx(0.4, abs=0.06))]

    first, queued = player.play(tone(440, 2.0)), player.play(tone(880, 2.0))
    assert first.started.wait(2)
    player.stop()
    assert first.wait(1) and queued.wait(1)
    assert first.interrupted and queued.interrupted and not queued.started.is_set()


def test_audio_at_another_rate_plays_at_the_right_pitch_and_length(player, recording):
    playback = player.play(tone(660, 0.8, rate=22050), rate=22050)
    assert playback.duration == pytest.approx(0.8, abs=1e-3) and playback.wait(5)
    time.sleep(0.2)
    assert tones(recording.audio) == [(660, pytest.approx(0.8, abs=0.05))]


def test_wake_chime_is_audible_and_unclipped(player, recording):
    assert player.play(wake_chime()).wait(3)
    time.sleep(0.2)
    heard = recording.audio
    peak = np.abs(heard.astype(np.int32)).max()
    assert 0.2 * 32768 < peak < 0.5 * 32768


def test_empty_audio_finishes_at_once_without_starting(player):
    playback = player.play(np.zeros(0, np.int16))
    assert playback.finished.is_set() and not playback.started.is_set() and not player.playing


def test_device_by_name_and_unknown_names(pulse):  # noqa: F811
    named = Player("pulse")
    try:
        assert named.name == "pulse"
        assert named.play(tone(440, 0.2)).wait(3)
    finally:
        named.close()
    with pytest.raises(DeviceError, match="no output device matches 'no-such-speaker'") as err:
        Player("no-such-speaker")
    assert "pulse" in str(err.value)  # the message lists what exists


def test_a_vanished_speaker_fails_that_reply_and_the_next_plays_when_it_is_back(pulse, monkeypatch):  # noqa: F811
    """The sink is removed and re-created, as when a USB or Bluetooth speaker is unplugged and plugged back."""
    monkeypatch.setenv("PULSE_SINK", "spare")
    module = pulse.pactl("load-module", "module-null-sink", "sink_name=spare").strip()
    player = Player()
    try:
        assert player.play(tone(440, 0.2)).wait(3)
        pulse.pactl("unload-module", module)
        gone = player.play(tone(440, 0.2))
        assert gone.wait(5) and gone.error and "cannot open output device" in gone.error
        assert not gone.started.is_set()
        module = pulse.pactl("load-module", "module-null-sink", "sink_name=spare").strip()
        back = player.play(tone(440, 0.2))
        assert back.wait(5) and back.error is None and back.started.is_set()
    finally:
        player.close()
        with contextlib.suppress(subprocess.CalledProcessError):  # already gone if the test failed midway
            pulse.pactl("unload-module", module)
