"""`assistant wyoming`: serve Home Assistant over the Wyoming protocol (wake word, speech to text, text to speech, intents)."""

from __future__ import annotations

import argparse

from assistant.commands import add_model_flags, add_wake_engine_flag
from assistant.config import Config


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("wyoming", parents=[common], help="serve Home Assistant over Wyoming: wake word, speech to text, text to speech, intents")
    p.add_argument("--uri", dest="wyoming_uri", metavar="tcp://HOST:PORT", help="where to listen (overrides wyoming.uri; default tcp://127.0.0.1:10700)")
    p.add_argument("--no-zeroconf", action="store_true", help="do not announce the service for Home Assistant to discover")
    p.add_argument("--name", dest="wyoming_name", metavar="NAME", help="the name it is announced under (overrides wyoming.name)")
    p.add_argument("--json", action="store_true", help="print events as JSON lines")
    add_wake_engine_flag(p)
    add_model_flags(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace, config: Config) -> int:
    from assistant.console import event_printer
    from assistant.errors import UsageError
    from assistant.events import EventEmitter

    try:
        from assistant.wyoming.server import load, serve
    except ImportError as exc:
        raise UsageError(f"the Wyoming server needs the wyoming and zeroconf packages ({exc}): pip install 'assistant[wyoming]'") from None

    resources = load(config, args.intents)
    try:
        serve(config, resources, EventEmitter([event_printer(args.json)]))
    finally:
        resources.close()
    return 0
