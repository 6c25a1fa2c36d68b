"""``synthesize``, and its streaming form, answered a sentence at a time.

    synthesize(text)                              ← audio-start, audio-chunk…, audio-stop
    synthesize-start, synthesize-chunk…, synthesize(whole text), synthesize-stop
                                                  ← audio-start, audio-chunk…, audio-stop, synthesize-stopped

The first sentence is spoken while the rest is still being synthesised (or,
streaming, still being written by whoever writes the reply): its audio goes
out as soon as it exists, as :mod:`assistant.reply` does for our own speaker.
In a stream, the whole text comes once more in a plain ``synthesize`` for
servers that cannot stream; it is being spoken already and is not spoken
twice. Audio is 16 kHz mono 16-bit, what our speakers make, and the
``audio-start`` says so. A sentence the voice cannot say costs that sentence
(an ``error``), never the ``audio-stop`` the client waits for.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.event import Event
from wyoming.tts import SynthesizeStopped

from assistant.audio.convert import SAMPLE_RATE
from assistant.reply import complete_sentences, sentences
from assistant.server.untrusted import shown
from assistant.wyoming.errors import ClientError

if TYPE_CHECKING:
    from assistant.wyoming.connection import Connection
    from assistant.wyoming.server import WyomingServer

_log = logging.getLogger(__name__)

MAX_TEXT_CHARS = 10_000
"""The longest text to speak, and the most a stream may hold before a sentence ends: a few minutes of speech."""
CHUNK_SAMPLES = 2048
"""Samples per ``audio-chunk`` (128 ms): small enough to play soon, large enough to cost little."""


class _Reply:
    """One reply being spoken: whether its ``audio-start`` went out, and (streaming) the text not yet a sentence."""

    def __init__(self) -> None:
        self.started = False
        self.pending = ""


class Speech:
    def __init__(self, link: Connection, server: WyomingServer) -> None:
        self.link = link
        self.server = server
        self._stream: _Reply | None = None

    async def synthesize(self, event: Event) -> None:
        if self._stream is not None:
            return  # the streamed text again, for servers that cannot stream: it is being spoken already
        text = self._text("synthesize", event)
        self._voice(event)
        reply = _Reply()
        for sentence in sentences(text):
            await self._say(reply, sentence)
        await self._end(reply)

    async def start(self, event: Event) -> None:
        self._speaker()
        if self._stream is not None:
            raise ClientError("already_started", "synthesize-start while a stream is open: send synthesize-stop first")
        self._voice(event)
        self._stream = _Reply()

    async def chunk(self, event: Event) -> None:
        reply = self._open("synthesize-chunk")
        text = event.data.get("text")
        if not isinstance(text, str):
            raise ClientError("bad_event", f'synthesize-chunk needs a "text" string, got {shown(text)}')
        if len(reply.pending) + len(text) > MAX_TEXT_CHARS:
            raise ClientError("text_too_long", f"synthesize-chunk: over {MAX_TEXT_CHARS} characters without the end of a sentence; that chunk was ignored")
        done, reply.pending = complete_sentences(reply.pending + text)
        for sentence in done:
            await self._say(reply, sentence)

    async def stop(self, event: Event) -> None:
        reply = self._open("synthesize-stop")
        self._stream = None
        for sentence in sentences(reply.pending):
            await self._say(reply, sentence)
        await self._end(reply)
        await self.link.send(SynthesizeStopped().event())

    # -- helpers -----------------------------------------------------------------------------------

    async def _say(self, reply: _Reply, sentence: str) -> None:
        speaker = self._speaker()
        try:
            audio = await self.link.work(speaker.synthesize, sentence)
        except ClientError as exc:  # this sentence is lost; the rest of the reply still comes
            await self.link.error(exc)
            return
        if not reply.started:
            await self.link.send(AudioStart(rate=SAMPLE_RATE, width=2, channels=1).event())
            reply.started = True
        pcm = np.ascontiguousarray(audio, dtype="<i2").tobytes()
        step = CHUNK_SAMPLES * 2
        for offset in range(0, len(pcm), step):
            await self.link.send(AudioChunk(rate=SAMPLE_RATE, width=2, channels=1, audio=pcm[offset : offset + step]).event())

    async def _end(self, reply: _Reply) -> None:
        if not reply.started:  # nothing could be said: still a (silent) stream, so the client's wait ends
            await self.link.send(AudioStart(rate=SAMPLE_RATE, width=2, channels=1).event())
        await self.link.send(AudioStop().event())

    def _speaker(self):
        speaker = self.server.resources.speaker
        if speaker is None or self.server.config.tts.engine == "none":
            raise ClientError("no_tts", "no voice on this server (tts.engine is none)")
        return speaker

    def _text(self, kind: str, event: Event) -> str:
        self._speaker()
        text = event.data.get("text")
        if not isinstance(text, str):
            raise ClientError("bad_event", f'{kind} needs a "text" string, got {shown(text)}')
        if len(text) > MAX_TEXT_CHARS:
            raise ClientError("text_too_long", f"{kind}: the text is {len(text)} characters; the limit is {MAX_TEXT_CHARS}")
        return text

    def _voice(self, event: Event) -> None:
        """One voice is loaded; a client asking for another gets it, and the log says so."""
        voice = event.data.get("voice")
        name = voice.get("name") if isinstance(voice, dict) else None
        if name is not None and name != self.server.voice_name:
            _log.info("a client asked for the voice %s; speaking with %s, the one loaded", shown(name), self.server.voice_name)

    def _open(self, kind: str) -> _Reply:
        if self._stream is None:
            raise ClientError("not_started", f"{kind} with no stream: send synthesize-start first")
        return self._stream
