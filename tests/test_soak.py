"""Running for days: memory stays flat while the loop listens, wakes and bounds commands for a long time.

The loop runs in a process of its own: the test process holds other tests' long-lived helpers (the
session's PulseAudio recorders keep every sample they hear, so they grow with wall time, faster than a
leak would show on a busy machine), and their memory is not the loop's.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import psutil
import pytest

from tests.helpers import COFFEE_DEV, REPO, piper, read, silence, trim

pytestmark = pytest.mark.slow

MINUTES = 12
WARM_MINUTES = 3
"""Memory is measured from the end of this minute on: the first minutes fill caches and pools."""


def test_memory_is_flat_over_twelve_minutes_of_audio(tmp_path):
    """Twelve minutes of real kitchen noise with a wake word and a command every half minute, through
    the listening loop (wake word, VAD, latency tracking; no recognizer so it runs fast): after the
    first minutes the resident memory no longer grows."""
    noise = read(COFFEE_DEV / "kitchen_noise.flac") // 4
    turn = np.concatenate([silence(1.0), trim(piper("hey jarvis")), silence(0.3), trim(piper("what time is it")), silence(1.0)])
    minute = np.concatenate([noise[: 30 * 16000 - len(turn)], turn, noise[30 * 16000 : 60 * 16000 - len(turn)], turn])
    audio = tmp_path / "minute.npy"
    np.save(audio, minute[: len(minute) // 1280 * 1280])
    done = subprocess.run(
        [sys.executable, "-c", f"from tests.test_soak import soak; soak({str(audio)!r})"], capture_output=True, cwd=REPO, timeout=280
    )
    assert done.returncode == 0, done.stderr.decode()
    result = json.loads(done.stdout.decode().splitlines()[-1])
    assert result["last_minute"] == {"wake": 2, "speech_end": 2}  # still working in the last minute
    grown = result["grown"]
    assert grown < 4 * 1024 * 1024, f"resident memory grew {grown / 1e6:.1f} MB over {MINUTES - WARM_MINUTES} minutes of audio"


def soak(path: str) -> None:
    """The loop over the minute of audio at ``path``, ``MINUTES`` times; prints what the test checks as JSON."""
    from assistant.assembly import make_pipeline
    from assistant.config import Config
    from assistant.events import EventEmitter
    from assistant.latency import LatencyTracker

    chunks = np.load(Path(path)).reshape(-1, 1280)
    events: list[str] = []
    pipeline = make_pipeline(Config.model_validate({"asr": {"engine": "none"}}), EventEmitter([LatencyTracker(), lambda e: events.append(e.type)]))
    process = psutil.Process()
    for minute_number in range(MINUTES):
        events.clear()
        for chunk in chunks:
            pipeline.feed(chunk)
        if minute_number == WARM_MINUTES - 1:
            warm = process.memory_info().rss
    last_minute = {name: events.count(name) for name in ("wake", "speech_end")}
    print(json.dumps({"grown": process.memory_info().rss - warm, "last_minute": last_minute}))
