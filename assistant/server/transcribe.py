"""``POST /v1/transcribe``: a whole uploaded file through the same VAD + recognizer as ``assistant transcribe``.

No wake word: every utterance the endpointer finds becomes a segment. The
answer carries the pipeline's own events too, so an HTTP client sees exactly
what ``assistant transcribe --json`` prints. The upload is decoded as
``assistant run --input`` decodes a file (:class:`~assistant.audio.file.FileSource`);
audio that could not be decoded is named in ``warnings``, so a damaged
recording is never an empty transcript without a reason.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from assistant.assembly import make_endpointer
from assistant.audio.convert import SAMPLE_RATE
from assistant.audio.file import FileSource
from assistant.config import Config
from assistant.errors import AudioInputError
from assistant.events import Error, Event, EventEmitter, SpeechEnd, SpeechStart, Transcript

if TYPE_CHECKING:
    from assistant.asr import AsrEngine


def transcribe_file(path: Path, config: Config, engine: Callable[[], AsrEngine]) -> dict[str, Any]:
    """Decode ``path`` and transcribe it with the recognizer ``engine()`` returns.

    The audio is checked first (raises :class:`~assistant.errors.AudioInputError`),
    so a wrong upload is refused without touching the recognizer model.
    """
    warnings: list[str] = []

    def warn(event: Event) -> None:
        if isinstance(event, Error):
            warnings.append(_for_client(event.message, path))

    try:
        chunks = FileSource(path, emit=warn).frames()
        first = next(chunks)
    except AudioInputError as exc:
        raise AudioInputError(f"not an audio file: {_for_client(str(exc), path)}") from None
    from assistant.asr import CommandRecognizer
    from assistant.asr.stream import transcribe_stream

    recognizer = engine().recognizer()
    events: list[Event] = []
    emitter = EventEmitter([events.append])
    counted = _Counted(itertools.chain([first], chunks))
    # no wake word: the endpointer waits for speech as long as the file lasts
    unwoken = config.model_copy(update={"wake": config.wake.model_copy(update={"enabled": False})})
    commands = CommandRecognizer(make_endpointer(unwoken), recognizer, emitter)
    transcribe_stream(counted, commands)
    segments = _segments(events)
    return {
        "text": " ".join(s["text"] for s in segments if s["text"]),
        "duration": round(counted.samples / SAMPLE_RATE, 3),
        "segments": segments,
        "events": [e.to_dict() for e in events],
        "warnings": warnings,
    }


def _for_client(message: str, path: Path) -> str:
    """Uploads live in a temp file whose name means nothing to the client."""
    return message.replace(f"{path}: ", "")


class _Counted:
    def __init__(self, chunks: Iterator[np.ndarray]) -> None:
        self._chunks = chunks
        self.samples = 0

    def __iter__(self) -> Iterator[np.ndarray]:
        for chunk in self._chunks:
            self.samples += len(chunk)
            yield chunk


def _segments(events: list[Event]) -> list[dict[str, Any]]:
    """One segment per utterance: its bounds from the endpointer, its words from the recognizer."""
    segments: list[dict[str, Any]] = []
    start = end = 0.0
    for event in events:
        if isinstance(event, SpeechStart):
            start = event.audio_t
        elif isinstance(event, SpeechEnd):
            end = event.audio_t
        elif isinstance(event, Transcript):
            segments.append({"start": round(start, 3), "end": round(end, 3), "text": event.text, "confidence": event.confidence, "words": event.words or []})
    return segments
