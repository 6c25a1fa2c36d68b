"""Word errors: substitutions + deletions + insertions between reference and hypothesis words.

Both sides are brought to the recognizers' spoken form first (lowercase, no
punctuation, numbers in words), so "Set a 5-minute timer." and "set a five
minute timer" are the same words.
"""

from __future__ import annotations

from rapidfuzz.distance import Levenshtein

from assistant.asr.spoken_form import spoken_form


def words(text: str) -> list[str]:
    return spoken_form(text).split()


def word_errors(reference: str, hypothesis: str) -> int:
    """The word-level edit distance (the numerator of WER)."""
    return Levenshtein.distance(words(reference), words(hypothesis))


def word_error_rate(pairs: list[tuple[str, str]]) -> float | None:
    """Total errors over total reference words for (reference, hypothesis) pairs; None without reference words."""
    total = sum(len(words(ref)) for ref, _ in pairs)
    return sum(word_errors(ref, hyp) for ref, hyp in pairs) / total if total else None
