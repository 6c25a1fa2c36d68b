"""Reply audio over the WebSocket: framing, and when the pipeline is told the reply started and ended.

The output sends through a real :class:`ClientLink` on a real event loop; the
test drains the link the way the connection's sender does (send, then call
``on_sent``) and plays the client's part by reassembling the PCM.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time

import numpy as np
import pytest

from assistant.events import EventEmitter
from assistant.server.link import ClientLink
from assistant.server.output import CHUNK_BYTES, WebSocketOutput
from tests.helpers import RATE, piper


class Client:
    """Runs an event loop in a thread; collects what the link would put on the wire."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.messages: list[str | bytes] = []
        self.link: ClientLink | None = None
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            self.link = ClientLink(self.loop, 16 * 2**20)
            ready.set()
            self.loop.run_until_complete(self._drain())

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        ready.wait()

    async def _drain(self) -> None:
        assert self.link is not None
        while (item := await self.link.get()) is not None:
            self.messages.append(item.data)
            if item.on_sent is not None:
                item.on_sent()

    def events(self) -> list[dict]:
        return [json.loads(m) for m in self.messages if isinstance(m, str)]

    def close(self) -> None:
        assert self.link is not None
        self.link.close()
        self.thread.join(5)
        self.loop.close()


@pytest.fixture
def client():
    c = Client()
    yield c
    c.close()


def _reassemble(messages: list[str | bytes]) -> list[tuple[dict, bytes]]:
    """What a client does: a reply_audio header, then binary messages until ``bytes`` arrived."""
    replies, current, data = [], None, b""
    for message in messages:
        if isinstance(message, str):
            event = json.loads(message)
            if event["type"] == "reply_audio":
                current, data = event, b""
        elif current is not None:
            assert len(message) <= CHUNK_BYTES
            data += message
            if len(data) == current["bytes"]:
                replies.append((current, data))
                current = None
    return replies


def test_reply_audio_is_a_header_then_exactly_its_pcm(client):
    speech = piper("it is ten past four")
    output = WebSocketOutput(client.link, EventEmitter([client.link.send_event]))
    playback = output.play(speech)
    assert playback.started.wait(5)
    ((header, data),) = _reassemble(client.messages)
    assert header["rate"] == RATE and header["samples"] == len(speech) and header["bytes"] == 2 * len(speech)
    assert header["encoding"] == "pcm_s16le" and header["id"] == 1
    assert np.array_equal(np.frombuffer(data, "<i2"), speech)
    assert abs(playback.duration - len(speech) / RATE) < 1e-9


def test_started_when_all_is_sent_finished_a_duration_later(client):
    output = WebSocketOutput(client.link, EventEmitter([client.link.send_event]))
    tone = (np.sin(np.arange(int(0.3 * RATE)) / 5) * 8000).astype(np.float32) / 32768  # float input is converted
    began = time.monotonic()
    playback = output.play(tone)
    assert playback.started.wait(2) and playback.start_time is not None
    assert not playback.finished.is_set()
    assert playback.finished.wait(2)
    assert 0.25 <= playback.end_time - playback.start_time <= 0.5 and playback.start_time - began < 0.2
    assert not playback.interrupted


def test_replies_in_a_row_are_timed_one_after_another(client):
    output = WebSocketOutput(client.link, EventEmitter([client.link.send_event]))
    first = output.play(np.full(int(0.3 * RATE), 1000, np.int16))
    second = output.play(np.full(int(0.2 * RATE), 1000, np.int16))
    assert second.finished.wait(3) and first.finished.is_set()
    assert second.start_time >= first.start_time + 0.3 - 1e-6
    assert [h["id"] for h, _ in _reassemble(client.messages)] == [1, 2]


def test_stop_interrupts_and_tells_the_client(client):
    output = WebSocketOutput(client.link, EventEmitter([client.link.send_event]))
    playback = output.play(np.full(3 * RATE, 1000, np.int16))
    assert playback.started.wait(2)
    output.stop()
    assert playback.finished.is_set() and playback.interrupted
    time.sleep(0.1)
    assert client.events()[-1] == {"type": "reply_audio_stop", "t": client.events()[-1]["t"], "id": 1}


def test_empty_reply_sends_nothing_and_stereo_is_refused(client):
    output = WebSocketOutput(client.link, EventEmitter([client.link.send_event]))
    assert output.play(np.zeros(0, np.int16)).finished.is_set()
    with pytest.raises(ValueError, match="mono"):
        output.play(np.zeros((100, 2), np.int16))
    time.sleep(0.05)
    assert client.messages == []
