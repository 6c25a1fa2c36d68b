"""`assistant bench` and the loop benchmark on tiny subsets (the real runs live in bench/)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from assistant.commands import bench
from tests.helpers import REPO, cli


def test_list_names_every_benchmark():
    done = cli("bench", "--list")
    assert done.returncode == 0
    listed = [line.split()[0] for line in done.stdout.decode().splitlines()]
    assert listed == [b.name for b in bench.BENCHMARKS]
    assert all((REPO / "bench" / b.script).is_file() for b in bench.BENCHMARKS if b.name != "server")


def test_an_unknown_benchmark_is_a_clear_error():
    done = cli("bench", "wakeword")
    assert done.returncode == 2 and "unknown benchmark wakeword; known: wake, asr" in done.stderr.decode()


def test_a_missing_script_is_reported_as_skipped(tmp_path):
    outcome = bench.run_one(bench.Benchmark("later", "bench_not_written_yet.py", "a future benchmark"), REPO / "bench", tmp_path, quick=True)
    assert outcome["status"] == "skipped" and "bench/bench_not_written_yet.py is not in this checkout" in outcome["reason"]
    assert bench.summary_rows({"later": outcome}) == [["later", "skipped", "", "", outcome["reason"], ""]]


@pytest.mark.slow
def test_the_front_door_runs_a_benchmark_and_compares_with_the_raw_library(tmp_path):
    done = cli("bench", "wake", "--quick", env={bench.RESULTS_ENV: str(tmp_path)}, timeout=300)
    assert done.returncode == 0, done.stderr.decode()
    out = done.stdout.decode()
    rows = [[c.strip() for c in line.split("|")] for line in out.splitlines() if line.startswith("wake ")]
    one_model = next(r for r in rows if r[1] == "wake detector CPU, openwakeword, 1 model")
    ours, raw, ratio = float(one_model[2]), float(one_model[4].split()[0]), float(one_model[5])
    assert one_model[3] == "% of a core" and "openWakeWord Model.predict" in one_model[4]
    assert 0 < ours < 50 and ratio == pytest.approx(ours / raw, abs=0.01)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["quick"] is True and summary["benchmarks"]["wake"]["status"] == "ok"
    assert summary["benchmarks"]["wake"]["files"] == [str(tmp_path / "wake_idle.json")]
    assert "bench_wake.py --seconds 10 --repeats 1 --limit 4" in done.stderr.decode()  # the script's own output and command


@pytest.mark.slow
def test_loop_benchmark_reports_every_stage_and_the_idle_cost(tmp_path):
    """One real coffee order, one synthetic command in two voices and one Korean command for vosk at two
    speeds, live, replies written to a file: end of speech → first audio and each stage are there for both
    configurations, early cuts are counted, and idle listening is compared with the wake engine's own library."""
    env = {**os.environ, "PYTHONPATH": str(REPO), bench.RESULTS_ENV: str(tmp_path), "HF_HUB_OFFLINE": "1"}
    args = ["--clips", "1", "--synthetic", "1", "--idle-seconds", "2", "--no-device", "--no-one-core"]
    done = subprocess.run([sys.executable, str(REPO / "bench" / "bench_loop.py"), *args], capture_output=True, env=env, cwd=REPO, timeout=300)
    assert done.returncode == 0, done.stderr.decode()
    result = json.loads((tmp_path / "loop.json").read_text())
    sets = result["two_cores"]["sets"]
    real, synthetic, korean = sets["coffee-dev (real)"], sets["synthesised"], sets["vosk + grammar (Korean, synthesised)"]
    for runs, commands in ((real, 1), (synthetic, 2), (korean, 2)):
        for name in ("before", "after"):
            run = runs[name]
            assert (run["commands"], run["answered"]) == (commands, commands), run["failed"]
            assert {"endpoint", "recognition", "intent", "reply text", "first audio", "total"} <= set(run)
            assert 0 < run["total"]["p50"] < 10
        assert runs["before"]["endpoint_silence"]["p50"] >= 0.45  # the fixed end waits its 700 ms (less the word's soft edge)
    assert result["early_cuts"]["synthesised"]["commands"] == 2
    assert result["idle"]["assistant_cpu_percent"] > 0 and result["idle"]["raw_wake_cpu_percent"] > 0
    metrics = [h["metric"] for h in result["headline"]]
    assert "idle listening CPU (hey_jarvis, real time)" in metrics and any(m.startswith("end of speech→first audio") for m in metrics)
    assert "end of speech → first audio" in done.stdout.decode()