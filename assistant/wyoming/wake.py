"""One ``detect`` request: a stream's own wake detector over the process's shared models.

Runs on the connection's worker thread. Home Assistant keeps a wake stream open
as long as a satellite listens and closes it once it has a ``detection``; a
client may also end it with ``audio-stop`` (then ``not-detected`` if nothing fired).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from assistant.assembly import make_wake
from assistant.audio.chunker import Chunker
from assistant.audio.convert import SAMPLE_RATE
from assistant.audio.source import CHUNK_SAMPLES
from assistant.config import Config
from assistant.events import EventEmitter, Wake


class WakeListener:
    def __init__(self, config: Config, models: Sequence[str] | None, emitter: EventEmitter) -> None:
        """``models``: the wake words the client listens for (None: every loaded one)."""
        self._detector = make_wake(config, models)
        self._chunker = Chunker(CHUNK_SAMPLES)
        self._emitter = emitter
        self._scored = 0
        self.detections = 0

    def feed(self, audio: np.ndarray) -> list[str]:
        """Pipeline audio of any length; the models that fired in it."""
        return [fired for chunk in self._chunker.push(audio) if (fired := self._score(chunk)) is not None]

    def finish(self, tail: np.ndarray) -> list[str]:
        """The stream ended: score the last audio (its partial chunk padded with silence)."""
        fired = self.feed(tail)
        last = self._chunker.flush()
        if last is not None and (model := self._score(last)) is not None:
            fired.append(model)
        return fired

    def close(self) -> None:
        self._detector.close()

    def _score(self, chunk: np.ndarray) -> str | None:
        hit = self._detector.process(chunk)
        self._scored += len(chunk)
        if hit is None:
            return None
        self.detections += 1
        self._emitter.emit(Wake(model=hit.model, score=round(hit.score, 4), audio_t=round(self._scored / SAMPLE_RATE, 3)))
        return hit.model
