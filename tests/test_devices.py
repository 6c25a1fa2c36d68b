"""Conversations belong to devices, on a real server over real sockets: private follow-ups and timers,
announcements held for a device that is away, talking first, the token, and timers no hung handler delays.

The server here bounds no audio (no recognizer, no voice): these are about who hears what, so the device
clients are WebSocket clients that say ``hello`` and read events, as a satellite does.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from pathlib import Path

import httpx
import pytest

from assistant.config import load_config
from assistant.intents import Dispatcher, IntentEngine
from tests.helpers import cli
from tests.intents_helpers import Announcements
from tests.server_helpers import config, running_server, wait_until

TOKEN = "s3cret"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def server():
    with running_server(config(server={"token": TOKEN}, assistant={"announcement_hold_seconds": 30})) as running:
        yield running


def understand(server, device: str, text: str) -> dict:
    response = httpx.post(f"{server.url}/v1/understand", json={"text": text, "device": device}, headers=AUTH, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


class DeviceClient:
    """A WebSocket client that is one device (``hello``) and records every event, on its own thread."""

    def __init__(self, server, device: str, area: str | None = None) -> None:
        self.url = server.ws_url
        self.hello = {"type": "hello", "device": device, "area": area}
        self.events: list[dict] = []
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)
        self._thread.start()
        assert self._ready.wait(10)
        conversations = server.state.resources.get().conversations  # the hello is read on the server's own time
        assert wait_until(lambda: (c := conversations.get(device)) is not None and c.connected, timeout=10)

    async def _run(self) -> None:
        import websockets

        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        async with websockets.connect(self.url, additional_headers=AUTH) as ws:
            await ws.send(json.dumps(self.hello))
            self._ready.set()
            reader = asyncio.create_task(self._read(ws))
            await self._stop.wait()
            reader.cancel()

    async def _read(self, ws) -> None:
        async for message in ws:
            if isinstance(message, str):
                self.events.append(json.loads(message))

    def texts(self, kind: str = "reply") -> list[str]:
        return [e["text"] for e in list(self.events) if e["type"] == kind]

    def close(self) -> None:
        assert self._loop is not None and self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


def test_the_office_can_neither_answer_the_kitchens_question_nor_see_or_cancel_its_timers(server):
    """The scenario of the issue, over HTTP: two callers, two devices."""
    assert understand(server, "kitchen", "set a pizza timer for 10 minutes")["reply"]["text"] == "Pizza timer set for 10 minutes."
    assert understand(server, "kitchen", "set a tea timer for 5 minutes")["reply"]["text"] == "Tea timer set for 5 minutes."
    asked = understand(server, "kitchen", "cancel the timer")
    assert asked["follow_up"] and asked["reply"]["text"] == "Which one: the pizza timer or the tea timer?"
    office = understand(server, "office", "pizza")
    assert office["device"] == "office" and "Cancelled" not in office["reply"]["text"]
    assert understand(server, "office", "timer status")["reply"]["text"] == "You have no timers running."
    assert understand(server, "office", "cancel all timers")["reply"]["text"] == "You have no timers running."
    assert understand(server, "kitchen", "pizza")["reply"]["text"] == "Cancelled the pizza timer."  # the question waited for the kitchen
    status = understand(server, "kitchen", "timer status")["reply"]
    assert [t["name"] for t in status["data"]["timers"]] == ["tea"]
    understand(server, "kitchen", "cancel all timers")


def test_an_incomplete_command_asks_and_the_answer_is_typed(server):
    asked = understand(server, "hall", "set a timer")
    assert asked["follow_up"] and asked["reply"]["text"] == "For how long?"
    assert understand(server, "hall", "purple")["reply"]["text"] == "Sorry, I didn't catch that."
    assert understand(server, "hall", "timer status")["reply"]["text"] == "You have no timers running."  # nothing invented
    understand(server, "hall", "set a pasta timer")
    answered = understand(server, "hall", "for twelve minutes")
    assert answered["intent"]["name"] == "HassStartTimer" and answered["intent"]["slots"] == {"name": "pasta", "minutes": 12}
    assert answered["reply"]["text"] == "Pasta timer set for 12 minutes."
    understand(server, "hall", "cancel all timers")


def test_an_announcement_for_a_device_that_is_away_is_said_when_it_reconnects(server):
    held = httpx.post(f"{server.url}/v1/announce", json={"device": "garage", "text": "The car is charged."}, headers=AUTH)
    assert held.status_code == 202 and held.json() == {"device": "garage", "delivered": False, "held_seconds": 30.0}
    for text in ("The bins go out tonight.", "The door is locked."):
        assert httpx.post(f"{server.url}/v1/announce", json={"device": "garage", "text": text}, headers=AUTH).status_code == 202
    garage = DeviceClient(server, "garage", "garage")
    try:
        assert wait_until(lambda: len(garage.texts()) == 3, timeout=10), garage.events
        assert garage.texts() == ["The car is charged.", "The bins go out tonight.", "The door is locked."]  # in the order they were made
        said = httpx.post(f"{server.url}/v1/announce", json={"device": "garage", "text": "Door open."}, headers=AUTH)
        assert said.status_code == 200 and said.json()["delivered"] is True
        assert wait_until(lambda: "Door open." in garage.texts(), timeout=10)
    finally:
        garage.close()
    assert garage.texts().count("The car is charged.") == 1  # delivered once, not held again


def test_converse_asks_a_connected_device_and_says_listen(server):
    refused = httpx.post(f"{server.url}/v1/converse", json={"device": "attic", "text": "Anyone there?"}, headers=AUTH)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "not_connected"
    porch = DeviceClient(server, "porch")
    try:
        asked = httpx.post(f"{server.url}/v1/converse", json={"device": "porch", "text": "Shall I turn on the light?"}, headers=AUTH)
        assert asked.status_code == 200
        assert wait_until(lambda: "listen" in [e["type"] for e in porch.events], timeout=10), porch.events
        kinds = [e["type"] for e in porch.events]
        assert porch.texts() == ["Shall I turn on the light?"] and kinds.index("reply") < kinds.index("listen")
    finally:
        porch.close()


def test_announce_and_converse_need_the_token(server):
    for route in ("/v1/announce", "/v1/converse"):
        refused = httpx.post(f"{server.url}{route}", json={"device": "kitchen", "text": "hello"})
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"
        wrong = httpx.post(f"{server.url}{route}", json={"device": "kitchen", "text": "hello"}, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"text": "hello"}, 400, "no_device"),
        ({"device": "a kitchen", "text": "hello"}, 400, "bad_device"),
        ({"device": "x" * 65, "text": "hello"}, 400, "bad_device"),
        ({"device": "kitchen", "area": "<script>", "text": "hello"}, 400, "bad_device"),
        ({"device": "kitchen", "text": ""}, 400, "no_text"),
        ({"device": ["kitchen"], "text": "hello"}, 400, "bad_device"),
    ],
)
def test_bad_devices_get_a_400_naming_the_problem(server, body, status, code):
    response = httpx.post(f"{server.url}/v1/announce", json=body, headers=AUTH)
    assert response.status_code == status and response.json()["error"]["code"] == code


def test_assistant_say_device_speaks_through_the_running_server(server):
    result = cli("say", "--device", "shed", "--server", server.url, "--token", TOKEN, "Feed", "the", "cat.")
    assert result.returncode == 0, result.stderr.decode()
    assert "shed: not connected; held for 30 s" in result.stdout.decode()
    refused = cli("say", "--device", "shed", "--server", server.url, "--token", "wrong", "hello")
    assert refused.returncode == 2 and "token" in refused.stderr.decode()


def test_a_connection_that_names_no_device_is_a_device_of_its_own(server):
    """Old clients (no hello, no device in start) keep working: each stream's connection is its own device."""
    from tests.server_helpers import stream_audio

    events = asyncio.run(stream_audio(server.ws_url, b"\0" * 32000, headers=AUTH))
    assert events[0]["type"] == "ready" and events[0]["device"].startswith("connection-")
    assert events[-1]["type"] == "done"


def test_a_hung_handler_does_not_delay_another_plugins_timer(tmp_path):
    """Real dispatcher, real threads: the faulty plugin's handler hangs 6 s holding its lock while its own
    reminder is due (that one must wait for the lock), and the timers plugin's 2-second timer rings on time."""
    faulty = Path(__file__).parent / "data" / "intents"
    cfg = load_config(None, {"intents.handler_timeout_seconds": 0.5, "plugins.faulty.hang_seconds": 6})
    dispatcher = Dispatcher(IntentEngine.from_config(cfg, [str(faulty)]), cfg)
    announced = Announcements()
    session = dispatcher.session("kitchen", announced)
    try:
        began = time.monotonic()
        assert session.respond("remind me in 1 second").reply == "Okay."
        assert session.respond("set a timer for 2 seconds").reply == "Timer set for 2 seconds."
        assert session.respond("hang forever").error[0] == "handler_timeout"  # still running, holding the faulty plugin
        assert announced.wait_for(1, timeout=5) == ["Your 2 second timer is done."]
        assert time.monotonic() - began < 4.5  # due at 2 s; the old scheduler thread would have waited ~6 s behind the reminder
        assert announced.wait_for(2, timeout=10) == ["Your 2 second timer is done.", "Reminder!"]  # once the hang ended
    finally:
        dispatcher.close()


def test_the_registry_is_bounded_and_forgets_idle_devices():
    """A fake clock stands in for an hour of waiting; everything else is real."""
    from assistant.config import Config
    from assistant.conversations import Conversations, TooManyDevices
    from tests.intents_helpers import FakeClock

    clock = FakeClock()
    cfg = Config.model_validate({"assistant": {"max_devices": 3, "device_idle_seconds": 60}})
    conversations = Conversations(IntentEngine.from_config(cfg), cfg, clock)
    try:
        for name in ("a", "b"):
            conversations.device(name).respond("what time is it")
        timers = conversations.device("c")
        timers.respond("set a timer for 10 minutes")
        with pytest.raises(TooManyDevices, match="assistant.max_devices"):
            conversations.device("d")
        clock.now += 61
        assert conversations.device("d").id == "d"  # a and b were idle long enough; c has a timer running
        assert conversations.get("a") is None and conversations.get("c") is timers and len(conversations) == 2
        assert conversations.device("c").respond("timer status").reply.startswith("Your 10 minute timer")
    finally:
        conversations.close()


def test_hostile_device_messages_get_an_error_and_the_connection_lives_on(server):
    import websockets

    async def talk() -> list[dict]:
        events: list[dict] = []
        async with websockets.connect(server.ws_url, additional_headers=AUTH) as ws:
            for message in (
                {"type": "hello"},
                {"type": "hello", "device": "../../etc"},
                {"type": "hello", "device": "den", "skills": ["x" * 80]},
                {"type": "hello", "device": "den", "mood": "happy"},
                {"type": "hello", "device": "den"},
                {"type": "hello", "device": "study"},
                {"type": "command_done", "id": 7, "reply": "Paused."},
                {"type": "command_done", "id": "7"},
                {"type": "start", "rate": 16000, "device": "den", "area": "a" * 60},
            ):
                await ws.send(json.dumps(message))
            await ws.send(json.dumps({"type": "start", "rate": 16000, "device": "den"}))
            async for text in ws:
                events.append(json.loads(text))
                if events[-1]["type"] == "ready":
                    return events
        return events

    events = asyncio.run(talk())
    codes = [e["code"] for e in events if e["type"] == "error"]
    assert codes == ["bad_hello", "bad_hello", "bad_hello", "bad_hello", "already_device", "unknown_command", "bad_command_done", "bad_start"]
    assert events[-1]["type"] == "ready" and events[-1]["device"] == "den"


def test_an_announcement_not_collected_in_time_is_logged_as_missed(caplog):
    """A fake clock stands in for the ten minutes of holding."""
    from assistant.config import Config
    from assistant.conversations import Conversations
    from tests.intents_helpers import FakeClock

    caplog.set_level(logging.INFO, logger="assistant.conversations")
    clock = FakeClock()
    cfg = Config.model_validate({"assistant": {"announcement_hold_seconds": 600}})
    conversations = Conversations(IntentEngine.from_config(cfg), cfg, clock)
    try:
        assert conversations.device("away").announce("The oven is hot.") is False
        assert wait_until(lambda: "holding 'The oven is hot.'" in caplog.text, timeout=5)
        clock.now += 601
        conversations.dispatcher.scheduler.poke()
        assert wait_until(lambda: "device away did not reconnect in time: missed announcement 'The oven is hot.'" in caplog.text, timeout=5)
        assert conversations.get("away").idle(clock.now + 3600)  # nothing held any more: it may be forgotten
    finally:
        conversations.close()


def test_an_alarm_rings_again_until_its_time_is_up():
    """A timer's alarm on a connected device is said again after each pause (``assistant.alarm_pause_seconds``)
    while nobody says "stop", and gives up after ``assistant.alarm_seconds``: the device is told it stopped
    ringing and hears no more rings."""
    settings = {"alarm_seconds": 2.0, "alarm_pause_seconds": 0.2}
    with running_server(config(server={"token": TOKEN}, assistant=settings)) as server:
        kitchen = DeviceClient(server, "kitchen")
        try:
            assert understand(server, "kitchen", "set a timer for 1 second")["reply"]["text"] == "Timer set for 1 second."
            ringing = lambda: [e["ringing"] for e in list(kitchen.events) if e["type"] == "alarm"]  # noqa: E731
            assert wait_until(lambda: ringing()[:1] == [True], timeout=10), kitchen.events
            assert wait_until(lambda: False in ringing(), timeout=15), kitchen.events
            rings = kitchen.texts().count("Your 1 second timer is done.")
            assert rings >= 3  # 2 s of ringing with 0.2 s pauses; one ring would mean it was said once, as a file run does
            time.sleep(1.0)
            assert kitchen.texts().count("Your 1 second timer is done.") == rings  # stopped means silent
        finally:
            kitchen.close()
