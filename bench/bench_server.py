"""Server concurrency: how many real-time WebSocket streams one machine serves without falling behind.

`assistant serve` runs in its own process; this script opens N WebSocket
streams that each send real audio in real time (80 ms messages paced by the
wall clock, like N microphones): mostly real speech and kitchen noise with no
wake word (idle listening: wake model + noise floor), and every 15 s a real
"alexa" recording followed by a real spoken coffee order, which the server
must notice (``wake``) and bound (``speech_end``). Streams are staggered so
their wake words do not coincide.

Event latency is measured at the client: from sending the 80 ms message that
holds the deciding audio (for ``wake``, the chunk where it fired; for
``speech_end``, the end of the trailing silence) to receiving the event.
A level passes with no dropped frame and p95 event latency under 200 ms.
The server's own view (time from a chunk's arrival to the end of its
processing, from ``/metrics``) is reported beside it.

``--recognizing K``: K of the N streams speak a command every 7 s instead, so
K recognitions run at once (with a recognizer configured via ``--set
asr.engine=...``; the transcript latency column stays empty while the server's
pipeline does not recognise). ``replies`` counts the turns answered: one per
wake when every turn is (a stream's last turns are answered before its ``done``).

    python bench/bench_server.py [--seconds 30] [--levels 1,2,4,8,16,24,32,48] [--recognizing 0] [--set KEY=VALUE]...
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402
import numpy as np  # noqa: E402

from bench._common import DATA, REPO, load_16k, machine, percentile, save, table  # noqa: E402

CHUNK = 1280
RATE = 16000
LIMIT_P95 = 0.200
IDLE_PERIOD = 15.0
"""Seconds between two spoken turns on an idle-listening stream (a turn lasts ~6 s)."""
RECOGNIZING_PERIOD = 7.0


@functools.cache
def recordings() -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
    """The idle sound (coffee-order speech and kitchen noise, quieter), the real 'alexa's and the real orders;
    loaded once, as every stream of every level cuts its audio from them."""
    from tests.helpers import trim

    clips = sorted((DATA / "coffee-dev" / "clips").glob("*.flac"))
    idle = np.concatenate([load_16k(p) for p in clips[:20]] + [load_16k(DATA / "coffee-dev" / "kitchen_noise.flac")])
    idle = (idle.astype(np.float32) * 0.3).astype(np.int16)  # background: quieter than someone talking to the device
    wakes = [trim(load_16k(p)) for p in sorted((DATA / "wake-dev").glob("alexa_*.flac"))]
    orders = [trim(load_16k(p)) for p in clips[20:]]
    return idle, wakes, orders


def stream_audio(seconds: float, phase: float, period: float, seed: int) -> np.ndarray:
    """Idle sound with a real 'alexa' and a real coffee order at ``phase`` s and then every ``period`` s."""
    idle, wakes, orders = recordings()
    rng = np.random.default_rng(seed)
    total = int(seconds * RATE) // CHUNK * CHUNK
    audio = np.resize(np.roll(idle, -rng.integers(len(idle))), total).copy()
    quiet = np.zeros(int(0.4 * RATE), np.int16)
    position = int(phase * RATE)
    while True:
        turn = np.concatenate([quiet, wakes[rng.integers(len(wakes))], quiet, orders[rng.integers(len(orders))], quiet, quiet, quiet])
        if position + len(turn) > total:
            return audio
        audio[position : position + len(turn)] = turn
        position += int(period * RATE)


@dataclass
class StreamResult:
    latencies: dict[str, list[float]] = field(default_factory=lambda: {"wake": [], "speech_end": [], "transcript": []})
    dropped: int = 0
    wakes: int = 0
    replies: int = 0
    errors: list[str] = field(default_factory=list)


async def run_stream(url: str, audio: np.ndarray) -> StreamResult:
    import websockets

    result = StreamResult()
    sent_at: list[float] = []
    speech_end_at: float | None = None
    async with websockets.connect(url, max_size=None) as ws:
        await ws.send(json.dumps({"type": "start", "rate": RATE, "encoding": "pcm_s16le", "wake": True}))
        ready = json.loads(await ws.recv())
        assert ready["type"] == "ready", ready

        async def send() -> None:
            began = time.monotonic()
            for i, chunk in enumerate(audio.reshape(-1, CHUNK)):
                delay = began + i * CHUNK / RATE - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                sent_at.append(time.monotonic())
                await ws.send(chunk.tobytes())
            await ws.send(json.dumps({"type": "stop"}))

        def sent_time(audio_t: float) -> float:
            index = min(max(int(np.ceil(audio_t * RATE / CHUNK)) - 1, 0), len(sent_at) - 1)
            return sent_at[index]

        sender = asyncio.create_task(send())
        async for message in ws:
            if isinstance(message, bytes):
                continue
            now = time.monotonic()
            event = json.loads(message)
            kind = event["type"]
            if kind == "wake":
                result.wakes += 1
                result.latencies["wake"].append(now - sent_time(event["audio_t"]))
            elif kind == "speech_end":
                result.latencies["speech_end"].append(now - sent_time(event["audio_t"] + event["endpoint_delay"]))
                speech_end_at = now
            elif kind == "transcript" and speech_end_at is not None:
                result.latencies["transcript"].append(now - speech_end_at)
            elif kind == "reply":
                result.replies += 1
            elif kind == "overload":
                result.dropped = max(result.dropped, event["dropped_frames"])
            elif kind == "error":
                result.errors.append(f"{event['code']}: {event['message']}")
            elif kind == "done":
                result.dropped = max(result.dropped, event["dropped_frames"])
                break
        await sender
    return result


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, overrides: list[str]) -> None:
        self.port = free_port()
        sets = [arg for o in ["wake.models=[alexa]", "server.max_connections=1000", *overrides] for arg in ("--set", o)]
        env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
        self.proc = subprocess.Popen([sys.executable, "-m", "assistant", "serve", "--port", str(self.port), *sets], env=env, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{self.url}/health", timeout=1)
                break
            except httpx.HTTPError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the server did not start") from None
                time.sleep(0.2)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def metrics(self) -> dict[str, float]:
        values = {}
        for line in httpx.get(f"{self.url}/metrics").text.splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                values[name] = float(value)
        return values

    def cpu_seconds(self) -> float:
        import psutil

        times = psutil.Process(self.proc.pid).cpu_times()
        return times.user + times.system

    def rss(self) -> int:
        import psutil

        return psutil.Process(self.proc.pid).memory_info().rss

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def lag_p95(before: dict[str, float], after: dict[str, float]) -> float:
    """p95 of the server's chunk lag over one level, from the histogram's bucket counts (upper bucket bound)."""
    prefix = "assistant_stream_lag_seconds_bucket"
    buckets = sorted((float(name.split('le="')[1].rstrip('"}')), after[name] - before.get(name, 0.0)) for name in after if name.startswith(prefix) and "+Inf" not in name)
    total = after.get(f'{prefix}{{le="+Inf"}}', 0.0) - before.get(f'{prefix}{{le="+Inf"}}', 0.0)
    for bound, count in buckets:
        if total and count >= 0.95 * total:
            return bound
    return float("inf")


def run_level(server: Server, streams: int, recognizing: int, seconds: float) -> dict:
    audios = []
    for i in range(streams):
        period = RECOGNIZING_PERIOD if i < recognizing else IDLE_PERIOD
        audios.append(stream_audio(seconds, phase=1.0 + (i * 1.7) % (period - 6.0), period=period, seed=i))

    async def all_streams():
        url = f"ws://127.0.0.1:{server.port}/v1/stream"
        return await asyncio.gather(*(run_stream(url, a) for a in audios))

    before, cpu0 = server.metrics(), server.cpu_seconds()
    began = time.monotonic()
    results = asyncio.run(all_streams())
    wall = time.monotonic() - began
    after = server.metrics()
    latency = {kind: [v for r in results for v in r.latencies[kind]] for kind in ("wake", "speech_end", "transcript")}
    events = latency["wake"] + latency["speech_end"]
    row = {
        "streams": streams,
        "recognizing": recognizing,
        "audio_seconds": seconds,
        "dropped_frames": sum(r.dropped for r in results),
        "wakes": sum(r.wakes for r in results),
        "replies": sum(r.replies for r in results),
        "event_latency_p50": percentile(events, 50),
        "event_latency_p95": percentile(events, 95),
        "wake_latency_p95": percentile(latency["wake"], 95),
        "speech_end_latency_p95": percentile(latency["speech_end"], 95),
        "transcript_after_speech_end_p95": percentile(latency["transcript"], 95) if latency["transcript"] else None,
        "server_chunk_lag_p95": lag_p95(before, after),
        "server_cpu_percent": 100 * (server.cpu_seconds() - cpu0) / wall,
        "server_rss_mb": server.rss() / 2**20,
        "errors": sorted({e for r in results for e in r.errors}),
    }
    row["passed"] = row["dropped_frames"] == 0 and bool(events) and row["event_latency_p95"] < LIMIT_P95 and not row["errors"]
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="audio per stream per level")
    parser.add_argument("--levels", default="1,16,64,128,200,256", help="stream counts to try, in order; stops after the first failing level")
    parser.add_argument("--recognizing", type=int, default=0, help="streams speaking a command every 7 s")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help="server config override")
    args = parser.parse_args()
    # idle streams measure wake word + VAD: with no recognizer, a wake is answered by bounding the command only
    idle = [] if args.recognizing or any(o.startswith("asr.engine=") for o in args.overrides) else ["asr.engine=none"]
    server = Server(idle + args.overrides)
    rows = []
    try:
        for streams in (int(n) for n in args.levels.split(",")):
            row = run_level(server, streams, min(args.recognizing, streams), args.seconds)
            rows.append(row)
            print(f"  {streams} streams: p95 {row['event_latency_p95'] * 1000:.0f} ms, dropped {row['dropped_frames']}, server CPU {row['server_cpu_percent']:.0f}%", flush=True)
            if not row["passed"]:
                break
    finally:
        server.stop()
    best = max((r["streams"] for r in rows if r["passed"]), default=0)
    label = f"{args.recognizing} recognizing" if args.recognizing else "idle listening"
    print(f"\nConcurrent real-time streams ({label}, wake model alexa + VAD), {args.seconds:g} s each; {machine()}")

    def ms(value):
        return "" if value is None else f"{value * 1000:.0f}"

    print(
        table(
            ["streams", "wakes", "replies", "dropped", "event p50 ms", "event p95 ms", "wake p95 ms", "speech_end p95 ms", "transcript p95 ms", "server lag p95 ms", "server CPU %", "RSS MB", "pass"],
            [
                [
                    r["streams"],
                    r["wakes"],
                    r["replies"],
                    r["dropped_frames"],
                    ms(r["event_latency_p50"]),
                    ms(r["event_latency_p95"]),
                    ms(r["wake_latency_p95"]),
                    ms(r["speech_end_latency_p95"]),
                    ms(r["transcript_after_speech_end_p95"]),
                    ms(r["server_chunk_lag_p95"]),
                    f"{r['server_cpu_percent']:.0f}",
                    f"{r['server_rss_mb']:.0f}",
                    "yes" if r["passed"] else "NO",
                ]
                for r in rows
            ],
        )
    )
    print(f"largest passing level: {best} streams (no dropped frame, p95 event latency < {LIMIT_P95 * 1000:.0f} ms)")
    name = f"server_{'recognizing' if args.recognizing else 'idle'}"
    print(f"written to {save(name, {'mode': label, 'command': ' '.join(sys.argv), 'largest_passing_streams': best, 'levels': rows})}")


if __name__ == "__main__":
    main()
