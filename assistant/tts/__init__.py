"""Speakers: text in, pipeline audio (16 kHz mono int16) out, never played by the engine itself.

Synthesising to audio instead of letting the engine talk to the sound card is
what lets the pipeline know exactly when its own voice starts and ends (to mute
the wake word and the recognizer meanwhile, and to measure reply latency), and
lets the same reply go to a speaker, a WAV file or a WebSocket.

Backends: ``pyttsx3`` (espeak-ng, the default, in a worker process: see
:mod:`assistant.tts.espeak`), ``piper`` (neural voices, optional extra) and
``none`` (text replies only). Each loads and warms once at construction, so the
first reply is as fast as the rest; a bad voice or model fails there, with
:class:`~assistant.errors.ConfigError` or :class:`~assistant.errors.ModelError`.
A failure on one utterance raises :class:`SpeechSynthesisError` and the
speaker stays usable for the next.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from assistant.about import About
from assistant.config import Config
from assistant.errors import SpeechSynthesisError

__all__ = ["SilentSpeaker", "Speaker", "SpeechSynthesisError", "load_speaker"]


@runtime_checkable
class Speaker(Protocol):
    name: str

    def synthesize(self, text: str) -> np.ndarray:
        """Speech for ``text`` as 16 kHz mono int16; empty when there is nothing to say."""
        ...

    def describe(self) -> About:
        """The voice: name, languages, version, who made it."""
        ...

    def close(self) -> None: ...


class SilentSpeaker:
    """``tts.engine: none``: replies stay text (events, the web page); nothing is played."""

    name = "none"

    def synthesize(self, text: str) -> np.ndarray:
        return np.zeros(0, dtype=np.int16)

    def describe(self) -> About:
        return About(name="none", description="no voice: replies stay text", languages=(), version=None, author="", url="")

    def close(self) -> None:
        pass


def load_speaker(config: Config) -> Speaker:
    """The speaker ``tts.engine`` names, loaded and warmed."""
    tts = config.tts
    if tts.engine == "none":
        return SilentSpeaker()
    if tts.engine == "piper":
        from assistant.tts.piper_voice import PiperSpeaker

        return PiperSpeaker(tts.piper_model, rate=tts.rate, volume=tts.volume)
    from assistant.tts.espeak import Pyttsx3Speaker

    return Pyttsx3Speaker(voice=tts.voice, rate=tts.rate, volume=tts.volume)
