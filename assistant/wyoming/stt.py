"""One ``transcribe`` request: everything between ``audio-start`` and ``audio-stop``, recognised.

Home Assistant runs its own voice activity detection and sends ``audio-stop``
once the speaker has been silent for a while (0.7 s by default); the whole
audio is the command. Two things make the answer quick:

- vosk decodes as audio arrives and its final result costs milliseconds; what
  it has committed (each stretch of speech it closed at a pause) goes back as
  ``transcript-chunk`` events while the client still sends the silence after
  it. Its partial results are not sent: they are guesses that later audio
  revises ("음악 꺼 줘" before "음악 틀어 줘"), and a client concatenates
  chunks into the transcript; they go to our own event stream (``partial``);
- whisper decodes at the end, so during the trailing silence the client
  is still sending, the command so far is recognised in the background
  (:class:`~assistant.asr.stream.Speculator`, after ``vad.speculate_ms`` of
  silence by our own endpointer) and, when no speech follows, that transcript
  is the answer to ``audio-stop``.

The recognizer gets the loaded intents' vocabulary (a vosk grammar, whisper
hotwords), as everywhere. whisper's transcript comes with a phrase said twice
in a row given once (:func:`~assistant.intents.normalize.without_repeats`):
the window cascade keeps the short window's reading when our intents act on
it, and they read it so collapsed, but tiny.en sometimes writes the whole
command twice there ("make me an iced coffee with a lot of sugar make me an
iced coffee with a lot of sugar", coffee-dev, bench/bench_wyoming.py) and
whoever acts on the text next (Home Assistant's own agent) does not collapse
repeats. vosk's text stays as it is: its words went out as they settled.
Runs on the connection's worker thread.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from assistant.asr.base import Transcription
from assistant.asr.stream import Speculator, transcript_event
from assistant.assembly import Resources
from assistant.audio.convert import SAMPLE_RATE
from assistant.config import Config
from assistant.events import EventEmitter, Partial, SpeechEnd
from assistant.intents.normalize import without_repeats
from assistant.vad import Endpointer


class Transcriber:
    def __init__(self, config: Config, resources: Resources, emitter: EventEmitter) -> None:
        assert resources.asr is not None
        self.recognizer = resources.asr.recognizer(resources.intents.vocabulary())
        self.recognizer.start()
        self._emitter = emitter
        self._speculate_ms = config.vad.speculate_ms
        self._min_snr_db = config.vad.open_min_snr_db
        self._speculator = Speculator(self.recognizer, resources.recognition)
        # where speech pauses, never where the command ends: that is the client's audio-stop
        longest = config.wyoming.max_audio_seconds + 1
        self._voicing = Endpointer(
            aggressiveness=config.vad.aggressiveness,
            frame_ms=config.vad.frame_ms,
            start_ms=config.vad.start_ms,
            end_silence_ms=int(longest * 1000),
            no_speech_timeout=None,
            max_command=longest,
        )
        self._voicing.start(0)
        self._position = 0
        self._sent = ""

    def feed(self, audio: np.ndarray) -> str | None:
        """Pipeline audio; the text to add to what the client was sent of the transcript (vosk), if any."""
        if not len(audio):
            return None
        self._position += len(audio)
        partial = self.recognizer.feed(audio)
        self._voicing.process(audio)
        if not self.recognizer.incremental:
            self._speculate()
        if partial is not None:
            self._emitter.emit(Partial(text=partial))
        return self._newly_committed()

    def finish(self, tail: np.ndarray) -> Transcription:
        """``audio-stop``: the transcript of the whole request."""
        self.feed(tail)
        voiced_until = self._voicing.voiced_until
        delay = (self._position - voiced_until) / SAMPLE_RATE if voiced_until else 0.0
        self._emitter.emit(SpeechEnd(audio_t=round(self._position / SAMPLE_RATE, 3), reason="end_of_input", endpoint_delay=round(delay, 3)))
        result = self._speculator.final(self._voicing.possible_speech_until(self._min_snr_db)).result()
        if not self.recognizer.incremental:
            result = dataclasses.replace(result, text=without_repeats(result.text))
        self._emitter.emit(transcript_event(result, 0.0))
        return result

    def close(self) -> None:
        self._speculator.close()

    def _speculate(self) -> None:
        """Recognise in the background once the speaker has paused; drop that when they go on."""
        self._speculator.spoken_until(self._voicing.voiced_until)
        if self._voicing.trailing_silence_ms >= self._speculate_ms:
            self._speculator.pause(self._voicing.voiced_until, self._position)

    def _newly_committed(self) -> str | None:
        """What the recognizer has committed beyond what the client was sent (a chunk's text), if anything."""
        committed = self.recognizer.committed()
        if len(committed) <= len(self._sent):
            return None
        assert committed.startswith(self._sent), "a recognizer took back committed words"
        text = committed[len(self._sent) :]
        self._sent = committed
        return text
