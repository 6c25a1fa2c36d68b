"""Hearing "stop" without the wake word, while an alarm rings or a reply is spoken.

In those moments the recognizer is cut down to that one word: vosk decodes with
a grammar of the stop phrases alone (anything else comes out as nothing), and a
transcript (whisper's too) counts only when the stop phrases' own template
matches it exactly, so ordinary speech ("don't stop the music, just turn it
down") stops nothing. Only short utterances are recognised at all: a "stop" is
well under :data:`MAX_STOP_SECONDS`, and longer speech (the assistant's own
voice coming back into the microphone) costs no decoding.
"""

from __future__ import annotations

import dataclasses
import functools
from concurrent.futures import Future

import numpy as np

from assistant.asr.base import Recognizer, Transcription
from assistant.asr.pool import RecognitionPool, read_utterance
from assistant.events import SpeechEnd, SpeechStart
from assistant.intents.engine import IntentEngine
from assistant.intents.loader import LoadedPlugin
from assistant.intents.plugin import Plugin
from assistant.intents.templates import compile_plugin
from assistant.vad import Endpointer
from assistant.vocabulary import Vocabulary

MAX_STOP_SECONDS = 1.5
"""Speech longer than this is not a "stop"; it is not recognised."""
END_SILENCE_MS = 300
"""Silence that ends a "stop": short, so the alarm or the reply is cut at once."""

STOP = Plugin(name="stop", description="stop an alarm or a reply")


@STOP.intent("Stop", "stop [(it|that|now|the alarm|the timer|the timers|talking)]", "(be quiet|quiet|silence|enough)", examples=("stop",))
def _stop(req):
    return ""  # never run: the listener and the conversation act on the match themselves


@functools.cache
def stop_engine() -> IntentEngine:
    """What "stop" sounds like: a tiny intent engine, its vocabulary the recognizer's whole grammar in that state."""
    return IntentEngine([LoadedPlugin(STOP, __name__, {}, compile_plugin(STOP, {}))], fuzzy_threshold=1.0)


def stop_vocabulary() -> Vocabulary:
    """The recognizer's whole vocabulary while "stop" works. A stop is short: whisper's quick look (its short
    window) is the answer, never the 30-second window it falls back to when a command is not understood."""
    return dataclasses.replace(stop_engine().vocabulary(), understood=lambda text, alternatives=(), *, free_text=True: True)


def is_stop(text: str, alternatives: tuple[str, ...] | list[str] = ()) -> bool:
    """Whether ``text`` (or another reading of the same audio) is a stop phrase, said exactly."""
    return bool(text) and stop_engine().understands(text, alternatives)


def stop_endpointer(aggressiveness: int, frame_ms: int) -> Endpointer:
    """Bounds short utterances forever (no timeout): the listener re-arms it after each one."""
    return Endpointer(aggressiveness=aggressiveness, frame_ms=frame_ms, end_silence_ms=END_SILENCE_MS, no_speech_timeout=None, max_command=MAX_STOP_SECONDS)


class StopListener:
    """Feed it the microphone while "stop" should work; :meth:`feed` says when it was heard.

    It has an endpointer and a recognizer of its own (restricted to :data:`STOP`), so the pipeline's
    command recognizer is left as it was; nothing it does is emitted as an event. An utterance is read
    on ``pool`` (whisper) and judged at the first chunk after its reading is done, so the audio path
    never waits for a decode; without a pool (files) at once.
    """

    def __init__(self, endpointer: Endpointer, recognizer: Recognizer, pool: RecognitionPool | None = None) -> None:
        self.endpointer = endpointer
        self.recognizer = recognizer
        self.pool = pool
        self._armed = False
        self._tail = False
        self._pos = 0
        self._reading: Future[Transcription] | None = None

    def reset(self) -> None:
        """Forget a half-heard utterance (the state that made "stop" work is over)."""
        self._armed = False
        self._tail = False
        if self._reading is not None:
            self._reading.cancel()
            self._reading = None

    def feed(self, chunk: np.ndarray) -> bool:
        if self._heard_stop():
            return True
        if not self._armed:
            self.endpointer.start(self._pos)
            self._armed = True
        self._pos += len(chunk)
        out = self.endpointer.process(chunk)
        for event in out.events:
            if isinstance(event, SpeechStart):
                self.recognizer.start()
        if out.audio:
            self.recognizer.feed(np.concatenate(out.audio) if len(out.audio) > 1 else out.audio[0])
        if out.done:
            self._armed = False
        end = next((e for e in out.events if isinstance(e, SpeechEnd)), None)
        if end is None:
            return False
        if end.reason == "max_length":
            self._tail = True  # long speech: not a stop, and neither is the rest of it
            return False
        if self._tail:
            self._tail = False
            return False
        if self._reading is not None:
            self._reading.cancel()  # a "stop" said again is judged by its newest reading
        self._reading = read_utterance(self.recognizer, self.pool)
        return self._heard_stop()

    def _heard_stop(self) -> bool:
        """The utterance read last was a "stop" (False while it is still being read)."""
        if self._reading is None or not self._reading.done():
            return False
        reading, self._reading = self._reading, None
        if reading.cancelled():
            return False
        heard = reading.result()
        return is_stop(heard.text, [a.text for a in heard.alternatives])
