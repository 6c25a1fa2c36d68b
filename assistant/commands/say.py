"""`assistant say TEXT`: speak a text with the configured voice, or write the speech to a file.

The quickest check that the speaker and the voice work, and a way to hear a
voice, rate or volume before putting it in the config. Prints the same events
the assistant emits when it replies (``reply``, ``speak_start``, ``speak_end``).
"""

from __future__ import annotations

import argparse

from assistant.config import Config


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("say", parents=[common], help="speak a text with the configured voice")
    p.add_argument("text", nargs="+", metavar="TEXT", help="what to say (several words need no quotes)")
    p.add_argument("--output", metavar="FILE", help="write the speech to an audio file (.wav, .flac) instead of playing it")
    p.add_argument("--tts", metavar="ENGINE", help="speech engine: pyttsx3, piper or none (overrides tts.engine)")
    p.add_argument("--output-device", metavar="DEVICE", help="speaker index or name substring (overrides audio.output_device)")
    p.add_argument("--json", action="store_true", help="print events as JSON lines")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, config: Config) -> int:
    from assistant.audio.playback import AudioOutput, Player, WavWriter
    from assistant.console import event_printer
    from assistant.events import EventEmitter
    from assistant.reply import speak
    from assistant.tts import load_speaker

    text = " ".join(args.text)
    errors: list[str] = []
    emitter = EventEmitter([event_printer(args.json), lambda e: errors.append(e.message) if e.type == "error" else None])
    speaker = load_speaker(config)
    output: AudioOutput | None = None
    try:
        if config.tts.engine != "none":  # text only otherwise: the reply event is the answer, no device needed
            output = WavWriter(args.output) if args.output else Player(config.audio.output_device)
        speak(text, emitter=emitter, speaker=speaker, output=output)
        return 1 if errors else 0
    finally:
        if output is not None:
            output.close()
        speaker.close()
