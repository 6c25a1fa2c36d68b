"""`assistant ask "TEXT"`: recognise one utterance and run its handler, as if it had been spoken.

Prints the `intent` (or `no_intent`), `reply` and any `error` events, the same
events (and with ``--json`` the same JSON lines) as ``assistant run``. Exits 0
when the text was understood and handled, 1 otherwise.
"""

from __future__ import annotations

import argparse

from assistant.config import Config


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("ask", parents=[common], help="understand a sentence and answer it (no microphone)")
    p.add_argument("text", metavar="TEXT", help='what the user said, e.g. "set a timer for 5 minutes"')
    p.add_argument("--intents", action="append", default=[], metavar="PATH|NAME", help="an extra plugin file or folder, or the name of a plugin that is off by default (repeatable)")
    p.add_argument("--json", action="store_true", help="print events as JSON lines")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, config: Config) -> int:
    from assistant.console import event_printer
    from assistant.events import EventEmitter, Replied
    from assistant.intents import Dispatcher, IntentEngine

    emitter = EventEmitter([event_printer(args.json)])
    engine = IntentEngine.from_config(config, args.intents)
    dispatcher = Dispatcher(engine, config)
    try:
        turn = dispatcher.session(config.assistant.device, announce=lambda text, alarm: emitter.emit(Replied(text=text))).respond(args.text)
    finally:
        dispatcher.close()
    for event in turn.events():
        emitter.emit(event)
    emitter.emit(Replied(text=turn.reply, data=turn.data))
    return 0 if turn.intent is not None and turn.error is None else 1
