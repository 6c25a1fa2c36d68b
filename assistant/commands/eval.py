"""`assistant eval MANIFEST`: accuracy of the intent engine on a labelled text manifest.

Lines are ``{"text": ..., "intent": NAME or null, "slots": {...}}``. Prints the
accuracy per intent and the mistakes; the last line is always a JSON summary
(``n``, ``intent_accuracy``, ``rejection_accuracy``, ...) for scripts.
"""

from __future__ import annotations

import argparse
import json

from assistant.config import Config


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("eval", parents=[common], help="score intent recognition on a labelled JSONL manifest")
    p.add_argument("manifest", metavar="MANIFEST", help='JSON lines {"text": ..., "intent": NAME or null, "slots": {...}}')
    p.add_argument("--intents", action="append", default=[], metavar="PATH|NAME", help="an extra plugin file or folder, or the name of a plugin that is off by default (repeatable)")
    p.add_argument("--json", action="store_true", help="one JSON line per utterance, then the summary")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, config: Config) -> int:
    from assistant.intents import IntentEngine
    from assistant.intents.evaluate import evaluate, read_manifest

    cases = read_manifest(args.manifest)
    engine = IntentEngine.from_config(config, args.intents)
    report = evaluate(engine, cases)
    if args.json:
        for outcome in report.outcomes:
            print(json.dumps(outcome.to_dict()))
        print(json.dumps({"per_intent": {k: {"n": n, "right": r} for k, (n, r) in report.per_intent().items()}}))
    else:
        print(report.format())
    print(json.dumps(report.summary()))
    return 0
