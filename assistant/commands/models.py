"""`assistant models list|pull NAME|path NAME`: the speech models, installed or not."""

from __future__ import annotations

import argparse
import json
import sys

from assistant.config import Config


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("models", help="list, download and locate speech models")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    lister = actions.add_parser("list", parents=[common], help="known models: name, language, size, installed or not")
    lister.add_argument("--json", action="store_true", help="one JSON object per model")
    puller = actions.add_parser("pull", parents=[common], help="download and install a model")
    puller.add_argument("name", metavar="NAME")
    puller.add_argument("--force", action="store_true", help="download again even when installed")
    locator = actions.add_parser("path", parents=[common], help="print the directory a model is (or would be) installed in")
    locator.add_argument("name", metavar="NAME")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, config: Config) -> int:
    from assistant.asr.model_store import ModelStore

    store = ModelStore(base_url=config.asr.model_url)
    if args.action == "pull":
        entry = store.entry(args.name)
        if args.force or not store.is_installed(entry):
            print(f"downloading {entry.name} ({entry.size_text}) into {store.root}", file=sys.stderr, flush=True)
        path = store.pull(args.name, force=args.force)
        print(path)
        return 0
    if args.action == "path":
        print(store.path(args.name))
        return 0
    rows = store.status()
    if args.json:
        for s in rows:
            e = s.entry
            print(json.dumps({"name": e.name, "engine": e.engine, "language": e.language, "size": e.size, "installed": s.installed, "path": str(s.path)}))
        return 0
    width = max(len(s.entry.name) for s in rows)
    print(f"{'NAME':<{width}}  {'ENGINE':<7}  {'LANGUAGE':<12}  {'SIZE':>7}  INSTALLED")
    for s in rows:
        e = s.entry
        mark = "yes" if s.installed else "-"
        print(f"{e.name:<{width}}  {e.engine:<7}  {e.language:<12}  {e.size_text:>7}  {mark}")
    print(f"(models live in {store.root}; fetch one with: assistant models pull NAME)")
    return 0
