"""`assistant satellite`: stream this machine's microphone to a hub running `assistant serve`."""

from __future__ import annotations

import argparse
import json
import signal
import threading

from assistant.commands import add_wake_engine_flag
from assistant.config import Config


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("satellite", parents=[common], help="stream the microphone to a hub (assistant serve) and play its replies")
    p.add_argument("--server", dest="satellite_server", metavar="URL", help="the hub, e.g. ws://hub.local:8765 (overrides satellite.server)")
    p.add_argument("--token", dest="satellite_token", metavar="TOKEN", help="the hub's token (overrides satellite.token)")
    p.add_argument("--wake", dest="satellite_wake", choices=("hub", "local"), help="where the wake word is detected (overrides satellite.wake)")
    add_wake_engine_flag(p)
    p.add_argument("--tls-ca", dest="satellite_tls_ca", metavar="FILE", help="CA or self-signed certificate to trust for wss:// (overrides satellite.tls_ca)")
    p.add_argument("--name", dest="satellite_device", metavar="ID", help="this satellite's device id on the hub (overrides satellite.device; default: the host name)")
    p.add_argument("--area", dest="satellite_area", metavar="AREA", help='the area it is in, e.g. "living room" (overrides satellite.area)')
    p.add_argument("--input", metavar="FILE|mic", help="microphone (default) or an audio file streamed in real time")
    p.add_argument("--device", help="microphone index or name substring (overrides audio.input_device)")
    p.add_argument("--output-device", help="speaker for replies (overrides audio.output_device)")
    p.add_argument("--no-playback", action="store_true", help="do not play the hub's reply audio here")
    p.add_argument("--json", action="store_true", help="print the hub's events as JSON lines")
    p.set_defaults(func=run)


def device_name(configured: str | None) -> str:
    """The satellite's device id: the configured one, else this machine's host name made into an id."""
    if configured:
        return configured
    import re
    import socket

    name = re.sub(r"[^A-Za-z0-9._:-]+", "-", socket.gethostname()).strip("-._:")[:64]
    return name or "satellite"


def run(args: argparse.Namespace, config: Config) -> int:
    import ssl

    from assistant.assembly import make_source, make_wake
    from assistant.console import event_printer, format_event
    from assistant.events import EventEmitter, event_from_dict
    from assistant.satellite import Satellite
    from assistant.server import messages  # noqa: F401  the hub's ready, done and reply audio read back as events too

    sat = config.satellite
    emitter = EventEmitter([event_printer(args.json)])  # the source's own events (device opened, lost, ...)
    source = make_source(args.input, config, emitter, realtime=True)
    output = None
    if sat.playback and not args.no_playback:
        from assistant.audio.playback import Player

        output = Player(config.audio.output_device)

    def show(message: dict) -> None:
        if args.json:
            print(json.dumps(message, ensure_ascii=False), flush=True)
            return
        try:
            print(format_event(event_from_dict(message)), flush=True)
        except (ValueError, TypeError):
            print(message, flush=True)

    ssl_context = ssl.create_default_context(cafile=sat.tls_ca) if sat.tls_ca else None
    skills = None
    device = device_name(sat.device)
    if sat.skills:
        from assistant.local_skills import LocalSkills

        skills = LocalSkills(config, sat.skills, device)
    satellite = Satellite(
        sat.server,
        source,
        token=sat.token,
        wake=make_wake(config) if sat.wake == "local" else None,
        output=output,
        on_message=show,
        ssl_context=ssl_context,
        reconnect_min=sat.reconnect_min_seconds,
        reconnect_max=sat.reconnect_max_seconds,
        echo_tail=config.feedback.echo_tail_seconds,
        device=device,
        area=sat.area,
        skills=skills,
    )
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: satellite.close())
    try:
        satellite.run()
    except KeyboardInterrupt:
        satellite.close()
    finally:
        if output is not None:
            output.close()
        if skills is not None:
            skills.close()
    return 0
