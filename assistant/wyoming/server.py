"""`assistant wyoming`: the models loaded once, the ``info`` built once, clients served, the service announced.

The listening socket and the per-connection tasks are the ``wyoming``
package's own server classes (``AsyncServer.from_uri``); each connection is a
:class:`~assistant.wyoming.connection.Connection`. At most
``wyoming.max_connections`` are served at once; one more is told the server
is busy and closed.

The protocol has no authentication. Bound beyond loopback, anyone who can
reach the port can listen through the wake word and recogniser, have the
voice say anything and run the plugins (timers, media, volume, apps): the
server says so at start, and the README shows the firewall rule that keeps
everyone but Home Assistant out.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlparse

from wyoming.server import AsyncServer

from assistant.assembly import Resources, make_wake
from assistant.config import Config
from assistant.errors import ConfigError
from assistant.events import EventEmitter
from assistant.server.auth import is_loopback
from assistant.wyoming.connection import Connection
from assistant.wyoming.discovery import Announcement, default_name
from assistant.wyoming.info import build_info, wake_names

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Endpoint:
    """``wyoming.uri``, parsed: ``tcp://HOST:PORT`` or ``unix://PATH``."""

    uri: str
    host: str | None
    port: int | None

    @classmethod
    def parse(cls, uri: str) -> Endpoint:
        parsed = urlparse(uri)
        if parsed.scheme == "unix":
            if not parsed.path:
                raise ConfigError(f"wyoming.uri {uri!r}: a Unix socket needs a path, e.g. unix:///run/assistant.sock")
            return cls(uri, None, None)
        try:
            port = parsed.port
        except ValueError:
            port = None
        if parsed.scheme != "tcp" or parsed.hostname is None or not port:
            raise ConfigError(f"wyoming.uri {uri!r}: use tcp://HOST:PORT (a port from 1 to 65535, e.g. tcp://127.0.0.1:10700) or unix://PATH")
        return cls(uri, parsed.hostname, port)

    @property
    def exposed(self) -> bool:
        """Reachable from other machines (a Unix socket never is)."""
        return self.host is not None and not is_loopback(self.host)


class WyomingServer:
    def __init__(self, config: Config, resources: Resources, emitter: EventEmitter) -> None:
        self.config = config
        self.resources = resources
        self.emitter = emitter
        """Our event log: every client's turns, in the same events as a local turn."""
        self.endpoint = Endpoint.parse(config.wyoming.uri)
        self.info = build_info(config, resources)
        self.info_event = self.info.event()
        self.wake_names = list(wake_names(self.info))
        self.asr_model = self.info.asr[0].models[0].name if self.info.asr else None
        self.voice_name = self.info.tts[0].voices[0].name if self.info.tts else None
        self._connections: set[asyncio.Task] = set()
        """The tasks serving a client now."""
        self._server: AsyncServer | None = None

    @property
    def active(self) -> int:
        """Clients being served."""
        return len(self._connections)

    def connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> Connection:
        return Connection(reader, writer, self)

    def admit(self) -> bool:
        """Whether the calling connection task may be served (``wyoming.max_connections``)."""
        if self.active >= self.config.wyoming.max_connections:
            _log.warning("refusing a Wyoming client: %d are connected (wyoming.max_connections)", self.active)
            return False
        self._connections.add(asyncio.current_task())
        return True

    def release(self) -> None:
        self._connections.discard(asyncio.current_task())

    async def start(self) -> None:
        """Listen; :class:`ConfigError` when the address is taken or unusable."""
        try:
            self._server = AsyncServer.from_uri(self.endpoint.uri)
            await self._server.start(self.connection)
        except OSError as exc:
            raise ConfigError(f"cannot listen on {self.endpoint.uri}: {exc.strerror or exc}; is another server running there? (wyoming.uri / --uri)") from None

    async def stop(self) -> None:
        """Stop listening, end every connection, and wait (a little) for each to release its stream."""
        if self._server is not None:
            await self._server.stop()
            self._server = None
        if self._connections:
            await asyncio.wait(set(self._connections), timeout=5.0)


def load(config: Config, intent_paths: Sequence[str] = ()) -> Resources:
    """Every model, before the first client: Home Assistant gives ``describe`` one second."""
    resources = Resources.load(config, intent_paths=intent_paths, speak=config.tts.engine != "none")
    if config.wake.enabled:
        make_wake(config).close()  # loads the shared wake models, and fails now on a bad one
    return resources


def exposure_warning(endpoint: Endpoint) -> str:
    return (
        f"assistant: warning: serving Wyoming on {endpoint.host}:{endpoint.port}, reachable from other machines. The Wyoming "
        "protocol has no authentication: anyone who can reach this port can use the wake word, the recognizer and the voice, "
        "and run your plugins (timers, media, volume, apps). Let only Home Assistant's address through a firewall "
        "(README: Use it from Home Assistant), or bind to 127.0.0.1."
    )


def serve(config: Config, resources: Resources, emitter: EventEmitter) -> None:
    """Serve until SIGTERM or Ctrl-C; announces the service unless ``wyoming.zeroconf`` is off."""
    server = WyomingServer(config, resources, emitter)
    if server.endpoint.exposed:
        print(exposure_warning(server.endpoint), file=sys.stderr, flush=True)
    asyncio.run(_serve(server))


async def _serve(server: WyomingServer) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    await server.start()
    roles = ", ".join(kind for kind in ("wake", "asr", "tts", "intent", "handle") if getattr(server.info, kind))
    print(f"assistant: serving Wyoming on {server.endpoint.uri} ({roles})", file=sys.stderr, flush=True)
    announcement = await _announce(server)
    try:
        await stop.wait()
    finally:
        if announcement is not None:
            await announcement.stop()
        await server.stop()


async def _announce(server: WyomingServer) -> Announcement | None:
    """Register over zeroconf; a network without multicast costs discovery, never the server."""
    wyoming, endpoint = server.config.wyoming, server.endpoint
    if not wyoming.zeroconf or endpoint.port is None or endpoint.host is None:
        return None
    try:
        announcement = Announcement(wyoming.name or default_name(), endpoint.host, endpoint.port)
        name = await announcement.start()
    except Exception as exc:  # zeroconf raises many types (no multicast route, a name conflict it could not solve)
        print(f"assistant: warning: zeroconf could not announce the service ({type(exc).__name__}: {exc}); add it in Home Assistant by host and port", file=sys.stderr, flush=True)
        return None
    print(f"assistant: announced over zeroconf as {name!r} ({announcement.where})", file=sys.stderr, flush=True)
    return announcement
