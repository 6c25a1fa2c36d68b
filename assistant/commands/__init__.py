"""One module per ``assistant`` subcommand.

Each exposes ``add_parser(subparsers, common)`` that registers its arguments and
sets ``func(args, config) -> exit code``. Imports of models and heavy libraries
stay inside ``func`` so ``assistant --help`` is instant.
"""

from __future__ import annotations

import argparse
from typing import get_args

from assistant.config import WakeEngine

WAKE_ENGINES = get_args(WakeEngine)


def add_wake_engine_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--wake-engine", choices=WAKE_ENGINES, help="wake-word engine (overrides wake.engine)")


def add_model_flags(parser: argparse.ArgumentParser) -> None:
    """The flags of every command that runs the whole pipeline (run, serve, eval)."""
    parser.add_argument("--asr", metavar="ENGINE", help="speech recognizer: vosk, whisper or none (overrides asr.engine)")
    parser.add_argument("--asr-model", metavar="NAME|PATH", help="recognizer model name or directory (overrides asr.model)")
    parser.add_argument("--tts", metavar="ENGINE", help="speech engine: pyttsx3, piper or none (overrides tts.engine)")
    parser.add_argument(
        "--intents",
        action="append",
        default=[],
        metavar="PATH|NAME",
        help="an extra plugin file or folder, or a plugin that is off by default, e.g. coffee (repeatable)",
    )
