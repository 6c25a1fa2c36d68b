"""`assistant devices`: the audio inputs and outputs PortAudio sees, defaults marked."""

from __future__ import annotations

import argparse
import json

from assistant.config import Config


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("devices", parents=[common], help="list audio input and output devices")
    p.add_argument("--json", action="store_true", help="one JSON object per device")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, config: Config) -> int:
    from assistant.audio import devices

    found = devices.list_devices()
    if args.json:
        for d in found:
            print(json.dumps(d.__dict__))
        return 0
    for direction in ("input", "output"):
        usable = [d for d in found if d.channels(direction) > 0]
        print(devices.describe(usable, direction) if usable else f"No {direction} devices.")
    print("(* = default; use the index or a part of the name as audio.input_device / --device)")
    return 0
