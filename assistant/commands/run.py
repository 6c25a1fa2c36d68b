"""`assistant run`: the always-on loop on the microphone, a file or raw PCM on stdin.

On the microphone replies are spoken through the configured speaker. A file
(or stdin) is processed as fast as it decodes, each turn completing before
the audio after it is heard; what would have been spoken goes to ``--output``.
At exit, and on SIGUSR1, a latency summary per stage goes to stderr.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from assistant.commands import add_model_flags, add_wake_engine_flag
from assistant.config import Config


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("run", parents=[common], help="run the assistant (microphone by default)")
    p.add_argument("--input", metavar="FILE|-|mic", help="an audio file, '-' for raw PCM on stdin, or 'mic' (default)")
    p.add_argument("--device", help="microphone index or name substring (overrides audio.input_device)")
    p.add_argument("--output", metavar="FILE", help="write what would be spoken (chimes and replies) to this WAV/FLAC file")
    p.add_argument("--output-device", metavar="DEVICE", help="speaker index or name substring (overrides audio.output_device)")
    p.add_argument("--realtime", action="store_true", help="pace a file input in real time and reply as on a microphone")
    p.add_argument("--rate", dest="raw_rate", type=int, default=16000, help="sample rate of raw stdin PCM (default 16000)")
    p.add_argument("--format", dest="raw_format", default="s16le", help="sample format of raw stdin PCM: s16le, s32le, f32le, u8")
    p.add_argument("--channels", dest="raw_channels", type=int, default=1, help="channels of raw stdin PCM")
    p.add_argument("--no-wake", action="store_true", help="no wake word: every utterance VAD finds is a command")
    add_wake_engine_flag(p)
    add_model_flags(p)
    p.add_argument("--linger", type=float, default=60.0, metavar="SECONDS", help="after a file ends, wait for timers due within this long (default 60)")
    p.add_argument("--json", action="store_true", help="print events as JSON lines")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, config: Config) -> int:
    from assistant.assembly import Resources, make_pipeline, make_source
    from assistant.audio.playback import Player, WavWriter
    from assistant.console import event_printer
    from assistant.events import EventEmitter
    from assistant.latency import LatencyTracker

    live = args.input in (None, "mic") or args.realtime
    speak = config.tts.engine != "none" and (live or args.output is not None)
    latency = LatencyTracker()
    emitter = EventEmitter([event_printer(args.json), latency])
    resources = Resources.load(config, intent_paths=args.intents, speak=speak)
    output = None
    if speak:
        output = WavWriter(args.output) if args.output else Player(config.audio.output_device)
    source = make_source(
        args.input,
        config,
        emitter,
        realtime=args.realtime,
        raw_rate=args.raw_rate,
        raw_format=args.raw_format,
        raw_channels=args.raw_channels,
        small_blocks=True,
    )
    pipeline = make_pipeline(config, emitter, resources, output=output, synchronous=not live)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: source.close())
        signal.signal(signal.SIGUSR1, lambda *_: print(latency.format(), file=sys.stderr, flush=True))
    try:
        pipeline.run(source)
        if not live:
            pipeline.linger(args.linger)
    except KeyboardInterrupt:
        source.close()
    finally:
        pipeline.close()
        if output is not None:
            output.close()
        resources.close()
        print(latency.format(), file=sys.stderr, flush=True)
    return 0
