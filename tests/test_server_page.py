"""What the web page needs from the server, with real WebSocket clients on a real server: device labels,
wake scores, commands typed instead of spoken, the hub of every stream's turns, and the intent listing.

The page itself, in a real browser, is tests/test_page.py.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import numpy as np
import pytest
import websockets

from assistant.config import Config
from assistant.events import EventEmitter, State, StreamDone, StreamReady, event_from_dict
from assistant.intents import IntentEngine
from assistant.pipeline import MAX_TYPED
from assistant.server.hub import KEEP_EVENTS, MAX_DEVICES, OFFLINE_SECONDS, Hub
from assistant.server.wake_scores import REPORT_SECONDS
from assistant.stages import make_pipeline
from tests.helpers import WAKE_DEV, read, silence, trim_recording
from tests.server_helpers import START, config, pcm, running_server, stream_audio

TOKEN = "kitchen sink"


@pytest.fixture(scope="module")
def server():
    """Wake word and VAD, the intents, no recognizer or voice: typed turns need nothing more."""
    with running_server() as running:
        yield running


async def _until(ws: Any, done, timeout: float = 20.0) -> list[dict[str, Any]]:
    """JSON messages from ``ws`` up to and including the first for which ``done(message)`` is true."""
    got: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout):
        while True:
            message = await ws.recv()
            if isinstance(message, bytes):
                continue
            got.append(json.loads(message))
            if done(got[-1]):
                return got


def _is(kind: str, **fields: Any):
    return lambda e: e["type"] == kind and all(e.get(k) == v for k, v in fields.items())


def _hub(kind: str, device: str):
    return lambda e: e["type"] == "hub" and e["device"] == device and e["event"]["type"] == kind


# -- device labels --------------------------------------------------------------------------------


def test_a_stream_is_labelled_with_its_device_and_area(server):
    async def run():
        async with websockets.connect(server.ws_url) as ws:
            refused = []
            for bad in ({"device": "x" * 65}, {"area": 7}, {"device": "bell\x07"}):
                await ws.send(json.dumps({**START, **bad}))
                refused.append((await _until(ws, _is("error")))[-1])
            await ws.send(json.dumps({**START, "device": " kitchen-pi ", "area": "kitchen"}))
            return refused, (await _until(ws, _is("ready")))[-1]

    refused, ready = asyncio.run(run())
    assert [e["code"] for e in refused] == ["bad_start"] * 3 and "device must be a name of 1 to 64" in refused[0]["message"]
    assert ready["device"] == "kitchen-pi" and ready["area"] == "kitchen"


# -- wake scores ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_wake_scores_come_a_few_times_a_second_and_show_the_word_crossing_the_line(server):
    """A real "alexa" (wake-dev): before it every report is below the line, the report at the wake holds its score."""
    audio = np.concatenate([silence(1.5), trim_recording(read(WAKE_DEV / "alexa_220.flac")), silence(1.5)])
    start = {"wake_models": ["alexa"], "wake_scores": True}
    events = asyncio.run(stream_audio(server.ws_url, pcm(audio), start=start))
    wake = next(e for e in events if e["type"] == "wake")
    before = [e for e in events if e["type"] == "wake_scores" and e["audio_t"] < wake["audio_t"]]
    at_wake = next(e for e in events if e["type"] == "wake_scores" and e["audio_t"] == wake["audio_t"])
    assert len(before) >= 6 and all(e["thresholds"] == {"alexa": 0.5} for e in before)
    gaps = np.diff([e["audio_t"] for e in before])
    assert np.allclose(gaps, 0.24) and 0.24 >= REPORT_SECONDS  # 80 ms chunks: a report every three
    assert max(e["scores"]["alexa"] for e in before) < 0.5 <= at_wake["scores"]["alexa"] == wake["score"]
    assert event_from_dict(at_wake).to_dict() == at_wake  # one of the vocabulary, like the others
    plain = asyncio.run(stream_audio(server.ws_url, pcm(audio), start={"wake_models": ["alexa"]}))
    assert "wake" in [e["type"] for e in plain] and "wake_scores" not in [e["type"] for e in plain]


# -- typed commands -------------------------------------------------------------------------------


def test_a_typed_command_runs_the_turn_a_transcript_would_without_any_audio(server):
    async def run():
        async with websockets.connect(server.ws_url) as ws:
            await ws.send(json.dumps({"type": "text", "text": "what time is it"}))
            early = (await _until(ws, _is("error")))[-1]
            await ws.send(json.dumps(START))
            await _until(ws, _is("ready"))
            await ws.send(json.dumps({"type": "text", "text": "  "}))
            empty = (await _until(ws, _is("error")))[-1]
            await ws.send(json.dumps({"type": "text", "text": "what time is it"}))
            turn = await _until(ws, _is("state", state="listening"))
            await ws.send(json.dumps({"type": "text", "text": "set a timer for five minutes"}))
            await ws.send(json.dumps({"type": "stop"}))  # typed before the end: answered before `done`
            rest = await _until(ws, _is("done"))
            return early, empty, turn, rest

    early, empty, turn, rest = asyncio.run(run())
    assert early["code"] == "not_started" and "start" in early["message"]
    assert empty["code"] == "bad_text"
    kinds = [e["type"] for e in turn]
    assert kinds.index("transcript") < kinds.index("intent") < kinds.index("reply") < len(kinds) - 1  # then listening again
    assert next(e for e in turn if e["type"] == "intent")["name"] == "HassGetCurrentTime"
    assert next(e for e in turn if e["type"] == "reply")["text"].startswith("It's")
    assert next(e for e in rest if e["type"] == "intent")["name"] == "HassStartTimer"
    assert rest[-1]["audio_seconds"] == 0


def test_typed_commands_wait_their_turn_within_a_bound():
    """Unit level: how many may wait is the pipeline's to say (over the socket the count is a race)."""
    pipeline = make_pipeline(Config.model_validate({"wake": {"enabled": False}}), EventEmitter())
    try:
        assert all(pipeline.hear(f"what time is it {i}") for i in range(MAX_TYPED))
        assert pipeline.hear("one too many") is False
    finally:
        pipeline.close()


# -- the hub --------------------------------------------------------------------------------------


def test_a_watcher_sees_every_stream_with_its_device_and_their_turns_live(server):
    async def run():
        async with websockets.connect(server.ws_url) as kitchen, websockets.connect(server.ws_url) as office:
            await kitchen.send(json.dumps({**START, "device": "kitchen", "area": "ground floor"}))
            await office.send(json.dumps({**START, "device": "office"}))
            await _until(kitchen, _is("ready"))
            await _until(office, _is("ready"))
            async with websockets.connect(server.ws_url) as watcher:
                await watcher.send(json.dumps({"type": "watch"}))
                replay = await _until(watcher, _is("watching"))
                await kitchen.send(json.dumps({"type": "text", "text": "what time is it"}))
                live = await _until(watcher, _hub("reply", "kitchen"))
                await office.send(json.dumps({"type": "stop"}))
                gone = await _until(watcher, _hub("done", "office"))
                return replay, live, gone

    replay, live, gone = asyncio.run(run())
    assert all(event_from_dict(e).to_dict() == e for e in replay)
    ready = {e["device"]: e for e in replay if e["type"] == "hub" and e["event"]["type"] == "ready"}
    assert {"kitchen", "office"} <= set(ready) and replay[-1]["devices"] >= 2
    assert ready["kitchen"]["area"] == "ground floor" and ready["kitchen"]["event"]["device"] == "kitchen"
    times = [e["t"] for e in replay]
    assert times == sorted(times)  # replayed in the order they happened, then `watching` (the hub's now)
    turn = [e["event"]["type"] for e in live if e["type"] == "hub" and e["device"] == "kitchen"]
    assert [k for k in turn if k in ("transcript", "intent", "reply")] == ["transcript", "intent", "reply"]
    assert gone[-1]["session"] == ready["office"]["session"]


def test_watching_is_allowed_as_the_first_message_and_is_never_idle():
    cfg = config(server={"token": TOKEN, "idle_timeout_seconds": 1.0})

    async def run(server):
        async with websockets.connect(server.ws_url) as watcher:
            await watcher.send(json.dumps({"type": "watch", "token": TOKEN}))
            await _until(watcher, _is("watching"))
            await asyncio.sleep(2.5)  # more than twice the idle timeout, saying nothing
            async with websockets.connect(server.ws_url, additional_headers={"Authorization": f"Bearer {TOKEN}"}) as other:
                await other.send(json.dumps({**START, "device": "hall"}))
                seen = await _until(watcher, _hub("ready", "hall"))
        async with websockets.connect(server.ws_url) as stranger:
            await stranger.send(json.dumps({"type": "watch", "token": "guess"}))
            await stranger.wait_closed()
        return seen, stranger.close_code

    with running_server(cfg) as server:
        seen, refused = asyncio.run(run(server))
    assert seen[-1]["event"]["device"] == "hall" and refused == 4401


def test_the_hub_keeps_a_bounded_recent_history_and_forgets_devices_that_left():
    now = [0.0]
    hub = Hub(clock=lambda: now[0])
    ready = StreamReady(session="s", encoding="pcm_s16le", rate=16000)
    hub.stream_sink("live", "living room", None)(ready)
    for i in range(MAX_DEVICES + 10):
        sink = hub.stream_sink(f"s{i}", f"device {i}", None)
        sink(ready)
        sink(StreamDone(audio_seconds=0))
    chatty = hub.stream_sink("c", "chatty", None)
    chatty(ready)
    for _ in range(KEEP_EVENTS * 3):
        chatty(State(state="listening"))

    def replay() -> list[dict[str, Any]]:
        seen: list[Any] = []
        hub.watch(seen.append)
        hub.unwatch(seen.append)
        return [e.to_dict() for e in seen]

    first = replay()
    devices = {e["device"] for e in first if e["type"] == "hub"}
    assert len(devices) == MAX_DEVICES == first[-1]["devices"] and "living room" in devices  # the open stream is kept
    assert sum(e["device"] == "chatty" for e in first if e["type"] == "hub") == KEEP_EVENTS
    now[0] += OFFLINE_SECONDS + 1
    assert {e["device"] for e in replay() if e["type"] == "hub"} == {"living room", "chatty"}  # still streaming


# -- what the assistant understands ---------------------------------------------------------------


def test_the_intent_listing_is_what_assistant_intents_shows(server):
    listing = httpx.get(f"{server.url}/v1/intents").json()
    assert listing == json.loads(json.dumps(IntentEngine.from_config(server.state.config).catalog()))
    clock = next(p for p in listing["plugins"] if p["name"] == "clock")
    time_intent = next(i for i in clock["intents"] if i["name"] == "HassGetCurrentTime")
    assert clock["description"] and "what time is it" in time_intent["examples"]
    assert "coffee" in listing["off"]
    with running_server(config(server={"token": TOKEN})) as guarded:
        assert httpx.get(f"{guarded.url}/v1/intents").status_code == 401
        assert httpx.get(f"{guarded.url}/v1/intents", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
