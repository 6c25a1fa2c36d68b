"""What the loaded intents can say, handed from the intent engine to the recognizers.

A small recognizer model recognises commands far better when it is told the
words and phrases to expect (vosk grammar, whisper hotwords/prompt). The intent
engine builds this from its templates; the recognizers only read it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol


class Understood(Protocol):
    """Whether the intents act on a reading (or one of its alternatives): a template matches it exactly;
    with ``free_text=False``, with no wildcard slot (whose words any reading fills)."""

    def __call__(self, text: str, alternatives: Sequence[str] = (), *, free_text: bool = True) -> bool: ...


Candidates = Callable[[Sequence[str]], list[str]]
"""The templates' sentences nearest to a recognizer's readings (best first), for it to score on the audio;
empty when the intents act on a reading as it is, or on none."""


@dataclass(frozen=True)
class Vocabulary:
    words: tuple[str, ...]
    """Every word a template can produce, lowercase, numbers spelled out as a recognizer writes them."""
    phrases: tuple[str, ...]
    """Example sentences: all of them when the templates expand to few, a representative sample otherwise."""
    understood: Understood | None = field(default=None, compare=False, repr=False)
    """The templates' exact matcher: whisper's quick look at a command is kept when it says yes (asr.window)."""
    candidates: Candidates | None = field(default=None, compare=False, repr=False)
    """The templates' nearest sentences to a misheard command: whisper scores them on the audio (asr.grammar)."""
