"""Text-to-speech: load time, synthesis latency and real-time factor per engine; how to host pyttsx3.

Part 1 times our speakers (``load_speaker``) on short, medium and long replies:
latency is text in → 16 kHz audio out, the "reply text → first audio" stage
minus playback. Part 2 is the measurement behind running pyttsx3 in a worker
process: the same utterances through pyttsx3 hosted three ways, counting
utterances that came back empty (lost) and lines pyttsx3 printed on stdout.

    python bench/bench_tts.py [--repeats 20] [--utterances 120]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import wave
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import headline, machine, percentile, save, table  # noqa: E402

TEXTS = {
    "short": "It's five past three.",
    "medium": "Timer set for five minutes. I will tell you when it is done.",
    "long": (
        "Here is the weather for today. It will be sunny in the morning with a light breeze, "
        "clouds will build in the afternoon, and there is a chance of rain in the evening, "
        "so take an umbrella if you go out after six."
    ),
}
HOSTING_TEXTS = ["what time is it", "turn off the music", "the door is locked", "timer set for five minutes"]


def time_engine(engine: str, repeats: int) -> list[list[object]]:
    from assistant.config import load_config
    from assistant.tts import load_speaker

    started = time.perf_counter()
    speaker = load_speaker(load_config(overrides={"tts.engine": engine}))
    load = time.perf_counter() - started
    rows = []
    try:
        for name, text in TEXTS.items():
            latencies, seconds = [], 0.0
            for _ in range(repeats):
                t0 = time.perf_counter()
                audio = speaker.synthesize(text)
                latencies.append(time.perf_counter() - t0)
                seconds = len(audio) / 16000
            p50 = percentile(latencies, 50)
            rows.append([engine, f"{load:.2f}", name, f"{seconds:.2f}", f"{p50 * 1000:.0f}", f"{percentile(latencies, 95) * 1000:.0f}", f"{p50 / seconds:.3f}"])
    finally:
        speaker.close()
    return rows


def host_in_process(mode: str, utterances: int) -> dict:
    """Child process: pyttsx3 in this process: one engine reused, a fresh engine per utterance, or a fresh
    engine every other utterance (as a program does that rebuilds its engine now and then, e.g. for a new voice)."""
    import pyttsx3

    latencies, lost = [], 0
    engine = pyttsx3.init("espeak")
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(utterances):
            if mode == "fresh" or (mode == "mixed" and i % 2):
                engine = pyttsx3.Engine("espeak")
            path = os.path.join(tmp, f"{i}.wav")
            t0 = time.perf_counter()
            engine.save_to_file(HOSTING_TEXTS[i % len(HOSTING_TEXTS)], path)
            done = threading.Event()
            threading.Thread(target=lambda e=engine, d=done: (e.runAndWait(), d.set()), daemon=True).start()
            if not done.wait(5):
                return {"latencies": latencies, "lost": lost + utterances - i, "hung": True}
            with wave.open(path) as w:
                frames = w.getnframes()
            latencies.append(time.perf_counter() - t0)
            lost += frames < 0.3 * 22050
    return {"latencies": latencies, "lost": lost, "hung": False}


def host_worker(utterances: int) -> dict:
    """Child process: our Pyttsx3Speaker (worker process), restarted every 4 utterances to exercise start-up."""
    from assistant.tts.espeak import Pyttsx3Speaker

    latencies, lost = [], 0
    speaker = None
    for i in range(utterances):
        if i % 4 == 0:
            if speaker is not None:
                speaker.close()
            speaker = Pyttsx3Speaker()
        t0 = time.perf_counter()
        audio = speaker.synthesize(HOSTING_TEXTS[i % len(HOSTING_TEXTS)])
        latencies.append(time.perf_counter() - t0)
        lost += len(audio) < 0.3 * 16000
    speaker.close()
    return {"latencies": latencies, "lost": lost, "hung": False}


def compare_hosting(utterances: int) -> list[list[object]]:
    rows = []
    for mode in ("reuse", "fresh", "mixed", "worker"):
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            proc = subprocess.run(
                [sys.executable, __file__, "--child", mode, "--utterances", str(utterances), "--child-out", out.name],
                capture_output=True,
                text=True,
                timeout=600,
            )
            if proc.returncode != 0:
                raise SystemExit(f"{mode} child failed:\n{proc.stderr}")
            result = json.loads(Path(out.name).read_text())
        printed = sum(1 for line in proc.stdout.splitlines() if line.strip())
        rows.append([mode, utterances, result["lost"], "yes" if result["hung"] else "no", printed, f"{percentile(result['latencies'], 50) * 1000:.1f}"])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--utterances", type=int, default=120)
    parser.add_argument("--child", choices=["reuse", "fresh", "mixed", "worker"], help=argparse.SUPPRESS)
    parser.add_argument("--child-out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = host_worker(args.utterances) if args.child == "worker" else host_in_process(args.child, args.utterances)
        Path(args.child_out).write_text(json.dumps(result))
        return

    speed = [row for engine in ("pyttsx3", "piper") for row in time_engine(engine, args.repeats)]
    speed_headers = ["engine", "load s", "reply", "audio s", "p50 ms", "p95 ms", "RTF"]
    hosting = compare_hosting(args.utterances)
    hosting_headers = ["pyttsx3 hosting", "utterances", "lost (empty)", "hung", "stdout lines", "p50 ms"]
    print(f"TTS on {machine()}\n")
    print(table(speed_headers, speed))
    print()
    print(table(hosting_headers, hosting))
    path = save(
        "tts",
        {
            "repeats": args.repeats,
            "utterances": args.utterances,
            "speed": [dict(zip(speed_headers, row, strict=True)) for row in speed],
            "hosting": [dict(zip(hosting_headers, row, strict=True)) for row in hosting],
        },
        headline=[headline(f"{row[0]} synthesis p50, {row[2]} reply ({row[3]} s)", float(row[4]), "ms") for row in speed if row[2] != "long"],
    )
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
