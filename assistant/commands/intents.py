"""`assistant intents`: what the assistant understands, two example sentences per intent."""

from __future__ import annotations

import argparse
import json
import sys

from assistant.config import Config


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("intents", parents=[common], help="list the intents the loaded plugins understand")
    p.add_argument("--intents", action="append", default=[], metavar="PATH|NAME", help="an extra plugin file or folder, or the name of a plugin that is off by default (repeatable)")
    p.add_argument("--json", action="store_true", help="one JSON object per intent")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, config: Config) -> int:
    from assistant.intents import IntentEngine

    engine = IntentEngine.from_config(config, args.intents)
    catalog = engine.catalog(examples=2)
    if args.json:
        for plugin in catalog["plugins"]:
            for intent in plugin["intents"]:
                print(json.dumps(intent))
    else:
        for plugin in catalog["plugins"]:
            print(f"\n{plugin['name']}" + (f" — {plugin['description']}" if plugin["description"] else ""))
            for intent in plugin["intents"]:
                slots = f" ({', '.join(intent['slots'])})" if intent["slots"] else ""
                print(f"  {intent['name']}{slots}")
                for example in intent["examples"]:
                    print(f'      "{example}"')
        if catalog["off"]:
            print(f"\nOff: {', '.join(catalog['off'])} (switch on with --intents NAME or intents.enable in the config)")
    for failure in engine.failures:
        print(f"skipped plugin: {failure}", file=sys.stderr)
    return 0
