"""`assistant say TEXT`: speak a text with the configured voice, or write the speech to a file.

The quickest check that the speaker and the voice work, and a way to hear a
voice, rate or volume before putting it in the config. Prints the same events
the assistant emits when it replies (``reply``, ``speak_start``, ``speak_end``).

With ``--device ID`` it speaks on a device of a running ``assistant serve``
instead (``POST /v1/announce``; with ``--listen``, ``/v1/converse``: the device
then hears one command without the wake word): a shell script or an automation
talks first.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from assistant.config import Config
from assistant.errors import AssistantError


class ServerUnreachable(AssistantError):
    """No server answers there, or it refused the token: fix the URL or the token and run again."""

    exit_code = 2


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("say", parents=[common], help="speak a text with the configured voice, or on a device of a running server")
    p.add_argument("text", nargs="+", metavar="TEXT", help="what to say (several words need no quotes)")
    p.add_argument("--output", metavar="FILE", help="write the speech to an audio file (.wav, .flac) instead of playing it")
    p.add_argument("--tts", metavar="ENGINE", help="speech engine: pyttsx3, piper or none (overrides tts.engine)")
    p.add_argument("--output-device", metavar="DEVICE", help="speaker index or name substring (overrides audio.output_device)")
    p.add_argument("--device", dest="on_device", metavar="ID", help="say it on this device of a running `assistant serve` (a satellite, a browser) instead")
    p.add_argument("--listen", action="store_true", help="with --device: ask a question; the device then hears one command without the wake word")
    p.add_argument("--server", dest="say_server", metavar="URL", help="with --device: the server (default: http://server.host:server.port from the config)")
    p.add_argument("--token", dest="say_token", metavar="TOKEN", help="with --device: the server's token (default: server.token)")
    p.add_argument("--json", action="store_true", help="print events as JSON lines")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, config: Config) -> int:
    text = " ".join(args.text)
    if args.on_device is not None:
        return _on_device(args, config, text)
    if args.listen:
        from assistant.errors import UsageError

        raise UsageError("--listen asks a device a question: give the device with --device ID")
    from assistant.audio.playback import AudioOutput, Player, WavWriter
    from assistant.console import event_printer
    from assistant.events import EventEmitter
    from assistant.reply import speak
    from assistant.tts import load_speaker

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


def server_url(config: Config) -> str:
    """Where the configured server listens, as a client reaches it (a wildcard address is this machine)."""
    server = config.server
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(server.host, server.host)
    shown = f"[{host}]" if ":" in host else host
    return f"{'https' if server.tls_cert else 'http'}://{shown}:{server.port}"


def _on_device(args: argparse.Namespace, config: Config, text: str) -> int:
    url = (args.say_server or server_url(config)).rstrip("/") + ("/v1/converse" if args.listen else "/v1/announce")
    token = args.say_token if args.say_token is not None else config.server.token
    status, answer = _post(url, {"device": args.on_device, "text": text}, token)
    if args.json:
        print(json.dumps({"status": status, **answer}, ensure_ascii=False))
    if status in (401, 429):
        raise ServerUnreachable(f"{url}: {answer.get('error', {}).get('message', status)} (--token, or server.token)")
    if status >= 400:
        if not args.json:
            print(f"{args.on_device}: {answer.get('error', {}).get('message', status)}")
        return 1
    if not args.json:
        held = answer.get("held_seconds")
        print(f"{args.on_device}: said" if answer.get("delivered") else f"{args.on_device}: not connected; held for {held:g} s until it reconnects")
    return 0


def _post(url: str, body: dict[str, Any], token: str | None) -> tuple[int, dict[str, Any]]:
    import urllib.error
    import urllib.request

    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        try:
            return exc.code, json.loads(exc.read() or b"{}")
        except ValueError:
            return exc.code, {"error": {"message": f"HTTP {exc.code}"}}
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ServerUnreachable(f"no assistant server answers at {url}: {reason}; start `assistant serve` or pass --server URL") from None
