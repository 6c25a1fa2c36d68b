"""A real Wyoming server on 127.0.0.1 (in this process, on an event loop of its own) and the wyoming package's
own client, ``AsyncTcpClient``, the one Home Assistant's integration uses."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.event import Event

from assistant.config import Config
from assistant.events import Event as AssistantEvent
from assistant.events import EventEmitter
from assistant.wyoming.server import WyomingServer, load

HOST = "127.0.0.1"
TIMEOUT = 120.0
"""Seconds to wait for any one answer: whisper on a busy two-core machine is slow, never this slow."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def config(**sections: dict[str, Any]) -> Config:
    """The defaults, with no zeroconf (a test that wants it says so) and some sections' keys replaced."""
    wyoming = {"zeroconf": False, **sections.pop("wyoming", {})}
    return Config.model_validate({"wyoming": wyoming, **sections})


@dataclass
class Running:
    server: WyomingServer
    port: int
    events: list[AssistantEvent] = field(default_factory=list)
    """Our event log: what the server emitted."""

    def client(self) -> AsyncTcpClient:
        return AsyncTcpClient(HOST, self.port)

    def logged(self, kind: str) -> list[AssistantEvent]:
        return [e for e in self.events if e.type == kind]


@contextlib.contextmanager
def running(cfg: Config, intents: Sequence[str] = ()) -> Iterator[Running]:
    """``assistant wyoming``'s server (models loaded first, as the command does) on a free port."""
    port = free_port()
    cfg = cfg.model_copy(update={"wyoming": cfg.wyoming.model_copy(update={"uri": f"tcp://{HOST}:{port}"})})
    resources = load(cfg, intents)
    events: list[AssistantEvent] = []
    server = WyomingServer(cfg, resources, EventEmitter([events.append]))
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="wyoming-test-server", daemon=True)
    thread.start()
    try:
        asyncio.run_coroutine_threadsafe(server.start(), loop).result(30)
        yield Running(server, port, events)
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)
        loop.close()
        resources.close()


async def read_until(client: AsyncTcpClient, *last: str, timeout: float = TIMEOUT) -> list[Event]:
    """Every event up to and including the first of type ``last``."""
    events: list[Event] = []
    while True:
        event = await asyncio.wait_for(client.read_event(), timeout)
        assert event is not None, f"the server closed the connection; got {[e.type for e in events]}"
        events.append(event)
        if event.type in last:
            return events


async def send_audio(client: AsyncTcpClient, audio: np.ndarray, rate: int = 16000, chunk_frames: int = 1024, *, stop: bool = True) -> None:
    """``audio-start``, the audio in ``audio-chunk`` events (int16, mono or (frames, channels)), ``audio-stop``."""
    channels = 1 if audio.ndim == 1 else audio.shape[1]
    await client.write_event(AudioStart(rate=rate, width=2, channels=channels).event())
    for i in range(0, len(audio), chunk_frames):
        pcm = np.ascontiguousarray(audio[i : i + chunk_frames], dtype="<i2").tobytes()
        await client.write_event(AudioChunk(rate=rate, width=2, channels=channels, audio=pcm, timestamp=i * 1000 // rate).event())
    if stop:
        await client.write_event(AudioStop().event())


def pcm_of(events: list[Event]) -> np.ndarray:
    return np.frombuffer(b"".join(e.payload or b"" for e in events if e.type == "audio-chunk"), dtype="<i2")
