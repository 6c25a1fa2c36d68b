"""The ``assistant`` command: one subcommand per module in ``assistant.commands``.

Every subcommand shares ``--config``, ``--set KEY=VALUE`` and ``-v``; flags that
mirror a config key (``--asr``, ``--threshold``, ...) are applied as overrides
before validation, so a bad flag value gets the same clear message as a bad
config line. User errors exit with their code and no traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from typing import Any

from assistant.config import Config, load_config, parse_override
from assistant.errors import EXIT_CODES, AssistantError

COMMANDS = ("run", "wake", "devices", "ask", "intents", "eval", "bench", "say", "transcribe", "models", "serve", "satellite", "wyoming")

FLAG_KEYS: dict[str, str] = {
    "asr": "asr.engine",
    "asr_model": "asr.model",
    "threshold": "wake.threshold",
    "wake_model": "wake.models",
    "wake_engine": "wake.engine",
    "device": "audio.input_device",
    "output_device": "audio.output_device",
    "tts": "tts.engine",
    "server_host": "server.host",
    "server_port": "server.port",
    "server_token": "server.token",
    "server_tls_cert": "server.tls_cert",
    "server_tls_key": "server.tls_key",
    "satellite_server": "satellite.server",
    "satellite_token": "satellite.token",
    "satellite_wake": "satellite.wake",
    "satellite_tls_ca": "satellite.tls_ca",
    "satellite_device": "satellite.device",
    "satellite_area": "satellite.area",
    "wyoming_uri": "wyoming.uri",
    "wyoming_name": "wyoming.name",
}
"""argparse destination → config key it overrides (when the flag is given)."""


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="PATH", help="configuration file (default: $ASSISTANT_CONFIG, ./config.yaml, ~/.config/assistant/config.yaml)")
    common.add_argument("--set", dest="set_keys", action="append", default=[], metavar="KEY=VALUE", help="override a config key, e.g. --set vad.end_silence_ms=500")
    common.add_argument("-v", "--verbose", action="count", default=0, help="log more (-v info, -vv debug)")
    parser = argparse.ArgumentParser(
        prog="assistant",
        description="An offline voice assistant.",
        epilog="exit codes:\n" + "\n".join(f"  {code:<4} {meaning}" for code, meaning in EXIT_CODES.items()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f"assistant.commands.{name}").add_parser(sub, common)
    return parser


def overrides_from_args(args: argparse.Namespace) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for text in args.set_keys:
        key, value = parse_override(text)
        found[key] = value
    for dest, key in FLAG_KEYS.items():
        value = getattr(args, dest, None)
        if value is not None:
            found[key] = value
    if getattr(args, "no_wake", False):
        found["wake.enabled"] = False
    if getattr(args, "no_zeroconf", False):
        found["wyoming.zeroconf"] = False
    return found


def setup_logging(config: Config, verbose: int) -> None:
    level = {0: config.logging.level, 1: "INFO"}.get(verbose, "DEBUG")
    logging.basicConfig(level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config, overrides_from_args(args))
        setup_logging(config, args.verbose)
        return int(args.func(args, config) or 0)
    except AssistantError as exc:
        print(f"assistant: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
