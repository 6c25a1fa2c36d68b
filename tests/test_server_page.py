"""What the web page needs from the server, with real WebSocket clients on a real server: device labels,
wake scores (both wake engines), commands typed instead of spoken, the hub of every device (its turns, its
state, its timers, cancelled from the hub), and the intent listing.

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

from assistant.assembly import make_pipeline
from assistant.config import Config
from assistant.conversations import Conversations
from assistant.events import EventEmitter, State, event_from_dict
from assistant.intents import IntentEngine
from assistant.pipeline import MAX_TYPED
from assistant.server.hub import KEEP_EVENTS, MAX_DEVICES, Hub
from assistant.server.messages import StreamDone, StreamReady
from assistant.server.wake_scores import REPORT_SECONDS
from assistant.wake import open_detector
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
    """``device``/``area`` in ``start`` are the device model's (checked there); the page reads them off ``ready``."""

    async def run():
        async with websockets.connect(server.ws_url) as ws:
            await ws.send(json.dumps({**START, "device": "kitchen pi"}))
            refused = (await _until(ws, _is("error")))[-1]
            await ws.send(json.dumps({**START, "device": "kitchen-pi", "area": "Kitchen"}))
            return refused, (await _until(ws, _is("ready")))[-1]

    refused, ready = asyncio.run(run())
    assert refused["code"] == "bad_start" and "a device id is 1 to 64 letters" in refused["message"]
    assert ready["device"] == "kitchen-pi" and ready["area"] == "kitchen"


# -- wake scores ----------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["microwakeword", "openwakeword"])
def test_wake_scores_come_a_few_times_a_second_and_show_the_word_crossing_the_line(engine):
    """A real "alexa" (wake-dev), on either wake engine: before it every report is below the engine's own line
    (microWakeWord's from the model's probability cutoff), the report at the wake holds the score that fired."""
    audio = np.concatenate([silence(1.5), trim_recording(read(WAKE_DEV / "alexa_220.flac")), silence(1.5)])
    start = {"wake_models": ["alexa"], "wake_scores": True}
    line = open_detector(engine, ["alexa"]).thresholds
    with running_server(config(wake={"engine": engine})) as server:
        events = asyncio.run(stream_audio(server.ws_url, pcm(audio), start=start))
        plain = asyncio.run(stream_audio(server.ws_url, pcm(audio), start={"wake_models": ["alexa"]}))
    wake = next(e for e in events if e["type"] == "wake")
    before = [e for e in events if e["type"] == "wake_scores" and e["audio_t"] < wake["audio_t"]]
    at_wake = next(e for e in events if e["type"] == "wake_scores" and e["audio_t"] == wake["audio_t"])
    assert len(before) >= 6 and all(e["thresholds"] == line for e in before)
    assert line == {"alexa": 0.5 if engine == "openwakeword" else 0.9}
    gaps = np.diff([e["audio_t"] for e in before])
    assert np.allclose(gaps, 0.24) and 0.24 >= REPORT_SECONDS  # 80 ms chunks: a report every three
    assert max(e["scores"]["alexa"] for e in before) <= line["alexa"] < at_wake["scores"]["alexa"] == wake["score"]
    assert event_from_dict(at_wake).to_dict() == at_wake  # one of the vocabulary, like the others
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


def _status(device: str, **fields: Any):
    return lambda e: e["type"] == "device_status" and e["device"] == device and all(e.get(k) == v for k, v in fields.items())


def test_a_watcher_sees_every_device_with_its_state_and_turns_live(server):
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
                stopped = await _until(watcher, _status("office", state="idle"))  # connected, no stream open
                await office.send(json.dumps({"type": "hello", "device": "office", "area": "Study"}))
                moved = await _until(watcher, _status("office", area="study"))
                await office.close()
                gone = await _until(watcher, _status("office", state="offline"))
                return replay, live, stopped, moved, gone

    replay, live, stopped, moved, gone = asyncio.run(run())
    assert all(event_from_dict(e).to_dict() == e for e in replay)
    ready = {e["device"]: e for e in replay if e["type"] == "hub" and e["event"]["type"] == "ready"}
    assert {"kitchen", "office"} <= set(ready) and replay[-1]["devices"] >= 2
    assert ready["kitchen"]["area"] == "ground floor" and ready["kitchen"]["event"]["device"] == "kitchen"
    times = [e["t"] for e in replay]
    assert times == sorted(times)  # replayed in the order they happened, then the statuses and `watching` (the hub's now)
    status = {e["device"]: e for e in replay if e["type"] == "device_status"}
    assert status["kitchen"]["state"] == "listening" and status["kitchen"]["area"] == "ground floor"
    assert status["kitchen"]["streams"] == [ready["kitchen"]["session"]] and status["kitchen"]["timers"] == []
    turn = [e["event"]["type"] for e in live if e["type"] == "hub" and e["device"] == "kitchen"]
    assert [k for k in turn if k in ("transcript", "intent", "reply")] == ["transcript", "intent", "reply"]
    done = next(e for e in stopped if e["type"] == "hub" and e["event"]["type"] == "done")
    assert done["session"] == ready["office"]["session"] and stopped[-1]["streams"] == []
    assert moved[-1]["state"] == "idle"
    assert not gone[-1]["forgotten"] and gone[-1]["area"] == "study"  # a device that named itself is remembered while offline


def test_the_hub_lists_a_devices_timers_and_cancels_them(server):
    """Timers set by one device's typed commands reach every watcher with a label and the time left; the hub's
    cancel takes one off (the plugin knows: the device's own "timer status" no longer has it)."""

    async def run():
        async with websockets.connect(server.ws_url) as hall, websockets.connect(server.ws_url) as watcher:
            await watcher.send(json.dumps({"type": "watch"}))
            await _until(watcher, _is("watching"))
            await hall.send(json.dumps({**START, "device": "hall"}))
            await _until(hall, _is("ready"))
            await hall.send(json.dumps({"type": "text", "text": "set a pizza timer for 10 minutes"}))
            await _until(hall, _is("reply"))
            await hall.send(json.dumps({"type": "text", "text": "set a timer for 3 minutes"}))
            await _until(hall, _is("reply"))
            both = (await _until(watcher, lambda e: _status("hall")(e) and len(e["timers"]) == 2))[-1]
            refused = []
            for bad in (
                {"device": "hall", "timer": 999999},
                {"device": "nowhere", "timer": 1},
                {"device": "hall", "alarm": True},
                {"device": "hall"},
                {"device": "hall", "timer": "1"},
            ):
                await watcher.send(json.dumps({"type": "cancel", **bad}))
                refused.append((await _until(watcher, _is("error")))[-1]["code"])
            pizza = next(t for t in both["timers"] if t["label"] == "pizza timer")
            await watcher.send(json.dumps({"type": "cancel", "device": "hall", "timer": pizza["id"]}))
            left = (await _until(watcher, lambda e: _status("hall")(e) and len(e["timers"]) == 1))[-1]
            await hall.send(json.dumps({"type": "text", "text": "how long is left on the pizza timer"}))
            answer = (await _until(hall, _is("reply")))[-1]
            await hall.send(json.dumps({"type": "text", "text": "cancel all timers"}))
            none = (await _until(watcher, lambda e: _status("hall")(e) and e["timers"] == []))[-1]
            return both, refused, left, answer, none

    both, refused, left, answer, none = asyncio.run(run())
    assert [t["label"] for t in both["timers"]] == ["3 minute timer", "pizza timer"]  # soonest first
    assert all(t["plugin"] == "timers" and t["alarm"] for t in both["timers"])
    assert 170 < both["timers"][0]["left"] <= 180 and 590 < both["timers"][1]["left"] <= 600
    assert refused == ["unknown_timer", "unknown_device", "no_alarm", "bad_cancel", "bad_cancel"]
    assert [t["label"] for t in left["timers"]] == ["3 minute timer"]
    assert answer["text"] == "There's no pizza timer."
    assert none["streams"] and none["alarms"] == []


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


def test_the_hub_keeps_a_bounded_recent_history_and_forgets_what_the_devices_forget():
    """Unit level, with the real conversations: which devices exist is theirs to say; the hub keeps the recent
    events of at most MAX_DEVICES of them, KEEP_EVENTS each, and none of a device they forgot."""
    cfg = Config.model_validate({"asr": {"engine": "none"}, "tts": {"engine": "none"}})
    conversations = Conversations(IntentEngine.from_config(cfg), cfg)
    hub = Hub()
    ready = StreamReady(session="s", encoding="pcm_s16le", rate=16000)
    try:
        live = hub.stream_sink("live", conversations.device("living-room"))
        live(ready)
        for i in range(MAX_DEVICES + 10):
            sink = hub.stream_sink(f"s{i}", conversations.device(f"device-{i}"))
            sink(ready)
            sink(StreamDone(audio_seconds=0))
        chatty = conversations.device("chatty", ephemeral=True)
        talk = hub.stream_sink("c", chatty)
        talk(ready)
        for _ in range(KEEP_EVENTS * 3):
            talk(State(state="listening"))

        def replay() -> list[dict[str, Any]]:
            seen: list[Any] = []
            hub.watch(seen.append, conversations)
            hub.unwatch(seen.append)
            return [e.to_dict() for e in seen]

        first = replay()
        devices = {e["device"] for e in first if e["type"] == "hub"}
        assert len(devices) == MAX_DEVICES and "living-room" in devices  # the open stream is kept
        assert sum(e["device"] == "chatty" for e in first if e["type"] == "hub") == KEEP_EVENTS
        statuses = [e for e in first if e["type"] == "device_status"]
        assert len(statuses) == first[-1]["devices"] == MAX_DEVICES + 12  # every device the conversations know
        conversations.forget_idle()  # an ephemeral device nothing keeps: gone
        talk(StreamDone(audio_seconds=0))  # its stream's late end is not kept either
        assert "chatty" not in {e["device"] for e in replay() if e["type"] in ("hub", "device_status")}
    finally:
        conversations.close()


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
