"""``POST /v1/converse`` end to end: a device streaming its microphone to a real ``assistant serve`` (whisper
tiny.en, the intents, the Piper voice) is asked a question, and its spoken answer, without the wake word,
is heard, understood, carried out on that device and answered; the same words without a question before
them are not.

The device is a WebSocket client that says ``hello``, starts a stream that listens for the wake word, and
sends 80 ms of audio every 80 ms of wall time (silence, or the Piper speech it is told to say), as a
satellite streaming to its hub does; it records every event the server sends.
"""

from __future__ import annotations

import asyncio
import collections
import json
import threading
import time

import httpx
import numpy as np
import pytest

from tests.helpers import RATE, piper, silence, trim
from tests.server_helpers import START, pcm, running_full_server, stream_audio, wait_until

pytestmark = pytest.mark.slow

CHUNK = 1280
"""80 ms of 16 kHz audio: what a microphone hands over at a time."""
QUESTION = "The laundry is done. Shall I set a timer?"
ANSWER = "set a timer for two minutes"


@pytest.fixture(scope="module")
def server():
    with running_full_server() as running:
        yield running


class Microphone:
    """A device streaming its microphone in real time on its own thread: silence, and whatever it is told to
    :meth:`say`, sent as soon as the audio before it was; every JSON event is kept with its arrival time."""

    def __init__(self, server, device: str) -> None:
        self.url = server.ws_url
        self.device = device
        self.events: list[tuple[float, dict]] = []
        self._speech: collections.deque[np.ndarray] = collections.deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name=f"microphone-{device}", daemon=True)
        self._thread.start()

    def say(self, audio: np.ndarray) -> None:
        with self._lock:
            self._speech.append(audio)

    def saying(self) -> bool:
        with self._lock:
            return bool(self._speech)

    def of(self, kind: str, since: float = 0.0) -> list[dict]:
        return [e for t, e in list(self.events) if e["type"] == kind and t >= since]

    def kinds(self, since: float = 0.0) -> list[str]:
        return [e["type"] for t, e in list(self.events) if t >= since]

    def states(self, since: float = 0.0) -> list[str]:
        return [e["state"] for e in self.of("state", since)]

    def stop(self, timeout: float = 60.0) -> None:
        """Send the rest of what it was told to say, end the stream and wait for the server's ``done``."""
        self._stopping.set()
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the stream did not end"
        if self.error is not None:
            raise self.error

    def _main(self) -> None:
        try:
            asyncio.run(self._run())
        except BaseException as exc:  # handed to the test by stop()
            self.error = exc

    def _next(self, pending: np.ndarray) -> np.ndarray:
        """The next 80 ms: the speech being said, else silence."""
        with self._lock:
            while len(pending) < CHUNK and self._speech:
                pending = np.concatenate([pending, self._speech.popleft()])
        if len(pending) < CHUNK:
            pending = np.concatenate([pending, silence((CHUNK - len(pending)) / RATE)])
        return pending

    async def _run(self) -> None:
        import websockets

        async with websockets.connect(self.url, max_size=None) as ws:
            await ws.send(json.dumps({"type": "hello", "device": self.device}))
            await ws.send(json.dumps({**START, "wake": True}))
            reader = asyncio.create_task(self._read(ws))
            began, sent, pending = time.monotonic(), 0, silence(0)
            while not (self._stopping.is_set() and not self.saying() and not len(pending)):
                pending = self._next(pending)
                await ws.send(pcm(pending[:CHUNK]))
                pending, sent = pending[CHUNK:], sent + CHUNK
                ahead = sent / RATE - (time.monotonic() - began)
                if ahead > 0:
                    await asyncio.sleep(ahead)
                if reader.done():
                    break
            await ws.send(json.dumps({"type": "stop"}))
            await asyncio.wait_for(reader, 60)

    async def _read(self, ws) -> None:
        async for message in ws:
            if isinstance(message, bytes):
                continue
            event = json.loads(message)
            self.events.append((time.monotonic(), event))
            if event["type"] == "done":
                return


def understand(server, device: str, text: str) -> str:
    response = httpx.post(f"{server.url}/v1/understand", json={"text": text, "device": device}, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()["reply"]["text"]


def spoken(text: str) -> np.ndarray:
    """``text`` said by the Piper voice, with a breath of silence after it (the command's end)."""
    return np.concatenate([trim(piper(text)), silence(1.5)])


def test_a_device_asked_a_question_answers_it_without_the_wake_word(server):
    """The words "set a timer for two minutes", without the wake word, said into a device's stream:

    - before any question: nothing is heard (no wake, no speech, no transcript, no reply) and no timer is set;
    - after ``POST /v1/converse`` asked the device "The laundry is done. Shall I set a timer?" (the device
      hears it spoken: the reply text and its audio), the same words are the answer: a transcript with
      them, ``HassStartTimer`` with two minutes, the reply "Timer set for 2 minutes.", spoken, and the timer
      runs on that device;
    - a question is answered once: the words said again afterwards are not heard.
    """
    words = spoken(ANSWER)
    before = asyncio.run(stream_audio(server.ws_url, pcm(np.concatenate([silence(0.5), words, silence(1.0)])), start={"device": "porch", "wake": True}, realtime=True))
    assert before[0]["type"] == "ready" and before[-1]["type"] == "done"
    heard = [e for e in before if e["type"] in ("wake", "speech_start", "transcript", "intent", "no_intent", "reply", "reply_audio")]
    assert not heard, heard
    assert understand(server, "porch", "timer status") == "You have no timers running."

    porch = Microphone(server, "porch")
    try:
        assert wait_until(lambda: "listening" in porch.states(), timeout=60), porch.kinds()
        assert porch.of("ready")[0]["device"] == "porch"
        asked_at = time.monotonic()
        asked = httpx.post(f"{server.url}/v1/converse", json={"device": "porch", "text": QUESTION}, timeout=30)
        assert asked.status_code == 200 and asked.json() == {"device": "porch", "delivered": True}, asked.text
        assert wait_until(lambda: [e["text"] for e in porch.of("reply", asked_at)] == [QUESTION], timeout=30), porch.kinds(asked_at)
        assert wait_until(lambda: "capturing" in porch.states(asked_at), timeout=30), porch.kinds(asked_at)  # said, now listening without the wake word
        question_audio = porch.of("reply_audio", asked_at)
        assert sum(a["samples"] / a["rate"] for a in question_audio) > 2.0  # the question was spoken (its two sentences)
        porch.say(words)
        assert wait_until(lambda: porch.of("reply", asked_at)[1:], timeout=60), porch.kinds(asked_at)
        (transcript,) = porch.of("transcript", asked_at)
        assert ANSWER in transcript["text"].lower().replace("2", "two").strip(" .")
        (intent,) = porch.of("intent", asked_at)
        assert (intent["name"], intent["slots"]) == ("HassStartTimer", {"minutes": 2})
        assert [e["text"] for e in porch.of("reply", asked_at)] == [QUESTION, "Timer set for 2 minutes."]
        assert wait_until(lambda: "reply_audio" in porch.kinds(asked_at)[porch.kinds(asked_at).index("intent") :], timeout=30), porch.kinds(asked_at)
        turn = [k for k in porch.kinds(asked_at) if k in ("wake", "reply", "reply_audio", "speech_start", "transcript", "intent")]
        assert turn[turn.index("speech_start") :][:5] == ["speech_start", "transcript", "intent", "reply", "reply_audio"], turn  # the answer, spoken
        assert "wake" not in turn
        assert understand(server, "porch", "timer status").startswith("Your 2 minute timer")

        assert wait_until(lambda: porch.states(asked_at)[-1:] == ["listening"], timeout=30), porch.states(asked_at)
        answered_at = time.monotonic()
        porch.say(np.concatenate([silence(1.0), words]))
    finally:
        porch.stop()
    after = porch.kinds(answered_at)
    assert after[-1] == "done" and not {"wake", "speech_start", "transcript", "intent", "no_intent", "reply"} & set(after), after
    assert understand(server, "porch", "cancel all timers") == "Cancelled your timer."
