"""`assistant wake FILE...`: run the wake-word detector over files and report detections."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from typing import TYPE_CHECKING

from assistant.commands import WAKE_ENGINES
from assistant.config import Config

if TYPE_CHECKING:
    from assistant.wake import WakeDetector


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("wake", parents=[common], help="detect wake words in audio files")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--model", dest="wake_model", action="append", metavar="NAME", help="wake model name or path (repeatable); default from config")
    p.add_argument("--engine", "--wake-engine", dest="wake_engine", choices=WAKE_ENGINES, help="wake-word engine (overrides wake.engine)")
    p.add_argument("--threshold", type=float, help="score threshold (overrides wake.threshold)")
    p.add_argument("--json", action="store_true", help="one JSON line per file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, config: Config) -> int:
    from assistant.assembly import make_wake

    detector = make_wake(config)
    try:
        return _scan_files(args, config, detector)
    finally:
        detector.close()


def _scan_files(args: argparse.Namespace, config: Config, detector: WakeDetector) -> int:
    from assistant.audio.file import FileSource
    from assistant.errors import AudioInputError
    from assistant.wake import scan

    failed = 0
    for path in args.files:
        problems: list[str] = []
        try:
            source = FileSource(path, channel=config.audio.channel, emit=lambda e: problems.append(e.message) if e.type == "error" else None)
            result = {"file": path, **asdict(scan(detector, source.frames()))}
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
