"""Saying a reply: the first sentence sounds before the rest is synthesised, a chime never holds it up, and a
barge-in leaves the rest unsaid. Real Piper voice; a real Player on a PulseAudio null sink where timing matters."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from assistant.audio.playback import Player, WavWriter
from assistant.chimes import wake_chime
from assistant.events import EventEmitter
from assistant.reply import sentences, speak
from tests.helpers import read
from tests.speech_check import speech_span

LONG_REPLY = "I can tell the time and the date. I can set timers and say when they are done. I can also order coffee for you."


class Recorded:
    """The Piper voice, noting each sentence it is asked for, in order with the events of the reply."""

    def __init__(self, log: list[str]) -> None:
        from assistant.tts.piper_voice import PiperSpeaker

        self._voice = PiperSpeaker(None)
        self.name = "piper"
        self._log = log

    def synthesize(self, text: str) -> np.ndarray:
        audio = self._voice.synthesize(text)
        self._log.append(f"synthesized: {text}")
        return audio

    def close(self) -> None:
        self._voice.close()


def test_sentences():
    assert sentences(LONG_REPLY) == ["I can tell the time and the date.", "I can set timers and say when they are done.", "I can also order coffee for you."]
    assert sentences("It's 3:05 PM.") == ["It's 3:05 PM."]
    assert sentences("Timer set for 2.5 minutes. Done!") == ["Timer set for 2.5 minutes.", "Done!"]


@pytest.mark.slow
def test_a_long_reply_starts_playing_after_its_first_sentence(tmp_path):
    log: list[str] = []
    speaker = Recorded(log)
    output = WavWriter(tmp_path / "reply.wav")
    try:
        speak(LONG_REPLY, emitter=EventEmitter([lambda e: log.append(e.type)]), speaker=speaker, output=output)
    finally:
        output.close()
        speaker.close()
    assert log == [
        "reply",
        "synthesized: I can tell the time and the date.",
        "speak_start",  # heard while the rest is still being synthesised
        "synthesized: I can set timers and say when they are done.",
        "synthesized: I can also order coffee for you.",
        "speak_end",
    ]
    assert len(read(tmp_path / "reply.wav")) > 16000 * 4  # all three sentences were written


@pytest.mark.slow
def test_a_chime_still_sounding_does_not_hold_up_the_reply(pulse):  # noqa: F811
    """A long chime is playing when the reply is ready: the reply's first sample goes out at once, not after it."""
    log: list[str] = []
    speaker = Recorded(log)
    player = Player()
    starts: list[float] = []
    try:
        chime = np.tile(wake_chime(), 20)  # 3 s of chime
        player.play(chime).started.wait(5)
        began = time.monotonic()
        speak("It's 3 PM.", emitter=EventEmitter([lambda e: starts.append(time.monotonic()) if e.type == "speak_start" else None]), speaker=speaker, output=player)
    finally:
        player.close()
        speaker.close()
    assert starts and starts[0] - began < 2.0  # not after the 3 s chime


@pytest.mark.slow
def test_barge_in_leaves_the_rest_of_the_reply_unsaid(pulse):  # noqa: F811
    """Stopped 0.3 s into its first sentence, a three-sentence reply (6 s) stops sounding at once: the
    sentences already queued behind it are dropped too."""
    speaker = Recorded([])
    player = Player()
    ended: list[bool] = []

    def sink(event) -> None:
        if event.type == "speak_start":
            threading.Timer(0.3, player.stop).start()  # "hey jarvis" heard 0.3 s into the reply
        elif event.type == "speak_end":
            ended.append(event.interrupted)

    mark = pulse.speaker.mark()
    try:
        speak(LONG_REPLY, emitter=EventEmitter([sink]), speaker=speaker, output=player)
        time.sleep(0.5)
    finally:
        player.close()
        speaker.close()
    assert ended == [True]
    span = speech_span(pulse.speaker.through(time.monotonic())[mark:])
    assert span is not None and (span[1] - span[0]) / 16000 < 1.5
