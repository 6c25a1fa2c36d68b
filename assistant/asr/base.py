"""The recognizer stage: what every speech-recognition backend provides.

Two levels, because models are big and utterances are many: an
:class:`AsrEngine` holds the loaded model once per process and is shared by
every pipeline (the server runs one pipeline per connection); each pipeline
asks it for its own :class:`Recognizer`, which carries the per-utterance
decoding state and is used from that pipeline's worker thread only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from assistant.about import About
from assistant.vocabulary import Vocabulary


@dataclass
class Word:
    word: str
    start: float
    """Seconds from the first sample fed to the recognizer for this utterance."""
    end: float
    confidence: float | None

    def to_dict(self, offset: float = 0.0) -> dict[str, Any]:
        """The event/JSON shape; ``offset`` moves the times onto the stream's clock."""
        conf = None if self.confidence is None else round(float(self.confidence), 3)
        return {"word": self.word, "start": round(float(self.start) + offset, 3), "end": round(float(self.end) + offset, 3), "confidence": conf}


@dataclass(frozen=True)
class Alternative:
    """Another reading of the same audio, from the recognizer's n-best list."""

    text: str
    score: float
    """The backend's length-normalised log-probability: higher is likelier."""


@dataclass
class Transcription:
    text: str
    """Lowercase words without punctuation, numbers spelled out; "" when nothing (in grammar) was said."""
    confidence: float | None
    """0..1 from the backend's word/segment scores; None when the backend gives none."""
    words: list[Word] = field(default_factory=list)
    alternatives: list[Alternative] = field(default_factory=list)
    """Less likely readings, best first (whisper's other beams); the intent engine may prefer one its templates match."""


@runtime_checkable
class Recognizer(Protocol):
    """Decodes one utterance at a time; reusable: ``start`` resets the per-utterance state."""

    incremental: ClassVar[bool]
    """True when the backend decodes as audio arrives, so ``finish`` is cheap (vosk); False when ``finish``
    decodes the whole utterance (whisper), so a snapshot recognised in the trailing silence is kept as the
    final transcript instead of decoding the same audio twice."""

    def start(self) -> None:
        """Begin an utterance (drops whatever an unfinished previous one left)."""
        ...

    def feed(self, audio: np.ndarray) -> str | None:
        """16 kHz mono int16 audio; returns the partial transcript when it changed (streaming backends), else None."""
        ...

    def finish(self) -> Transcription:
        """The utterance ended: the final transcript."""
        ...

    def committed(self) -> str:
        """The start of the final transcript that no further audio can change ("" until there is one).

        A partial result is a guess that later audio revises (vosk's best path flips between
        "음악 꺼 줘" and "음악 틀어 줘" as the verb arrives, and not the same way every run), so a
        client shown words it must never see taken back (Wyoming's ``transcript-chunk``) gets these.
        """
        ...

    def snapshot(self) -> Callable[[], Transcription]:
        """The utterance so far, to recognise without ending it (speculatively, while the speaker pauses).

        Returns a function that may run on another thread: it holds its own copy of what it needs.
        """
        ...


@runtime_checkable
class AsrEngine(Protocol):
    """A loaded model, shared by every pipeline in the process."""

    name: str

    def recognizer(self, vocabulary: Vocabulary | None = None) -> Recognizer:
        """A new recognizer, biased to (or, for a grammar, restricted to) ``vocabulary``. Thread-safe."""
        ...

    def describe(self) -> About:
        """The loaded model: name, languages, version, who made it."""
        ...
