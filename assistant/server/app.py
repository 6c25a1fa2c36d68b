"""The ASGI application (Starlette) and running it (uvicorn).

Starlette on uvicorn rather than aiohttp or FastAPI: the API is a handful of
routes plus one WebSocket, Starlette covers both with little code and no
magic; uvicorn brings TLS, WebSocket keepalive pings and the per-message size
limit (``ws_max_size``: an oversized message closes with 1009 and a reason)
without us writing any of it, and being plain ASGI the app also runs under
any other ASGI server.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
from collections.abc import AsyncIterator, Sequence

from starlette.applications import Starlette
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from assistant.config import Config
from assistant.errors import ConfigError
from assistant.server import api
from assistant.server.auth import Auth, Throttle, check_exposure
from assistant.server.connection import stream_endpoint
from assistant.server.protocol import PATH
from assistant.server.resources import LazyResources
from assistant.server.state import ServerState

_log = logging.getLogger(__name__)


def create_app(config: Config, intent_paths: Sequence[str] = ()) -> Starlette:
    """``intent_paths``: extra plugins or off-by-default plugin names (``--intents``)."""
    server = config.server
    auth = Auth(server.token, Throttle(server.auth_failures_allowed, server.auth_backoff_max_seconds))
    state = ServerState(config=config, auth=auth, resources=LazyResources(config, intent_paths))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await asyncio.to_thread(state.resources.get)  # the first client must not wait for model loading
        yield
        state.feeders.close()
        state.resources.close()

    app = Starlette(
        routes=[
            Route("/", api.index),
            Route("/health", api.health),
            Route("/metrics", api.metrics),
            Route("/openapi.json", api.openapi),
            Route("/v1/transcribe", api.transcribe, methods=["POST"]),
            Route("/v1/understand", api.understand, methods=["POST"]),
            Route("/v1/announce", api.announce, methods=["POST"]),
            Route("/v1/converse", api.converse, methods=["POST"]),
            Route("/v1/intents", api.intents),
            WebSocketRoute(PATH, stream_endpoint),
            Mount("/static", StaticFiles(directory=api.STATIC), name="static"),
        ],
        lifespan=lifespan,
    )
    app.state.assistant = state
    return app


def bind(host: str, port: int) -> list[socket.socket]:
    """Listening sockets for every address ``host`` resolves to (IPv4 and IPv6)."""
    sockets: list[socket.socket] = []
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ConfigError(f"server.host {host!r} cannot be resolved: {exc.strerror}") from None
    seen = set()
    for family, kind, proto, _, address in infos:
        if address in seen:
            continue
        seen.add(address)
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            sock.close()
            for s in sockets:
                s.close()
            raise ConfigError(f"cannot listen on {address[0]} port {address[1]}: {exc.strerror}; is another server running there? (server.port / --port)") from None
        sock.listen(128)
        sock.setblocking(False)
        sockets.append(sock)
    return sockets


def make_server(config: Config, sockets: Sequence[socket.socket], *, intent_paths: Sequence[str] = (), log_level: str = "warning"):
    """A uvicorn server for ``config`` on already bound ``sockets``; refuses an open bind without a token."""
    import uvicorn

    server = config.server
    check_exposure([s.getsockname()[0] for s in sockets], server.token)
    if bool(server.tls_cert) != bool(server.tls_key):
        raise ConfigError("TLS needs both server.tls_cert and server.tls_key (--tls-cert and --tls-key)")
    uv_config = uvicorn.Config(
        create_app(config, intent_paths),
        ssl_certfile=server.tls_cert,
        ssl_keyfile=server.tls_key,
        ws="websockets-sansio",
        ws_max_size=server.max_message_bytes,
        ws_ping_interval=20.0,
        ws_ping_timeout=20.0,
        ws_per_message_deflate=False,
        lifespan="on",
        log_level=log_level,
        proxy_headers=False,
        timeout_graceful_shutdown=5,
    )
    try:
        uv_config.load()
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"cannot load the TLS certificate {server.tls_cert} / key {server.tls_key}: {exc}") from None
    uvicorn_log = logging.getLogger("uvicorn.error")  # uvicorn's Config has just (re)configured its loggers
    if not any(isinstance(f, _ClientFaultsWithoutTraceback) for f in uvicorn_log.filters):
        uvicorn_log.addFilter(_ClientFaultsWithoutTraceback())
    return uvicorn.Server(uv_config)


class _ClientFaultsWithoutTraceback(logging.Filter):
    """uvicorn logs a text frame that is not UTF-8 as an error with a traceback, though the fault is the
    client's and uvicorn has already answered it (close 1007): keep the line, as a warning, without the
    traceback, so hostile input cannot fill the log with stack traces or pass for a server bug."""

    MESSAGES = frozenset({"Invalid UTF-8 sequence received from client."})

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg in self.MESSAGES:
            record.exc_info = record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def listening_urls(sockets: Sequence[socket.socket], tls: bool) -> list[str]:
    """Where clients reach the server, for the start-up message."""
    urls = []
    for sock in sockets:
        host, port = sock.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        urls.append(f"{'https' if tls else 'http'}://{shown}:{port}")
    return urls
