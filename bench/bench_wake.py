"""Wake engines compared: speed against their raw libraries, per-stream cost, detection and false accepts.

Speed (seconds of audio per CPU second, best of ``--repeats``, the variants
interleaved so a noisy neighbour hits them alike), for openWakeWord and
microWakeWord with 1 and 3 models, on the same pre-decoded real audio without a
wake word (coffee orders and kitchen noise):

- raw: the library's own streaming API (openWakeWord ``Model.predict``;
  pymicro-wakeword ``MicroWakeWordFeatures.process_streaming`` feeding each
  ``MicroWakeWord.process_streaming``);
- detector: our ``WakeDetector.process``, what the pipeline calls per chunk;
  detector ÷ raw is our overhead;
- listening loop: ``Pipeline.feed`` while listening (ring buffer, detector,
  the endpointer's noise floor), for what a user's machine spends idle.

Per stream: memory and open ``.tflite`` files of more detectors (10
openWakeWord, 200 microWakeWord), and the files left once they are closed. Accuracy with each engine's default thresholds:
"alexa" detected in the wake-dev alexa_*.flac recordings, clean and with kitchen
noise at 10 dB SNR, by our detector and by the raw library on the same padded
audio; false accepts of alexa, hey_jarvis, hey_mycroft and okay_nabu on the
coffee-dev speech, which never says a wake word.

    python bench/bench_wake.py [--seconds 120] [--repeats 3] [--limit N]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import psutil  # noqa: E402

from bench._common import DATA, headline, load_16k, machine, save, table  # noqa: E402

CHUNK = 1280
RATE = 16000
ENGINES = ("openwakeword", "microwakeword")
MODEL_SETS = (["hey_jarvis"], ["hey_jarvis", "alexa", "hey_mycroft"])
FALSE_ACCEPT_MODELS = ["alexa", "hey_jarvis", "hey_mycroft", "okay_nabu"]
NOISE_SNR_DB = 10.0
STREAMS = {"openwakeword": 10, "microwakeword": 200}
"""Detectors opened at once to measure a stream's memory (openWakeWord's take some 30 MiB each)."""
PAD = np.zeros(RATE, np.int16)
"""A second of silence on both sides of a clip, as ``assistant wake`` scores files."""


def idle_audio(seconds: float) -> np.ndarray:
    """Real sound without a wake word: spoken coffee orders and kitchen noise."""
    parts = [load_16k(p) for p in sorted((DATA / "coffee-dev" / "clips").glob("*.flac"))]
    parts.append(load_16k(DATA / "coffee-dev" / "kitchen_noise.flac"))
    audio = np.concatenate(parts)
    n = int(seconds * RATE) // CHUNK * CHUNK
    return np.resize(audio, n).reshape(-1, CHUNK)


# -- the raw libraries ---------------------------------------------------------------------------


def raw_openwakeword(models: list[str]) -> Callable[[np.ndarray], dict[str, float]]:
    """openWakeWord's streaming call: chunk → each model's score."""
    from assistant.wake.openwakeword_backend import load_openwakeword, resolve_model

    model = load_openwakeword([resolve_model(m)[1] for m in models])
    return model.predict


def raw_microwakeword(models: list[str]) -> Callable[[np.ndarray], dict[str, float]]:
    """pymicro-wakeword's streaming calls: chunk → features → each model's window mean (the highest in the chunk)."""
    from pymicro_wakeword import MicroWakeWord, MicroWakeWordFeatures, Model

    features = MicroWakeWordFeatures()
    words = [MicroWakeWord.from_builtin(Model(m)) for m in models]

    def step(chunk: np.ndarray) -> dict[str, float]:
        best = dict.fromkeys(models, 0.0)
        for row in features.process_streaming(chunk.tobytes()):
            for name, word in zip(models, words):
                best[name] = max(best[name], word.process_streaming_prob(row) or 0.0)
        return best

    return step


RAW = {"openwakeword": raw_openwakeword, "microwakeword": raw_microwakeword}
RAW_NAME = {"openwakeword": "openWakeWord Model.predict", "microwakeword": "pymicro-wakeword process_streaming"}


def raw_cutoffs(engine: str, models: list[str]) -> dict[str, float]:
    """The raw library's own decision threshold per model."""
    if engine == "openwakeword":
        return dict.fromkeys(models, 0.5)
    from pymicro_wakeword import MicroWakeWord, Model

    return {m: MicroWakeWord.from_builtin(Model(m)).probability_cutoff for m in models}


# -- ours ----------------------------------------------------------------------------------------


def config(engine: str, models: list[str]):
    from assistant.config import Config

    return Config.model_validate({"wake": {"engine": engine, "models": models}, "asr": {"engine": "none"}})


def our_detector(engine: str, models: list[str]):
    from assistant.assembly import make_wake

    return make_wake(config(engine, models))


def our_loop(engine: str, models: list[str]):
    from assistant.assembly import make_pipeline
    from assistant.events import EventEmitter

    return make_pipeline(config(engine, models), EventEmitter())


# -- speed ---------------------------------------------------------------------------------------


def cpu_seconds(step: Callable[[np.ndarray], object], chunks: np.ndarray) -> float:
    start = time.process_time()
    for chunk in chunks:
        step(chunk)
    return time.process_time() - start


def speed(engine: str, models: list[str], chunks: np.ndarray, repeats: int) -> dict:
    """Best CPU time of each variant over ``repeats`` interleaved rounds, each on a fresh instance."""
    best = {"raw": float("inf"), "detector": float("inf"), "loop": float("inf")}
    for _ in range(repeats):
        raw = RAW[engine](models)
        best["raw"] = min(best["raw"], cpu_seconds(raw, chunks))
        detector = our_detector(engine, models)
        best["detector"] = min(best["detector"], cpu_seconds(detector.process, chunks))
        detector.close()
        pipeline = our_loop(engine, models)
        best["loop"] = min(best["loop"], cpu_seconds(pipeline.feed, chunks))
        pipeline.close()
    seconds = chunks.size / RATE
    return {
        "engine": engine,
        "models": models,
        "audio_seconds": seconds,
        "raw_x_realtime": seconds / best["raw"],
        "detector_x_realtime": seconds / best["detector"],
        "loop_x_realtime": seconds / best["loop"],
        "loop_cpu_percent_of_one_core": 100 * best["loop"] / seconds,
        "detector_overhead": best["detector"] / best["raw"] - 1,
    }


# -- per stream ----------------------------------------------------------------------------------


def open_tflite_files() -> int:
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            count += os.readlink(f"/proc/self/fd/{fd}").endswith(".tflite")
        except OSError:  # closed since the listing
            pass
    return count


def per_stream(engine: str, models: list[str], streams: int, chunks: np.ndarray) -> dict:
    """What each further stream's detector costs once the models are loaded, and what close() gives back.

    Each detector scores ``chunks`` (a second of audio), so its state is in memory, not only reserved.
    """
    process = psutil.Process()
    our_detector(engine, models).close()  # the process's shared models, loaded once
    rss, files = process.memory_info().rss, open_tflite_files()
    began = time.perf_counter()
    detectors = [our_detector(engine, models) for _ in range(streams)]
    build = (time.perf_counter() - began) / streams
    for detector in detectors:
        cpu_seconds(detector.process, chunks)
    grown_rss, grown_files = process.memory_info().rss, open_tflite_files()
    for detector in detectors:
        detector.close()
    return {
        "engine": engine,
        "models": models,
        "streams": streams,
        "mib_per_stream": (grown_rss - rss) / streams / 2**20,
        "build_ms_per_stream": 1000 * build,
        "tflite_files_per_stream": (grown_files - files) / streams,
        "tflite_files_left_after_close": open_tflite_files() - files,
    }


# -- accuracy ------------------------------------------------------------------------------------


def fires(scores: Callable[[np.ndarray], dict[str, float]], audio: np.ndarray, cutoffs: dict[str, float]) -> set[str]:
    """The models whose score goes above their cutoff anywhere in the padded clip (the raw libraries' decision)."""
    padded = np.concatenate([PAD, audio, PAD])
    padded = padded[: len(padded) // CHUNK * CHUNK].reshape(-1, CHUNK)
    fired: set[str] = set()
    for chunk in padded:
        fired |= {name for name, score in scores(chunk).items() if score > cutoffs[name]}
    return fired


def accuracy(engine: str, alexa: list[np.ndarray], noisy: list[np.ndarray], speech: list[np.ndarray]) -> dict:
    from assistant.wake import scan

    detector = our_detector(engine, ["alexa"])
    cutoffs = raw_cutoffs(engine, ["alexa"])

    fired_at: list[float | None] = []

    def ours(clips: list[np.ndarray]) -> int:
        fired_at.clear()
        for clip in clips:
            hits = [d["t"] for d in scan(detector, clip.reshape(-1, CHUNK)).detections if d["model"] == "alexa"]
            fired_at.append(hits[0] if hits else None)
        return sum(t is not None for t in fired_at)

    def raw(clips: list[np.ndarray]) -> int:
        hits = 0
        for clip in clips:
            hits += "alexa" in fires(RAW[engine](["alexa"]), clip, cutoffs)  # a fresh raw model per clip, as scan resets ours
        return hits

    result = {"engine": engine, "alexa_clips": len(alexa), "detected": ours(alexa), "fired_at": list(fired_at), "raw_detected": raw(alexa)}
    result.update(detected_in_noise=ours(noisy), raw_detected_in_noise=raw(noisy))
    detector.close()
    everyone = our_detector(engine, FALSE_ACCEPT_MODELS)
    false = [d for clip in speech for d in scan(everyone, clip.reshape(-1, CHUNK)).detections]
    everyone.close()
    hours = sum(len(c) for c in speech) / RATE / 3600
    result.update(speech_hours=hours, false_accepts=len(false), false_accepts_per_hour=len(false) / hours, false_accepts_by_model={m: sum(d["model"] == m for d in false) for m in FALSE_ACCEPT_MODELS})
    return result


def clips(limit: int | None) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """The alexa recordings clean and in kitchen noise, and the coffee-dev speech (the first ``limit`` of each); whole chunks."""
    from assistant.evaluate.noise import mix_at_snr

    def whole(audio: np.ndarray) -> np.ndarray:
        return audio[: len(audio) // CHUNK * CHUNK]

    alexa = [whole(load_16k(p)) for p in sorted((DATA / "wake-dev").glob("alexa_*.flac"))[:limit]]
    noise = load_16k(DATA / "coffee-dev" / "kitchen_noise.flac")
    noisy = [mix_at_snr(clip, noise, NOISE_SNR_DB, np.random.default_rng(i)) for i, clip in enumerate(alexa)]
    speech = [whole(load_16k(p)) for p in sorted((DATA / "coffee-dev" / "clips").glob("*.flac"))[:limit]]
    return alexa, noisy, speech


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0, help="idle audio per speed run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--limit", type=int, help="accuracy on the first N alexa and N coffee-dev clips only (default all)")
    args = parser.parse_args()
    chunks = idle_audio(args.seconds)
    # first, and the lighter engine first: memory another measurement freed would be reused and hide the growth
    streams = [per_stream(engine, MODEL_SETS[1], STREAMS[engine], chunks[: RATE // CHUNK]) for engine in sorted(ENGINES, key=STREAMS.get, reverse=True)]
    runs = [speed(engine, models, chunks, args.repeats) for models in MODEL_SETS for engine in ENGINES]
    audio = clips(args.limit)
    checks = [accuracy(engine, *audio) for engine in ENGINES]
    both = [(a, b) for a, b in zip(checks[0]["fired_at"], checks[1]["fired_at"]) if a is not None and b is not None]
    later_ms = 1000 * float(np.median([b - a for a, b in both])) if both else float("nan")

    print(f"Wake engines, {chunks.size / RATE:.0f} s of real audio without a wake word, best of {args.repeats}; {machine()}")
    print(
        table(
            ["engine", "models", "raw library (x realtime)", "our detector (x realtime)", "overhead", "listening loop (x realtime)", "loop CPU % of a core"],
            [[r["engine"], len(r["models"]), r["raw_x_realtime"], r["detector_x_realtime"], f"{100 * r['detector_overhead']:+.1f}%", r["loop_x_realtime"], r["loop_cpu_percent_of_one_core"]] for r in runs],
        )
    )
    print(
        table(
            ["engine (3 models)", "MiB per stream", "build ms per stream", ".tflite files per stream", ".tflite files left after close"],
            [[s["engine"], s["mib_per_stream"], s["build_ms_per_stream"], s["tflite_files_per_stream"], s["tflite_files_left_after_close"]] for s in streams],
        )
    )
    print(
        table(
            ["engine", "alexa detected (ours / raw)", f"at {NOISE_SNR_DB:g} dB kitchen noise (ours / raw)", "false accepts, 4 models", "per hour"],
            [
                [c["engine"], f"{c['detected']}/{c['alexa_clips']} / {c['raw_detected']}", f"{c['detected_in_noise']} / {c['raw_detected_in_noise']}", f"{c['false_accepts']} in {60 * c['speech_hours']:.1f} min", c["false_accepts_per_hour"]]
                for c in checks
            ],
        )
    )
    lines = [
        headline(
            f"wake detector CPU, {r['engine']}, {len(r['models'])} model{'s' if len(r['models']) > 1 else ''}",
            round(100 / r["detector_x_realtime"], 3),
            "% of a core",
            raw=round(100 / r["raw_x_realtime"], 3),
            raw_name=RAW_NAME[r["engine"]],
        )
        for r in runs
    ]
    lines += [headline(f"idle listening loop CPU, {r['engine']}, {len(r['models'])} model(s)", round(r["loop_cpu_percent_of_one_core"], 2), "% of a core") for r in runs]
    lines += [headline(f"memory per stream, {s['engine']}, 3 models", round(s["mib_per_stream"], 2), "MiB") for s in streams]
    for c in checks:
        lines.append(headline(f"alexa detected (wake-dev), {c['engine']}", round(c["detected"] / c["alexa_clips"], 4), "ratio", raw=round(c["raw_detected"] / c["alexa_clips"], 4), raw_name=RAW_NAME[c["engine"]]))
        lines.append(headline(f"wake false accepts (4 models, coffee-dev speech), {c['engine']}", round(c["false_accepts_per_hour"], 2), "per hour"))
    print(f"{ENGINES[1]} fires a median {later_ms:.0f} ms after {ENGINES[0]} on the alexa clips both detect ({len(both)})")
    lines.append(headline(f"{ENGINES[1]} fires later than {ENGINES[0]} (median, alexa clips)", round(later_ms), "ms"))
    payload = {"runs": runs, "per_stream": streams, "accuracy": checks, "microwakeword_fires_later_ms": later_ms}
    print(f"written to {save('wake_idle', payload, headline=lines)}")


if __name__ == "__main__":
    main()
