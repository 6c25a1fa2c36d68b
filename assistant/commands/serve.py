"""`assistant serve`: the WebSocket streaming server, the HTTP API and the web page."""

from __future__ import annotations

import argparse
import sys

from assistant.commands import add_model_flags, add_wake_engine_flag
from assistant.config import Config


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("serve", parents=[common], help="serve remote microphones (WebSocket), the HTTP API and the web page")
    p.add_argument("--host", dest="server_host", metavar="HOST", help="address to listen on (overrides server.host; non-loopback needs a token)")
    p.add_argument("--port", dest="server_port", type=int, metavar="PORT", help="port (overrides server.port)")
    p.add_argument("--token", dest="server_token", metavar="TOKEN", help="shared secret clients must send (overrides server.token)")
    p.add_argument("--tls-cert", dest="server_tls_cert", metavar="FILE", help="PEM certificate: serve https/wss (with --tls-key)")
    p.add_argument("--tls-key", dest="server_tls_key", metavar="FILE", help="PEM private key of --tls-cert")
    p.add_argument("--no-wake", action="store_true", help="streams default to no wake word (clients can still choose)")
    add_wake_engine_flag(p)
    add_model_flags(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace, config: Config) -> int:
    from assistant.server.app import bind, listening_urls, make_server
    from assistant.server.auth import check_exposure
    from assistant.server.protocol import PATH

    check_exposure([config.server.host], config.server.token)  # before anything listens
    sockets = bind(config.server.host, config.server.port)
    server = make_server(config, sockets, intent_paths=args.intents, log_level="info" if args.verbose else "warning")
    for url in listening_urls(sockets, tls=bool(config.server.tls_cert)):
        print(f"assistant: serving {url}/ (page), {url.replace('http', 'ws', 1)}{PATH} (stream), {url}/openapi.json (API)", file=sys.stderr, flush=True)
    server.run(sockets=sockets)
    return 0
