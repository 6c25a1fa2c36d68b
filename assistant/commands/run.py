"""`assistant run`: the always-on loop on the microphone, a file or raw PCM on stdin."""

from __future__ import annotations

import argparse
import signal
import threading

from assistant.config import Config


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("run", parents=[common], help="run the assistant (microphone by default)")
    p.add_argument("--input", metavar="FILE|-|mic", help="an audio file, '-' for raw PCM on stdin, or 'mic' (default)")
    p.add_argument("--device", help="microphone index or name substring (overrides audio.input_device)")
    p.add_argument("--realtime", action="store_true", help="pace a file input in real time, as a microphone would")
    p.add_argument("--rate", dest="raw_rate", type=int, default=16000, help="sample rate of raw stdin PCM (default 16000)")
    p.add_argument("--format", dest="raw_format", default="s16le", help="sample format of raw stdin PCM: s16le, s32le, f32le, u8")
    p.add_argument("--channels", dest="raw_channels", type=int, default=1, help="channels of raw stdin PCM")
    p.add_argument("--no-wake", action="store_true", help="no wake word: every utterance VAD finds is a command")
    p.add_argument("--json", action="store_true", help="print events as JSON lines")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, config: Config) -> int:
    from assistant.console import event_printer
    from assistant.events import EventEmitter
    from assistant.stages import make_pipeline, make_source

    emitter = EventEmitter([event_printer(args.json)])
    pipeline = make_pipeline(config, emitter)
    source = make_source(
        args.input,
        config,
        emitter,
        realtime=args.realtime,
        raw_rate=args.raw_rate,
        raw_format=args.raw_format,
        raw_channels=args.raw_channels,
    )
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: source.close())
    try:
        pipeline.run(source)
    except KeyboardInterrupt:
        source.close()
    return 0
