"""`assistant transcribe FILE`: VAD-segmented partial and final transcripts of an audio file.

No wake word: every utterance the endpointer finds is transcribed. The output
is the pipeline's own events (``speech_start``, ``partial``, ``speech_end``,
``transcript``), so ``--json`` lines look exactly like ``assistant run --json``.
"""

from __future__ import annotations

import argparse

from assistant.config import Config


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("transcribe", parents=[common], help="transcribe an audio file (VAD-segmented, with partials)")
    p.add_argument("file", metavar="FILE", help="an audio file (WAV, FLAC, OGG, MP3, webm, m4a, ...)")
    p.add_argument("--asr", choices=("vosk", "whisper"), help="recognizer (overrides asr.engine)")
    p.add_argument("--asr-model", metavar="NAME_OR_PATH", help="model name or directory (overrides asr.model)")
    p.add_argument("--json", action="store_true", help="print events as JSON lines")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, config: Config) -> int:
    from assistant.asr import CommandRecognizer, load_engine
    from assistant.asr.stream import transcribe_stream
    from assistant.assembly import make_endpointer
    from assistant.audio.file import FileSource
    from assistant.console import event_printer
    from assistant.events import EventEmitter

    emitter = EventEmitter([event_printer(args.json)])
    source = FileSource(args.file, channel=config.audio.channel, emit=emitter.emit)
    engine = load_engine(config)
    # no wake word here: the endpointer waits for speech as long as the file lasts
    unwoken = config.model_copy(update={"wake": config.wake.model_copy(update={"enabled": False})})
    commands = CommandRecognizer(make_endpointer(unwoken), engine.recognizer(), emitter)
    transcribe_stream(source.frames(), commands)
    return 0
