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
    infos = engine.intents(examples=2)
    if args.json:
        for info in infos:
            print(json.dumps({"name": info.name, "plugin": info.plugin, "description": info.description, "slots": list(info.slots), "examples": list(info.examples)}))
    else:
        descriptions = {p.name: p.plugin.description for p in engine.plugins}
        plugin = None
        for info in sorted(infos, key=lambda i: (i.plugin, i.name)):
            if info.plugin != plugin:
                plugin = info.plugin
                print(f"\n{plugin}" + (f" — {descriptions[plugin]}" if descriptions.get(plugin) else ""))
            slots = f" ({', '.join(info.slots)})" if info.slots else ""
            print(f"  {info.name}{slots}")
            for example in info.examples:
                print(f'      "{example}"')
        if engine.available_off:
            print(f"\nOff: {', '.join(engine.available_off)} (switch on with --intents NAME or intents.enable in the config)")
    for failure in engine.failures:
        print(f"skipped plugin: {failure}", file=sys.stderr)
    return 0
