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
    from assistant.errors import DeviceError
    from assistant.events import EventEmitter, Reply, SpeakEnd, SpeakStart
    from assistant.tts import load_speaker

    text = " ".join(args.text)
    emitter = EventEmitter([event_printer(args.json)])
    speaker = load_speaker(config)
    output: AudioOutput | None = None
    try:
        emitter.emit(Reply(text=text))
        audio = speaker.synthesize(text)
        if args.output:
            output = WavWriter(args.output)
        elif len(audio):
            output = Player(config.audio.output_device)
        if output is None or not len(audio):
            return 0  # nothing to play (tts.engine: none): the reply event was the answer
        playback = output.play(audio)
        while not (playback.started.wait(0.05) or playback.finished.is_set()):
            pass
        if playback.started.is_set():
            emitter.emit(SpeakStart(text=text))
        playback.wait()
        if playback.error:
            raise DeviceError(playback.error)
        emitter.emit(SpeakEnd(interrupted=playback.interrupted))
        return 0
    finally:
        if output is not None:
            output.close()
        speaker.close()
