"""VAD-bounded recognition of one spoken command: endpointer → recognizer → events.

The endpointer decides where a command starts and ends; this stage forwards
the command audio to the recognizer as it arrives and turns what both report
into the pipeline's events, in order: ``speech_start``, ``partial``...,
``speech_end``, ``transcript`` (or ``no_speech``). The pipeline calls
:meth:`begin` when it starts listening for a command (after the wake word, or
at once without one) and :meth:`feed` with every chunk until it returns True;
``assistant transcribe`` drives the same object over a file.

With :class:`~assistant.turn_taking.TurnTaking`, a pause of ``speculate_ms``
starts recognising the command so far in the background; how complete that
transcript is decides how much more silence ends the command, and when the
command ends with no new speech it is the final transcript (see
:mod:`assistant.turn_taking`). Live, readings run on the process's
:class:`~assistant.asr.pool.RecognitionPool` and the audio path never waits for
one: the final transcript may still be read when the command ends
(:attr:`CommandRecognizer.heard`), and its ``transcript`` event follows when it
is. Files recognise at once, so a file gives the same turns however fast the
machine is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass

import numpy as np

from assistant.asr.base import Recognizer, Transcription
from assistant.asr.pool import RecognitionPool, completed, read_utterance
from assistant.audio.convert import SAMPLE_RATE
from assistant.events import EventEmitter, Overload, Partial, SpeechEnd, SpeechStart, Transcript
from assistant.turn_taking import TurnTaking
from assistant.vad import Endpointer, VadOutput


@dataclass
class _Speculation:
    """The command recognised during a pause; valid while no speech follows ``voiced_until``."""

    voiced_until: int
    heard_until: int
    """Stream sample where the audio it reads ends."""
    result: Future[Transcription]
    judged: bool = False


class Speculator:
    """Recognise an utterance so far in the background while its speaker pauses, and keep that transcript
    as the final one when nothing was said after it: the same audio is never decoded twice.

    Used by :class:`CommandRecognizer` (after the endpointer's pause) and by front ends whose client
    decides where an utterance ends (Wyoming's ``audio-stop``). Readings run on the process's
    :class:`~assistant.asr.pool.RecognitionPool`; without one (files) they run at once on the calling
    thread, so a file gives the same transcripts however fast the machine is. ``on_wait`` hears how many
    readings a final reading waits behind when the pool is saturated.
    """

    def __init__(self, recognizer: Recognizer, pool: RecognitionPool | None = None, on_wait: Callable[[int], None] | None = None) -> None:
        self.recognizer = recognizer
        self.pool = pool
        self.on_wait = on_wait
        self.current: _Speculation | None = None

    def pause(self, voiced_until: int, heard_until: int) -> _Speculation | None:
        """The speaker paused after stream sample ``voiced_until``: recognise what was said (once per pause);
        the recognizer has been fed the stream up to sample ``heard_until``.

        None while every recognition worker is busy: a speculation would only delay other streams' final readings.
        """
        spec = self.current
        if spec is None or spec.voiced_until != voiced_until:
            self.drop()
            if self.pool is not None and self.pool.saturated():
                return None
            reading = self.recognizer.snapshot()
            result = completed(reading()) if self.pool is None else self.pool.submit(reading)[0]
            spec = self.current = _Speculation(voiced_until, heard_until, result)
        return spec

    def spoken_until(self, voiced_until: int) -> None:
        """Speech so far ends at stream sample ``voiced_until``: a transcript of less (speech resumed) is dropped."""
        if self.current is not None and self.current.voiced_until != voiced_until:
            self.drop()

    def drop(self) -> None:
        """Speech resumed (or a new utterance began): the speculative transcript is of a shorter one."""
        if self.current is not None:
            self.current.result.cancel()
            self.current = None

    def final(self, spoken_until: int) -> Future[Transcription]:
        """The utterance ended; what may have been speech in it ended at stream sample ``spoken_until``
        (:meth:`Endpointer.possible_speech_until`). The speculative transcript when it read all of that (and the
        recognizer decodes only at the end), else
        the recognizer's own final result: read on the pool, so the caller's audio path never waits for
        a decode (a streaming recognizer's final result is cheap and comes at once)."""
        spec, self.current = self.current, None
        if spec is not None and not self.recognizer.incremental and spoken_until <= spec.heard_until:
            if not spec.result.cancelled():
                self.recognizer.start()  # its audio is recognised already; drop it
                return spec.result
        if spec is not None:
            spec.result.cancel()
        return read_utterance(self.recognizer, self.pool, self.on_wait)

    def close(self) -> None:
        """A speculation in flight is abandoned (the pool's workers belong to the process)."""
        self.drop()


class CommandRecognizer:
    """``recognizer`` None (``asr.engine: none``): bound commands only, for tuning wake word and VAD.

    ``pool``: where readings run (see :class:`Speculator`); None reads at once (files, benches).
    """

    def __init__(
        self,
        endpointer: Endpointer,
        recognizer: Recognizer | None,
        emitter: EventEmitter,
        *,
        turn_taking: TurnTaking | None = None,
        pool: RecognitionPool | None = None,
    ) -> None:
        self.endpointer = endpointer
        self.recognizer = recognizer
        self.emitter = emitter
        self.turn_taking = turn_taking if recognizer is not None else None
        self.active = False
        self.heard: Future[Transcription] | None = None
        """The final transcript of the most recent command, perhaps still being read (None after a no-speech
        timeout); :meth:`result` waits for it."""
        self._told = True
        self._start = 0
        self._vad_fed = 0
        self._origin = 0.0
        self._speculator = Speculator(recognizer, pool, self._waiting) if recognizer is not None else None

    def begin(self, position: int, audio: np.ndarray | None = None, *, after_wake: bool = False) -> bool:
        """Listen for a command whose audio starts at stream sample ``position``; ``audio`` = what is already buffered.

        ``after_wake``: that audio ends with the wake word (see :meth:`Endpointer.start`).
        Returns True when the buffered audio already held a whole command.
        """
        self.endpointer.start(position, after_wake=after_wake)
        self.active = True
        self.heard = None
        self._start = position
        self._vad_fed = 0
        if self._speculator is not None:
            self._speculator.drop()
        return self.feed(audio) if audio is not None and len(audio) else False

    def feed(self, chunk: np.ndarray) -> bool:
        """One chunk of stream audio; True when the command ended (speech end or no speech)."""
        if not self.active:
            return True
        self._vad_fed += len(chunk)
        if self._handle(self.endpointer.process(chunk)):
            return True
        return self.turn_taking is not None and self._handle(self._take_turn(self.turn_taking))

    def finish(self) -> None:
        """The input ended: close the command in progress."""
        if self.active:
            self._handle(self.endpointer.finish())
            self.active = False

    def result(self) -> Transcription | None:
        """The most recent command's final transcript, once read (None after a no-speech timeout); the
        ``transcript`` event is emitted once, by the first call after the reading was done (any thread)."""
        if self.heard is None:
            return None
        result = self.heard.result()
        if not self._told:
            self._told = True
            self.emitter.emit(transcript_event(result, self._origin))
        return result

    def close(self) -> None:
        """A speculation in flight is abandoned."""
        if self._speculator is not None:
            self._speculator.close()

    def _waiting(self, ahead: int) -> None:
        self.emitter.emit(Overload(recognitions_waiting=ahead))

    def _take_turn(self, turn_taking: TurnTaking) -> VadOutput:
        """Speculate once the pause is long enough; once the speculative transcript is in, shorten the wait."""
        endpointer = self.endpointer
        speculator = self._speculator
        assert speculator is not None
        speculator.spoken_until(endpointer.voiced_until)
        if speculator.current is None and not turn_taking.speculate_now(endpointer.trailing_silence_ms, lambda: endpointer.snr_db):
            return VadOutput()
        spec = speculator.pause(endpointer.voiced_until, endpointer.position)
        if spec is None or spec.judged or not spec.result.done():
            return VadOutput()
        spec.judged = True
        return endpointer.require_silence(turn_taking.silence_ms(spec.result.result(), endpointer.snr_db))

    def _handle(self, out: VadOutput) -> bool:
        if self.recognizer is None:
            for event in out.events:
                self.emitter.emit(event)
            if any(isinstance(e, SpeechEnd) for e in out.events):
                self.heard = completed(Transcription(text="", confidence=None))
            self.active = not out.done
            return out.done
        for event in out.events:
            if isinstance(event, SpeechStart):
                self.emitter.emit(event)
                self.recognizer.start()
                self._speculator.drop()
                self._origin = self._audio_origin(out)
        if out.audio:
            # one call per chunk, not per 30 ms VAD frame: a partial result costs a best-path search
            partial = self.recognizer.feed(np.concatenate(out.audio) if len(out.audio) > 1 else out.audio[0])
            if partial is not None:
                self.emitter.emit(Partial(text=partial))
                if self.recognizer.incremental:
                    # a streaming decoder's words lag its audio: the last word of a command often comes in
                    # after the pause began ("음악 꺼" → "음악 꺼 줘"); judge the command again as it now reads
                    self._speculator.drop()
        for event in out.events:
            if not isinstance(event, SpeechStart):
                self.emitter.emit(event)
        if any(isinstance(e, SpeechEnd) for e in out.events):
            self.heard = self._speculator.final(self._spoken_until())
            self._told = False
            if self.heard.done():  # else whoever waits for it tells (the pipeline's turn)
                self.result()
        if out.done:
            self.active = False
        return out.done

    def _spoken_until(self) -> int:
        return self.endpointer.possible_speech_until(self.turn_taking.open_min_snr_db if self.turn_taking is not None else 0.0)

    def _audio_origin(self, out: VadOutput) -> float:
        """Stream time of the first sample handed to the recognizer (the pre-roll before the speech start).

        The forwarded audio is contiguous and ends where the endpointer has
        consumed the stream: whole VAD frames of what was fed since ``begin``.
        """
        consumed = self._start + self._vad_fed // self.endpointer.frame * self.endpointer.frame
        forwarded = sum(len(a) for a in out.audio)
        return (consumed - forwarded) / SAMPLE_RATE


def transcript_event(result: Transcription, origin: float) -> Transcript:
    """The ``transcript`` event of a recognizer's final result; ``origin``: the stream time of its first sample."""
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
        if commands.feed(chunk) and (heard := commands.result()) is not None:
            results.append(heard)
        position += len(chunk)
    was_active = commands.active
    commands.finish()
    if was_active and (heard := commands.result()) is not None:
        results.append(heard)
    return results
