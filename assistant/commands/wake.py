"""`assistant wake FILE...`: run the wake-word detector over files and report detections.

Each file is scored from a fresh (deterministic) detector, with a second of
silence before and after it, as openWakeWord's own clip scoring does, so a wake
word at the very start or end of a short clip is still seen whole.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from assistant.config import Config

PAD_SECONDS = 1.0


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("wake", parents=[common], help="detect wake words in audio files")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--model", dest="wake_model", action="append", metavar="NAME", help="wake model name or path (repeatable); default from config")
    p.add_argument("--threshold", type=float, help="score threshold (overrides wake.threshold)")
    p.add_argument("--json", action="store_true", help="one JSON line per file")
    p.set_defaults(func=run)


def scan(detector, source) -> dict:
    """Detections and the highest score per model for one source."""
    from assistant.audio.convert import SAMPLE_RATE
    from assistant.audio.source import CHUNK_SAMPLES

    pad = np.zeros(int(PAD_SECONDS * SAMPLE_RATE) // CHUNK_SAMPLES * CHUNK_SAMPLES, np.int16)
    detector.reset()
    max_score = dict.fromkeys(detector.names, 0.0)
    detections = []
    position = -len(pad)

    def score(chunk: np.ndarray) -> None:
        nonlocal position
        hit = detector.process(chunk)
        position += len(chunk)
        for name, value in detector.scores.items():
            max_score[name] = max(max_score[name], value)
        if hit is not None:
            detections.append({"model": hit.model, "t": round(max(position, 0) / SAMPLE_RATE, 3), "score": round(hit.score, 4)})

    for chunk in pad.reshape(-1, CHUNK_SAMPLES):
        score(chunk)
    for chunk in source.frames():
        score(chunk)
    for chunk in pad.reshape(-1, CHUNK_SAMPLES):
        score(chunk)
    return {"detections": detections, "max_score": {k: round(v, 4) for k, v in max_score.items()}}


def run(args: argparse.Namespace, config: Config) -> int:
    from assistant.audio.file import FileSource
    from assistant.errors import AudioInputError
    from assistant.stages import make_wake

    detector = make_wake(config)
    failed = 0
    for path in args.files:
        problems: list[str] = []
        try:
            source = FileSource(path, channel=config.audio.channel, emit=lambda e: problems.append(e.message) if e.type == "error" else None)
            result = {"file": path, **scan(detector, source)}
        except AudioInputError as exc:
            failed += 1
            result = {"file": path, "error": str(exc)}
        if problems:
            result["warnings"] = problems
        if args.json:
            print(json.dumps(result), flush=True)
        elif "error" in result:
            print(f"{path}: error: {result['error']}", file=sys.stderr)
        else:
            hits = ", ".join(f"{d['model']} at {d['t']:.2f}s ({d['score']:.2f})" for d in result["detections"]) or "no wake word"
            best = " ".join(f"{k}={v:.2f}" for k, v in result["max_score"].items())
            print(f"{path}: {hits}   [max {best}]")
    return 1 if failed else 0
