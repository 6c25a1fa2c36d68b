"""Running for days: memory stays flat while the loop listens, wakes and bounds commands for a long time."""

from __future__ import annotations

import numpy as np
import psutil
import pytest

from assistant.config import Config
from assistant.events import EventEmitter
from assistant.latency import LatencyTracker
from assistant.stages import make_pipeline
from tests.helpers import COFFEE_DEV, piper, read, silence, trim

pytestmark = pytest.mark.slow


def test_memory_is_flat_over_twelve_minutes_of_audio():
    """Twelve minutes of real kitchen noise with a wake word and a command every half minute, through
    the listening loop (wake word, VAD, latency tracking; no recognizer so it runs fast): after the
    first minutes the resident memory no longer grows."""
    noise = read(COFFEE_DEV / "kitchen_noise.flac") // 4
    turn = np.concatenate([silence(1.0), trim(piper("hey jarvis")), silence(0.3), trim(piper("what time is it")), silence(1.0)])
    minute = np.concatenate([noise[: 30 * 16000 - len(turn)], turn, noise[30 * 16000 : 60 * 16000 - len(turn)], turn])
    events = []
    tracker = LatencyTracker()
    pipeline = make_pipeline(Config.model_validate({"asr": {"engine": "none"}}), EventEmitter([tracker, lambda e: events.append(e.type)]))
    chunks = minute[: len(minute) // 1280 * 1280].reshape(-1, 1280)
    process = psutil.Process()
    for minute_number in range(12):
        events.clear()
        for chunk in chunks:
            pipeline.feed(chunk)
        if minute_number == 2:
            warm = process.memory_info().rss
    grown = process.memory_info().rss - warm
    assert events.count("wake") == 2 and events.count("speech_end") == 2  # still working in the last minute
    assert grown < 4 * 1024 * 1024, f"resident memory grew {grown / 1e6:.1f} MB over 9 minutes of audio"
