"""`assistant bench`: run the benchmarks in bench/, print one table, write one JSON file.

Each benchmark is a script in the checkout's ``bench/`` folder that prints its
own detailed table and writes ``bench/results/NAME.json``, with ``headline``
rows for this summary (``bench._common.headline``: metric, value, unit, and
the same measure for the raw library we wrap, where that is meaningful). The
scripts run one after another, each in its own process, so each one's memory
figures are its own and one failing does not stop the rest; the headline rows
of every result file a script wrote go into one table (ours vs raw as a ratio)
and ``bench/results/summary.json``. A new benchmark is one line in
``BENCHMARKS``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.config import Config
from assistant.errors import UsageError

RESULTS_ENV = "ASSISTANT_BENCH_RESULTS"
"""Where the scripts write their JSON (default bench/results); tests point it at a temporary folder."""


@dataclass(frozen=True)
class Benchmark:
    name: str
    script: str
    about: str
    quick: tuple[str, ...] = ()
    """Arguments for a short run (``--quick``): the same measurements on less audio."""
    default: bool = True
    """Part of a plain ``assistant bench``; the long accuracy sweep is asked for by name."""


BENCHMARKS = (
    Benchmark("wake", "bench_wake.py", "both wake engines vs their raw libraries: CPU, memory per stream, detection, false accepts", ("--seconds", "10", "--repeats", "1", "--limit", "4")),
    Benchmark("asr", "bench_asr.py", "recognizer real-time factor, speech_end→transcript, model memory, WER", ("--quick",)),
    Benchmark("intents", "bench_intents.py", "intent matching latency and memory", ("--repeats", "1")),
    Benchmark("tts", "bench_tts.py", "speech synthesis latency per engine; pyttsx3 hosting", ("--repeats", "2", "--utterances", "8")),
    Benchmark("playback", "bench_playback.py", "reply playback timing on a PulseAudio null sink", ("--repeats", "2")),
    Benchmark("loop", "bench_loop.py", "end of speech → first reply audio by stage, idle CPU, memory", ("--quick",)),
    Benchmark("server", "bench_server.py", "concurrent WebSocket streams"),
    Benchmark("wyoming", "bench_wyoming.py", "Wyoming speech to text vs wyoming-faster-whisper: audio-stop → transcript, accuracy", ("--quick",)),
    Benchmark("frontend", "bench_frontend.py", "audio front end: kitchen noise removed, speech level kept, CPU", ("--levels", "2", "--clips", "4")),
    Benchmark("accuracy", "bench_accuracy.py", "command acceptance clean and in noise; wake detection", ("--snr", "6", "--limit", "4"), default=False),
)


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    names = ", ".join(b.name for b in BENCHMARKS)
    p = sub.add_parser("bench", parents=[common], help="run the benchmarks (from a source checkout): one table, JSON in bench/results")
    p.add_argument("names", nargs="*", metavar="NAME", help=f"benchmarks to run: {names} (default: all but accuracy)")
    p.add_argument("--all", action="store_true", help="every benchmark, including the long accuracy sweep")
    p.add_argument("--quick", action="store_true", help="short runs of each (less audio, fewer repeats): a smoke test, not numbers to quote")
    p.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, config: Config) -> int:
    if args.list:
        for b in BENCHMARKS:
            print(f"{b.name:<10} {b.about}{'' if b.default else ' (only by name or --all)'}")
        return 0
    folder = bench_folder()
    chosen = select(args.names, args.all)
    results_dir = Path(os.environ.get(RESULTS_ENV) or folder / "results")
    outcomes = {}
    for b in chosen:
        outcomes[b.name] = run_one(b, folder, results_dir, quick=args.quick)
    rows = summary_rows(outcomes)
    print(format_table(rows))
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / "summary.json"
    path.write_text(json.dumps({"quick": args.quick, "benchmarks": outcomes}, indent=2, ensure_ascii=False) + "\n")
    print(f"\nwrote {path}")
    return 1 if any(o["status"] == "failed" for o in outcomes.values()) else 0


def bench_folder() -> Path:
    folder = Path(__file__).resolve().parent.parent.parent / "bench"
    if not folder.is_dir():
        raise UsageError("assistant bench runs from a source checkout: the benchmarks live in bench/ beside the assistant package (git clone the project and run it there)")
    return folder


def select(names: list[str], everything: bool) -> list[Benchmark]:
    known = {b.name: b for b in BENCHMARKS}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise UsageError(f"unknown benchmark {', '.join(unknown)}; known: {', '.join(known)}")
    if names:
        return [known[n] for n in dict.fromkeys(names)]
    return [b for b in BENCHMARKS if b.default or everything]


def run_one(b: Benchmark, folder: Path, results_dir: Path, *, quick: bool) -> dict[str, Any]:
    """Run one script (its output goes to stderr as it comes) and collect the result files it wrote."""
    script = folder / b.script
    if not script.is_file():
        print(f"\n== {b.name}: skipped, {script.name} is not in this checkout", file=sys.stderr, flush=True)
        return {"status": "skipped", "reason": f"bench/{b.script} is not in this checkout", "headline": []}
    command = [sys.executable, str(script), *(b.quick if quick else ())]
    print(f"\n== {b.name}: {b.about}\n   {' '.join(command[1:])}", file=sys.stderr, flush=True)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(folder.parent), os.environ.get("PYTHONPATH")])), RESULTS_ENV: str(results_dir)}
    before = _written(results_dir)
    began = time.perf_counter()
    done = subprocess.run(command, cwd=folder.parent, env=env, stdout=sys.stderr, stderr=sys.stderr)
    seconds = round(time.perf_counter() - began, 1)
    files = sorted(p for p, mtime in _written(results_dir).items() if before.get(p) != mtime)
    headline = []
    for path in files:
        data = json.loads(path.read_text())
        headline += data.get("headline") or [{"metric": f"details in {path.name}", "value": None, "unit": ""}]
    status = "ok" if done.returncode == 0 else "failed"
    result: dict[str, Any] = {"status": status, "seconds": seconds, "command": " ".join(command[1:]), "files": [str(p) for p in files], "headline": headline}
    if status == "failed":
        result["reason"] = f"exit code {done.returncode} (its output is above)"
    return result


def _written(folder: Path) -> dict[Path, int]:
    """Result files and when they were last written: a script's results are the files it changed."""
    return {p: p.stat().st_mtime_ns for p in folder.glob("*.json") if p.name != "summary.json"} if folder.is_dir() else {}


def summary_rows(outcomes: dict[str, dict[str, Any]]) -> list[list[str]]:
    rows = []
    for name, outcome in outcomes.items():
        if outcome["status"] != "ok":
            rows.append([name, outcome["status"], "", "", outcome.get("reason", ""), ""])
            continue
        for line in outcome["headline"]:
            raw = line.get("raw")
            ratio = _ratio(line.get("value"), raw)
            reference = f"{_fmt(raw)} ({line.get('raw_name', 'raw library')})" if raw is not None else ""
            rows.append([name, line["metric"], _fmt(line.get("value")), line.get("unit", ""), reference, ratio])
    return rows


def format_table(rows: list[list[str]]) -> str:
    headers = ["benchmark", "metric", "ours", "unit", "raw library / reference", "ours ÷ raw"]
    cells = [headers, *rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = [" | ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _ratio(value: Any, raw: Any) -> str:
    if isinstance(value, (int, float)) and isinstance(raw, (int, float)) and raw:
        return f"{value / raw:.2f}"
    return ""
