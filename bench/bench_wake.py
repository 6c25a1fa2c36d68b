"""Idle-loop speed: seconds of audio per CPU second while listening for the wake word.

Our listening loop (pipeline.feed: ring buffer, wake detector with trigger and
refractory logic, noise-floor tracking for the endpointer; webrtcvad itself
runs once the wake word fired) against raw openWakeWord ``Model.predict`` on
the same pre-decoded audio, for 1 and 3 wake models, keeping each one's best
run so a noisy neighbour on the machine does not decide the ratio. The last row
is the no-wake loop: webrtcvad endpointing on every frame.

    python bench/bench_wake.py [--seconds 120] [--repeats 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from bench._common import DATA, headline, load_16k, machine, save, table  # noqa: E402

CHUNK = 1280


def idle_audio(seconds: float) -> np.ndarray:
    """Real sound without a wake word: spoken coffee orders and kitchen noise."""
    parts = [load_16k(p) for p in sorted((DATA / "coffee-dev" / "clips").glob("*.flac"))]
    parts.append(load_16k(DATA / "coffee-dev" / "kitchen_noise.flac"))
    audio = np.concatenate(parts)
    n = int(seconds * 16000) // CHUNK * CHUNK
    return np.resize(audio, n).reshape(-1, CHUNK)


def raw_openwakeword(models: list[str], chunks: np.ndarray) -> float:
    from assistant.wake import load_openwakeword, resolve_model

    model = load_openwakeword([resolve_model(m)[1] for m in models])
    start = time.process_time()
    for chunk in chunks:
        model.predict(chunk)
    return time.process_time() - start


def ours(models: list[str], chunks: np.ndarray) -> float:
    from assistant.config import Config
    from assistant.events import EventEmitter
    from assistant.stages import make_pipeline

    wake = {"models": models} if models else {"enabled": False}
    pipeline = make_pipeline(Config.model_validate({"wake": wake}), EventEmitter())
    start = time.process_time()
    for chunk in chunks:
        pipeline.feed(chunk)
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0, help="audio per run")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    chunks = idle_audio(args.seconds)
    audio_seconds = chunks.size / 16000
    rows, results = [], []
    for models in (["hey_jarvis"], ["hey_jarvis", "alexa", "hey_mycroft"]):
        raw_cpu = min(raw_openwakeword(models, chunks) for _ in range(args.repeats))
        our_cpu = min(ours(models, chunks) for _ in range(args.repeats))
        overhead = our_cpu / raw_cpu - 1
        row = {
            "models": models,
            "audio_seconds": audio_seconds,
            "raw_openwakeword_x_realtime": audio_seconds / raw_cpu,
            "assistant_x_realtime": audio_seconds / our_cpu,
            "assistant_cpu_percent_of_one_core": 100 * our_cpu / audio_seconds,
            "overhead": overhead,
        }
        results.append(row)
        rows.append([len(models), row["raw_openwakeword_x_realtime"], row["assistant_x_realtime"], row["assistant_cpu_percent_of_one_core"], f"{100 * overhead:+.1f}%"])
    vad_cpu = min(ours([], chunks) for _ in range(args.repeats))
    results.append({"models": [], "audio_seconds": audio_seconds, "assistant_x_realtime": audio_seconds / vad_cpu, "assistant_cpu_percent_of_one_core": 100 * vad_cpu / audio_seconds})
    rows.append(["0 (--no-wake: VAD on every frame)", "", audio_seconds / vad_cpu, 100 * vad_cpu / audio_seconds, ""])
    print(f"Idle listening, {audio_seconds:.0f} s of real audio, best of {args.repeats}; {machine()}")
    print(table(["wake models", "raw openWakeWord (x realtime)", "assistant (x realtime)", "assistant CPU % of a core", "overhead"], rows))
    lines = [
        headline(
            f"idle loop CPU, {len(r['models'])} wake model{'s' if len(r['models']) > 1 else ''}",
            round(r["assistant_cpu_percent_of_one_core"], 2),
            "% of a core",
            raw=round(100 / r["raw_openwakeword_x_realtime"], 2),
            raw_name="openWakeWord predict",
        )
        for r in results
        if r["models"]
    ]
    lines.append(headline("idle loop CPU, --no-wake (VAD on every frame)", round(results[-1]["assistant_cpu_percent_of_one_core"], 2), "% of a core"))
    print(f"written to {save('wake_idle', {'runs': results}, headline=lines)}")


if __name__ == "__main__":
    main()
