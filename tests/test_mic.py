"""The microphone source on a real capture device: PulseAudio null sinks paced in real time."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from assistant.assembly import make_pipeline
from assistant.audio.mic import MicrophoneSource
from assistant.config import Config
from assistant.errors import DeviceError
from assistant.events import EventEmitter
from tests.helpers import WAKE_DEV, read, silence
from tests.pulse import PulseServer


class Listening:
    """A pipeline running on a microphone in a background thread, collecting its events."""

    def __init__(self, source_kwargs: dict | None = None, wake: str = "alexa") -> None:
        self.events: list = []
        emitter = EventEmitter([self.events.append])
        self.pipeline = make_pipeline(Config.model_validate({"wake": {"models": [wake]}}), emitter)
        self.source = MicrophoneSource(None, emit=emitter.emit, retry_seconds=0.5, **(source_kwargs or {}))
        self.thread = threading.Thread(target=self.pipeline.run, args=(self.source,), daemon=True)
        self.thread.start()

    def wait_for(self, kind: str, timeout: float, after: int = 0) -> list:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [e for e in self.events[after:] if e.type == kind]
            if found:
                return found
            time.sleep(0.05)
        raise AssertionError(f"no {kind!r} event within {timeout} s; got {[e.type for e in self.events]}")

    def stop(self) -> None:
        self.source.close()
        self.thread.join(5)
        assert not self.thread.is_alive()


@pytest.mark.slow
@pytest.mark.parametrize(("device_rate", "block"), [(None, 1280), (44100, 1280), (None, 320), (44100, 320)], ids=["16k", "44.1k-resampled", "16k-20ms-blocks", "44.1k-20ms-blocks"])
def test_wake_word_played_into_the_microphone_fires_in_real_time(pulse, device_rate, block):
    """80 ms chunks, and the 20 ms blocks ``assistant run`` asks for (``audio.block_ms``)."""
    listening = Listening({"device_rate": device_rate, "block_samples": block})
    try:
        opened = listening.wait_for("device", 5)[0]
        assert opened.rate == (device_rate or 16000)
        deadline = time.monotonic() + 10  # a fresh capture stream can take a while to deliver its first audio
        while listening.source.stats.frames * block < 8000 and time.monotonic() < deadline:  # 0.5 s of audio has arrived
            time.sleep(0.05)
        clip = np.concatenate([read(WAKE_DEV / "alexa_test.wav"), silence(1.0)])
        started = time.monotonic()
        pulse.play(clip)
        wake = listening.wait_for("wake", 15)[0]  # the clip and its silence last 1.6 s; a busy shared machine may lag behind
        assert wake.model == "alexa"
        assert time.monotonic() - started >= 0.5  # paced like a real microphone, not read ahead
    finally:
        listening.stop()
    stats = [e for e in listening.events if e.type == "audio_stats"][-1]
    assert stats.dropped_frames == 0 and stats.frames * block >= 12800


def test_unknown_device_name_lists_the_devices(pulse):
    with pytest.raises(DeviceError) as err:
        MicrophoneSource("no such microphone")
    text = str(err.value)
    assert "no such microphone" in text and "Input devices" in text and "default" in text


@pytest.mark.slow
def test_device_that_disappears_is_reported_and_reopened(pulse, monkeypatch):
    """The sound server dies (as a USB microphone unplugged would take the device away): the source
    reports it, keeps retrying, and once a server is back the wake word works again."""
    own = PulseServer()
    for key in ("PULSE_SERVER", "PULSE_SINK", "PULSE_SOURCE"):
        monkeypatch.setenv(key, own.env[key])
    listening = Listening()
    try:
        listening.wait_for("device", 5)
        own.stop()
        lost = listening.wait_for("error", 10)
        assert lost[0].code in ("device_lost", "device_unavailable")
        mark = len(listening.events)
        back = PulseServer()
        for key in ("PULSE_SERVER", "PULSE_SINK", "PULSE_SOURCE"):
            monkeypatch.setenv(key, back.env[key])
        try:
            listening.wait_for("device", 15, after=mark)
            time.sleep(0.5)
            back.play(np.concatenate([read(WAKE_DEV / "alexa_test.wav"), silence(1.0)]))
            assert listening.wait_for("wake", 6, after=mark)[0].model == "alexa"
        finally:
            listening.stop()
            back.stop()
    finally:
        listening.source.close()
