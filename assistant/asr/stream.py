"""VAD-bounded recognition of one spoken command: endpointer → recognizer → events.

The endpointer decides where a command starts and ends; this stage forwards
the command audio to the recognizer as it arrives and turns what both report
into the pipeline's events, in order: ``speech_start``, ``partial``...,
``speech_end``, ``transcript`` (or ``no_speech``). The pipeline calls
:meth:`begin` when it starts listening for a command (after the wake word, or
at once without one) and :meth:`feed` with every chunk until it returns True;
``assistant transcribe`` drives the same object over a file.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from assistant.asr.base import Recognizer, Transcription
from assistant.audio.convert import SAMPLE_RATE
from assistant.events import EventEmitter, Partial, SpeechEnd, SpeechStart, Transcript
from assistant.vad import Endpointer, VadOutput


class CommandRecognizer:
    """``recognizer`` None (``asr.engine: none``): bound commands only, for tuning wake word and VAD."""

    def __init__(self, endpointer: Endpointer, recognizer: Recognizer | None, emitter: EventEmitter) -> None:
        self.endpointer = endpointer
        self.recognizer = recognizer
        self.emitter = emitter
        self.active = False
        self.last: Transcription | None = None
        """The final transcript of the most recent command (None after a no-speech timeout)."""
        self._start = 0
        self._vad_fed = 0
        self._origin = 0.0

    def begin(self, position: int, audio: np.ndarray | None = None, *, after_wake: bool = False) -> bool:
        """Listen for a command whose audio starts at stream sample ``position``; ``audio`` = what is already buffered.

        ``after_wake``: that audio ends with the wake word (see :meth:`Endpointer.start`).
        Returns True when the buffered audio already held a whole command.
        """
        self.endpointer.start(position, after_wake=after_wake)
        self.active = True
        self.last = None
        self._start = position
        self._vad_fed = 0
        return self.feed(audio) if audio is not None and len(audio) else False

    def feed(self, chunk: np.ndarray) -> bool:
        """One chunk of stream audio; True when the command ended (speech end or no speech)."""
        if not self.active:
            return True
        self._vad_fed += len(chunk)
        return self._handle(self.endpointer.process(chunk))

    def finish(self) -> None:
        """The input ended: close the command in progress."""
        if self.active:
            self._handle(self.endpointer.finish())
            self.active = False

    def _handle(self, out: VadOutput) -> bool:
        if self.recognizer is None:
            for event in out.events:
                self.emitter.emit(event)
            if any(isinstance(e, SpeechEnd) for e in out.events):
                self.last = Transcription(text="", confidence=None)
            self.active = not out.done
            return out.done
        for event in out.events:
            if isinstance(event, SpeechStart):
                self.emitter.emit(event)
                self.recognizer.start()
                self._origin = self._audio_origin(out)
        if out.audio:
            # one call per chunk, not per 30 ms VAD frame: a partial result costs a best-path search
            partial = self.recognizer.feed(np.concatenate(out.audio) if len(out.audio) > 1 else out.audio[0])
            if partial is not None:
                self.emitter.emit(Partial(text=partial))
        for event in out.events:
            if not isinstance(event, SpeechStart):
                self.emitter.emit(event)
        if any(isinstance(e, SpeechEnd) for e in out.events):
            self.last = self.recognizer.finish()
            self.emitter.emit(_transcript_event(self.last, self._origin))
        if out.done:
            self.active = False
        return out.done

    def _audio_origin(self, out: VadOutput) -> float:
        """Stream time of the first sample handed to the recognizer (the pre-roll before the speech start).

        The forwarded audio is contiguous and ends where the endpointer has
        consumed the stream: whole VAD frames of what was fed since ``begin``.
        """
        consumed = self._start + self._vad_fed // self.endpointer.frame * self.endpointer.frame
        forwarded = sum(len(a) for a in out.audio)
        return (consumed - forwarded) / SAMPLE_RATE


def _transcript_event(result: Transcription, origin: float) -> Transcript:
    return Transcript(
        text=result.text,
        confidence=result.confidence,
        words=[w.to_dict(origin) for w in result.words],
    )


def transcribe_stream(chunks: Iterable[np.ndarray], commands: CommandRecognizer) -> list[Transcription]:
    """Every command in a stream without a wake word: a new one starts as soon as the last ended."""
    results: list[Transcription] = []
    position = 0
    for chunk in chunks:
        if not commands.active:
            commands.begin(position)
        if commands.feed(chunk) and commands.last is not None:
            results.append(commands.last)
        position += len(chunk)
    was_active = commands.active
    commands.finish()
    if was_active and commands.last is not None:
        results.append(commands.last)
    return results
