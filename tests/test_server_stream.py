"""``/v1/stream`` with real WebSocket clients streaming real speech to a real server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import socket
import time

import numpy as np
import pytest
import websockets

from tests.helpers import RATE, WAKE_DEV, piper, read, silence, trim
from tests.server_helpers import START, config, encode_opus, kinds, pcm, running_server, stream_audio, wait_until

pytestmark = pytest.mark.slow

LEAD, GAP = 1.0, 0.3


@pytest.fixture(scope="module")
def command():
    """'hey jarvis', a pause, 'what time is it' (Piper), with where the command really starts and ends."""
    wake, said = trim(piper("hey jarvis")), trim(piper("what time is it"))
    audio = np.concatenate([silence(LEAD), wake, silence(GAP), said, silence(1.5)])
    start = LEAD + len(wake) / RATE + GAP
    return audio, start, start + len(said) / RATE


@pytest.fixture(scope="module")
def server():
    with running_server() as running:
        yield running


@pytest.fixture(scope="module")
def strict_server():
    """Tight limits so the limits can be hit quickly."""
    cfg = config(server={"idle_timeout_seconds": 1.0, "stall_timeout_seconds": 1.0, "queue_seconds": 0.4, "max_connections": 3, "max_message_bytes": 65536})
    with running_server(cfg, send_buffer=8192) as running:
        yield running


def _assert_command(events, start, end, tolerance=0.15):
    assert events[0]["type"] == "ready" and events[-1]["type"] == "done"
    assert kinds(events) == ["wake", "speech_start", "speech_end"]
    wake, speech_start, speech_end = (e for e in events if e["type"] in ("wake", "speech_start", "speech_end"))
    assert wake["model"] == "hey_jarvis" and wake["score"] >= 0.5
    assert abs(speech_start["audio_t"] - start) <= tolerance and abs(speech_end["audio_t"] - end) <= tolerance
    stamps = [e["t"] for e in events]
    assert stamps == sorted(stamps)


def test_events_arrive_in_order_with_the_command_where_it_was_said(server, command):
    audio, start, end = command
    events = asyncio.run(stream_audio(server.ws_url, pcm(audio)))
    _assert_command(events, start, end)
    done = events[-1]
    assert done["dropped_frames"] == 0 and abs(done["audio_seconds"] - len(audio) / RATE) < 0.1
    assert [e["state"] for e in events if e["type"] == "state"] == ["listening", "capturing", "listening"]


def test_twenty_concurrent_clients_each_get_their_own_events(server, command):
    audio, start, end = command

    async def twenty():
        return await asyncio.gather(*(stream_audio(server.ws_url, pcm(audio), timeout=120) for _ in range(20)))

    results = asyncio.run(twenty())
    assert len({r[0]["session"] for r in results}) == 20
    for events in results:
        _assert_command(events, start, end)
    assert wait_until(lambda: server.state.active == 0)


def test_real_wake_recordings_fire_the_model_the_client_asked_for(server):
    clips = sorted(WAKE_DEV.glob("alexa_*.flac"))[:3]
    # apart by more than vad.no_speech_timeout_seconds, so no clip is taken for the command after the one before
    audio = np.concatenate([np.concatenate([silence(4.5), read(p)]) for p in clips] + [silence(1.0)])
    events = asyncio.run(stream_audio(server.ws_url, pcm(audio), start={"wake_models": ["alexa"]}))
    assert events[0]["wake"] == ["alexa"]
    assert [e["model"] for e in events if e["type"] == "wake"] == ["alexa"] * 3


def test_float_stereo_at_44k_is_converted_at_the_edge(server, command):
    import soxr

    audio, start, end = command
    f32 = soxr.resample(audio.astype(np.float32) / 32768, RATE, 44100).astype("<f4")
    stereo = np.stack([f32, f32], axis=1).tobytes()
    events = asyncio.run(stream_audio(server.ws_url, stereo, start={"rate": 44100, "encoding": "pcm_f32le", "channels": 2}, message_bytes=7001, bytes_per_second=44100 * 8))
    _assert_command(events, start, end)


@pytest.mark.parametrize("container", ["webm", "ogg"])
def test_browser_opus_streams_are_decoded_as_they_arrive(server, command, container):
    """MediaRecorder-style chunks: the wake word is reported before the rest of the stream is even sent."""
    audio, start, end = command
    data = encode_opus(audio, container)
    cut = int(len(data) * (start + 0.5) / (len(audio) / RATE))  # a little after the wake word

    async def run():
        events = []
        async with websockets.connect(server.ws_url) as ws:
            await ws.send(json.dumps({"type": "start", "encoding": f"{container}/opus", "backpressure": True}))
            for offset in range(0, cut, 700):
                await ws.send(data[offset : min(offset + 700, cut)])
            while not any(e["type"] == "wake" for e in events):
                events.append(json.loads(await asyncio.wait_for(ws.recv(), 10)))
            for offset in range(cut, len(data), 700):
                await ws.send(data[offset : offset + 700])
            await ws.send(json.dumps({"type": "stop"}))
            async for message in ws:
                events.append(json.loads(message))
                if events[-1]["type"] == "done":
                    return events

    events = asyncio.run(run())
    _assert_command(events, start, end, tolerance=0.2)


async def _expect_error(ws, code: str) -> dict:
    while True:
        event = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if event["type"] == "error":
            assert event["code"] == code, event
            return event


def test_protocol_mistakes_get_an_error_and_the_connection_and_others_carry_on(server, command):
    audio, start, end = command

    async def mistakes():
        async with websockets.connect(server.ws_url) as ws:
            await ws.send("{this is not json")
            assert "must be JSON" in (await _expect_error(ws, "bad_json"))["message"]
            await ws.send(json.dumps({"type": "pause"}))
            assert "'pause'" in (await _expect_error(ws, "unknown_type"))["message"]
            await ws.send(pcm(audio[:3200]))
            assert '"start"' in (await _expect_error(ws, "not_started"))["message"]
            await ws.send(json.dumps({**START, "rate": 4000}))
            assert "unsupported sample rate 4000" in (await _expect_error(ws, "bad_start"))["message"]
            await ws.send(json.dumps({"type": "stop"}))
            await _expect_error(ws, "not_started")
            # after all that, the same connection still streams
            await ws.send(json.dumps({**START, "backpressure": True}))
            await ws.send(json.dumps(START))
            await _expect_error(ws, "already_started")
            data = pcm(audio)
            for offset in range(0, len(data), 4000):
                await ws.send(data[offset : offset + 4000])
            await ws.send(json.dumps({"type": "stop"}))
            events = []
            async for message in ws:
                events.append(json.loads(message))
                if events[-1]["type"] == "done":
                    return events

    async def both():
        return await asyncio.gather(mistakes(), stream_audio(server.ws_url, pcm(audio), realtime=False))

    broken, other = asyncio.run(both())
    assert kinds(broken) == ["wake", "speech_start", "speech_end"]
    _assert_command(other, start, end)


def test_several_streams_one_after_another_on_one_connection(server, command):
    audio, _, _ = command

    async def twice():
        found = []
        async with websockets.connect(server.ws_url) as ws:
            for _ in range(2):
                await ws.send(json.dumps({**START, "backpressure": True}))
                await ws.send(pcm(audio))
                await ws.send(json.dumps({"type": "stop"}))
                events = []
                while not events or events[-1]["type"] != "done":
                    events.append(json.loads(await asyncio.wait_for(ws.recv(), 20)))
                found.append(events)
        return found

    first, second = asyncio.run(twice())
    assert kinds(first) == kinds(second) == ["wake", "speech_start", "speech_end"]
    assert first[0]["session"] != second[0]["session"]


def test_garbage_in_a_compressed_stream_is_an_error_not_a_hang(server):
    async def run():
        async with websockets.connect(server.ws_url) as ws:
            await ws.send(json.dumps({"type": "start", "encoding": "webm/opus"}))
            await ws.send(np.random.default_rng(0).bytes(5000))
            await ws.send(json.dumps({"type": "stop"}))
            events = []
            while not events or events[-1]["type"] != "done":
                events.append(json.loads(await asyncio.wait_for(ws.recv(), 10)))
            return events

    events = asyncio.run(run())
    errors = [e for e in events if e["type"] == "error"]
    assert errors and errors[0]["code"] == "audio_decode" and "webm/opus" in errors[0]["message"]


def test_oversized_message_closes_with_1009_and_the_server_keeps_serving(strict_server, command):
    audio, start, end = command

    async def too_big():
        async with websockets.connect(strict_server.ws_url, max_size=None) as ws:
            await ws.send(json.dumps(START))
            await ws.send(b"\0" * 65537)
            with pytest.raises(websockets.ConnectionClosed):
                while True:
                    await asyncio.wait_for(ws.recv(), 10)
            return ws.close_code, ws.close_reason

    code, reason = asyncio.run(too_big())
    assert code == 1009 and "65536" in reason
    _assert_command(asyncio.run(stream_audio(strict_server.ws_url, pcm(audio), message_bytes=8000)), start, end)


def test_client_faster_than_real_time_is_told_with_overload_counts(strict_server):
    """No backpressure: 60 s of audio in 80 ms messages sent as fast as possible into a 0.4 s queue. The
    server keeps reading (a live stream is never delayed); frames are dropped and counted, the client is
    told, and what was processed plus what was dropped is exactly what was sent."""
    audio = np.resize(trim(piper("what time is it")), 60 * RATE)
    events = asyncio.run(stream_audio(strict_server.ws_url, pcm(audio), realtime=False, start={"backpressure": False, "wake": False}, message_bytes=2560))
    overloads = [e for e in events if e["type"] == "overload"]
    done = events[-1]
    capacity = round(events[0]["queue_seconds"] / 0.08)
    assert overloads and all(0 < o["dropped_frames"] and o["queued_frames"] <= capacity for o in overloads)
    assert overloads[-1]["dropped_frames"] == done["dropped_frames"] > 0
    stats = [e for e in events if e["type"] == "audio_stats"][-1]
    assert stats["frames"] + stats["dropped_frames"] == len(audio) // 1280
    assert abs(done["audio_seconds"] - stats["frames"] * 0.08) < 0.01


def test_flooding_client_keeps_server_memory_bounded(strict_server):
    """Memory is sampled after every message while one client floods ten minutes of audio faster than real
    time: after the first quarter of the flood (the stream's own setup) it must stop growing, although three
    quarters of the data (14 MB) are still to come. Samples are taken by data sent, not by the clock, so a busy
    machine changes nothing but the pace. Whole-process RSS before vs after depends on what earlier tests left
    in the allocator; the plateau within one stream does not."""
    import psutil

    process = psutil.Process()
    noise = (np.random.default_rng(1).normal(0, 300, 10 * 60 * RATE)).astype(np.int16)  # 10 minutes, 19 MB
    data = pcm(noise)
    samples: list[tuple[int, int]] = []  # (bytes sent, RSS)
    events = asyncio.run(
        stream_audio(
            strict_server.ws_url,
            data,
            start={"backpressure": False, "wake": False},
            message_bytes=60000,
            on_sent=lambda sent: samples.append((sent, process.memory_info().rss)),
        )
    )
    settled = next(rss for sent, rss in samples if sent >= len(data) / 4)
    grown = max(rss for _, rss in samples) - settled
    assert events[-1]["dropped_frames"] > 0
    assert len(samples) == -(-len(data) // 60000)
    assert grown < 8 * 2**20, f"server memory grew by {grown / 2**20:.1f} MiB during the last three quarters of a 19 MiB flood"


def test_idle_client_times_out_with_4408(strict_server):
    async def idle():
        async with websockets.connect(strict_server.ws_url) as ws:
            began = time.monotonic()
            with pytest.raises(websockets.ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 10)
            return ws.close_code, ws.close_reason, time.monotonic() - began

    code, reason, waited = asyncio.run(idle())
    assert code == 4408 and "idle" in reason and 0.8 <= waited < 3


def test_stalled_sender_mid_stream_times_out(strict_server, command):
    audio, _, _ = command

    async def stall():
        async with websockets.connect(strict_server.ws_url) as ws:
            await ws.send(json.dumps(START))
            await ws.send(pcm(audio[: RATE // 2]))
            with pytest.raises(websockets.ConnectionClosed):
                while True:
                    await asyncio.wait_for(ws.recv(), 10)
            return ws.close_code

    assert asyncio.run(stall()) == 4408


def test_connections_beyond_the_limit_are_refused_with_1013(strict_server):
    async def crowd():
        open_ = [await websockets.connect(strict_server.ws_url) for _ in range(3)]
        extra = await websockets.connect(strict_server.ws_url)
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(extra.recv(), 5)
        refused = (extra.close_code, extra.close_reason)
        await open_[0].close()
        await asyncio.sleep(0.2)
        again = await websockets.connect(strict_server.ws_url)
        await again.send(json.dumps(START))
        ready = json.loads(await asyncio.wait_for(again.recv(), 10))
        for ws in [*open_[1:], again]:
            await ws.close()
        return refused, ready

    (code, reason), ready = asyncio.run(crowd())
    assert code == 1013 and "busy" in reason
    assert ready["type"] == "ready"


def test_client_that_stops_reading_is_let_go(strict_server, command):
    """A client that sends but never reads (a tiny receive window fills at once): when the server cannot
    hand it anything for 1 s it drops the connection instead of buffering for it; others carry on."""
    audio, start, end = command

    async def deaf():
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", strict_server.port))
        async with websockets.connect(strict_server.ws_url, sock=sock, max_queue=1) as ws:
            nonsense = json.dumps({"type": "x" * 200})
            for _ in range(2000):  # each answered with an error event nobody reads
                await ws.send(nonsense)
            released = await asyncio.to_thread(wait_until, lambda: strict_server.state.active == 0, 6.0)
            with pytest.raises(websockets.ConnectionClosed):
                while True:
                    await asyncio.wait_for(ws.recv(), 10)
            return released, ws.close_code

    released, code = asyncio.run(deaf())
    assert released and code in (4408, 1006)  # 4408 if the close frame still got through, else dropped
    _assert_command(asyncio.run(stream_audio(strict_server.ws_url, pcm(audio), message_bytes=8000)), start, end)


def test_a_server_without_its_speech_model_still_streams_and_says_how_to_get_it(command):
    """The default English vosk model is not installed here: the stream reports that once, with the
    command that fetches the model, and still delivers the wake word and the command's bounds."""
    audio, start, end = command
    with running_server(config(asr={"engine": "vosk"})) as running:
        events = asyncio.run(stream_audio(running.ws_url, pcm(audio)))
    errors = [e for e in events if e["type"] == "error"]
    assert [e["code"] for e in errors] == ["asr_unavailable"]
    assert "assistant models pull vosk-model-small-en-us-0.15" in errors[0]["message"]
    _assert_command([e for e in events if e["type"] != "error"], start, end)
