"""Hostile and careless clients against a running `assistant wyoming`: each mistake gets one ``error`` event (and one
log line, no traceback), the connection reads on, and other clients are served meanwhile; memory stays bounded.

Raw bytes go through a plain socket; events are written and read with the wyoming package's own framing."""

from __future__ import annotations

import asyncio
import json
import logging

import numpy as np
import psutil
import pytest
from wyoming.audio import AudioChunk, AudioStart
from wyoming.event import Event, async_read_event, async_write_event
from wyoming.info import Describe
from wyoming.wake import Detect

from tests.helpers import WAKE_DEV, read, silence
from tests.wyoming_helpers import HOST, config, read_until, running, send_audio

TEN_MB = 10 * 1024 * 1024


@pytest.fixture(scope="module")
def served():
    """Wake words and intents, no recognizer or voice: what the protocol checks need, quick to start."""
    with running(config(wake={"models": ["alexa"]}, asr={"engine": "none"}, tts={"engine": "none"})) as server:
        yield server


class Raw:
    """A connection that can send anything; what it reads back is framed by the wyoming package."""

    def __init__(self, port: int) -> None:
        self.port = port

    async def __aenter__(self) -> Raw:
        self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
        return self

    async def __aexit__(self, *exc) -> None:
        self.writer.close()

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def event(self, event: Event | None = None, timeout: float = 30.0) -> Event | None:
        """Send ``event`` (if given) and return the next event the server sends (None: it closed)."""
        if event is not None:
            await async_write_event(event, self.writer)
        return await asyncio.wait_for(async_read_event(self.reader), timeout)

    async def still_served(self) -> None:
        answer = await self.event(Describe().event())
        assert answer is not None and answer.type == "info"


def header(kind: str, **fields) -> bytes:
    return json.dumps({"type": kind, **fields}).encode() + b"\n"


CASES = {
    "garbage bytes": (b"\x00\xffGET / HTTP/1.1 garbage\r\n", "bad_event"),
    "not an object": (b"[1, 2, 3]\n", "bad_event"),
    "no type": (b'{"data": {}}\n', "bad_event"),
    "nested 5000 deep": (b'{"type": "describe", "data": ' + b"[" * 5000 + b"]" * 5000 + b"}\n", "bad_event"),
    "5000-digit length": (b'{"type": "describe", "data_length": ' + b"9" * 5000 + b"}\n", "bad_event"),
    "negative length": (header("describe", payload_length=-5), "bad_event"),
    "length of the wrong type": (header("describe", data_length="12"), "bad_event"),
    "data that is not JSON": (header("describe", data_length=5) + b"{oops", "bad_event"),
    "data that is a list": (header("describe", data_length=6, payload_length=3) + b"[1, 2]abc", "bad_event"),
    "a payload over the limit": (header("audio-chunk", payload_length=2 * 1024 * 1024) + bytes(2 * 1024 * 1024), "event_too_large"),
    "audio-chunk before transcribe": (header("audio-chunk", data={"rate": 16000, "width": 2, "channels": 1}, payload_length=4) + bytes(4), "not_started"),
    "audio-stop before audio-start": (header("audio-stop"), "not_started"),
    "audio-start without a request": (header("audio-start", data={"rate": 16000, "width": 2, "channels": 1}), "no_request"),
    "transcribe without a recognizer": (header("transcribe"), "no_asr"),
    "synthesize without a voice": (header("synthesize", data={"text": "hello"}), "no_tts"),
    "synthesize-chunk before synthesize-start": (header("synthesize-chunk", data={"text": "hi"}), "not_started"),
    "detect of an unknown wake word": (header("detect", data={"names": ["hey_siri"]}), "unknown_wake_word"),
    "detect names not a list": (header("detect", data={"names": "alexa"}), "bad_event"),
    "a transcript without text": (header("transcript", data={"text": 5}), "bad_event"),
    "a transcript from a bad device": (header("transcript", data={"text": "what time is it", "context": {"satellite_id": "no spaces!"}}), "bad_device"),
    "a transcript that is a book": (header("transcript", data={"text": "word " * 1000}), "text_too_long"),
    "an event a server sends": (header("detection", data={"name": "alexa"}), "unexpected_event"),
    "a program this server lacks": (header("select-program", data={"name": "other"}), "unknown_program"),
    "a structured intent": (header("intent", data={"name": "HassStartTimer"}), "not_supported"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_each_mistake_gets_an_error_and_the_connection_lives_on(served, name, caplog):
    data, code = CASES[name]

    async def talk() -> Event | None:
        async with Raw(served.port) as raw:
            await raw.send(data)
            answer = await raw.event()
            await raw.still_served()
            return answer

    with caplog.at_level(logging.INFO, logger="assistant"):
        answer = asyncio.run(talk())
    assert answer is not None and answer.type == "error", answer
    assert answer.data["code"] == code, answer.data
    assert answer.data["text"]  # says what was wrong
    assert not [r for r in caplog.records if r.exc_info], "a client's mistake logged a traceback"
    assert served.logged("error")[-1].code == code  # and our event log has it


def test_audio_of_the_wrong_format_is_refused_by_field(served):
    async def talk() -> list[str]:
        codes = []
        async with Raw(served.port) as raw:
            for fields in ({"rate": "16000", "width": 2, "channels": 1}, {"rate": 16000, "width": 3, "channels": 1}, {"rate": 16000, "width": 2, "channels": 0}, {"rate": 4000, "width": 2, "channels": 1}):
                await raw.send(header("detect"))
                codes.append((await raw.event(Event("audio-start", fields))).data["text"])
            # a chunk whose format is not its stream's
            await raw.send(header("detect"))
            await async_write_event(AudioStart(rate=16000, width=2, channels=1).event(), raw.writer)
            codes.append((await raw.event(AudioChunk(rate=44100, width=2, channels=1, audio=bytes(8)).event())).data["text"])
            await raw.still_served()
        return codes

    texts = asyncio.run(talk())
    assert "rate must be" in texts[0] and "width must be 1, 2, 4" in texts[1] and "channels must be from 1" in texts[2] and "8000" in texts[3]
    assert "its audio-start said 16000 Hz" in texts[4]


def test_an_unknown_event_type_is_ignored_as_the_protocol_asks(served):
    async def talk() -> Event | None:
        async with Raw(served.port) as raw:
            await raw.send(header("satellite-hint", data={"x": 1}))
            return await raw.event(Describe().event())  # the first answer is describe's: nothing came for the unknown event

    assert asyncio.run(talk()).type == "info"


def test_a_10_mb_header_is_skipped_in_bounded_memory_while_another_client_is_served(served):
    """The header line arrives 64 KiB at a time; meanwhile a satellite's wake stream is answered."""
    alexa = np.concatenate([read(WAKE_DEV / "alexa_20.flac"), silence(1.0)])
    process = psutil.Process()

    async def hostile() -> tuple[Event | None, int]:
        async with Raw(served.port) as raw:
            await raw.send(b'{"type": "describe", "data": {"x": "')
            peak = 0
            piece = b"a" * 65536
            for _ in range(TEN_MB // len(piece)):
                await raw.send(piece)
                peak = max(peak, process.memory_info().rss)
            await raw.send(b'"}}\n')
            answer = await raw.event()
            await raw.still_served()
            return answer, peak

    async def satellite() -> list[Event]:
        async with served.client() as client:
            await client.write_event(Detect(names=["alexa"]).event())
            await send_audio(client, alexa)
            return await read_until(client, "detection", "not-detected")

    async def both():
        return await asyncio.gather(hostile(), satellite())

    before = process.memory_info().rss
    (answer, peak), woke = asyncio.run(both())
    assert answer is not None and answer.data["code"] == "header_too_large"
    assert [e.type for e in woke] == ["detection"]
    assert peak - before < 8 * 1024 * 1024  # the 10 MB were never held (the stream's buffer is 64-128 KiB)


def test_a_header_declaring_10_mb_of_payload_is_skipped_without_holding_it(served):
    async def talk() -> Event | None:
        async with Raw(served.port) as raw:
            await raw.send(header("audio-chunk", data={"rate": 16000, "width": 2, "channels": 1}, payload_length=TEN_MB))
            answer = await raw.event()  # told at once, before the payload arrives
            piece = bytes(65536)
            for _ in range(TEN_MB // len(piece)):
                await raw.send(piece)
            await raw.still_served()  # the payload was read past, not taken for events
            return answer

    answer = asyncio.run(talk())
    assert answer.data["code"] == "event_too_large" and str(TEN_MB) in answer.data["text"]


def test_a_full_server_says_so_and_a_quiet_client_is_let_go():
    with running(config(wake={"enabled": False}, asr={"engine": "none"}, tts={"engine": "none"}, wyoming={"max_connections": 2, "timeout_seconds": 1.0})) as server:

        async def talk() -> tuple:
            async with Raw(server.port) as first, Raw(server.port) as second:
                await first.still_served()
                await second.still_served()
                async with Raw(server.port) as third:
                    refused = await third.event()
                    closed = await third.event()
                await asyncio.sleep(1.5)  # first and second say nothing for longer than wyoming.timeout_seconds
                gone = await first.event()
            async with Raw(server.port) as fourth:
                await fourth.still_served()
            return refused, closed, gone

        refused, closed, gone = asyncio.run(talk())
        assert refused.data["code"] == "busy" and "wyoming.max_connections" in refused.data["text"]
        assert closed is None and gone is None
