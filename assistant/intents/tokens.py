"""The words the fuzzy matcher compares: normalised text with each spelled number folded into one token.

"set a timer for twenty five minutes" reads as ``set a timer for #25 minutes``,
so a number is one word that is either right or wrong, whichever way it was
spelled, and a number range in a template is one arc that takes any of them.
"""

from __future__ import annotations

from assistant.numbers import number_to_words, parse_number


def tokenize(text: str) -> list[str]:
    """Normalised text → words, with each spelled number folded into one ``#<value>`` token."""
    words = text.split()
    tokens: list[str] = []
    i = 0
    while i < len(words):
        parsed = parse_number(words, i)
        if parsed is None:
            tokens.append(words[i])
            i += 1
        else:
            tokens.append(f"#{parsed[0]}")
            i += parsed[1]
    return tokens


def is_number(token: str) -> bool:
    return token.startswith("#")


def number(token: str) -> int:
    """The value of a number token."""
    return int(token[1:])


def spoken(token: str) -> str:
    """A token as words again: ``#25`` → "twenty five"."""
    return number_to_words(number(token)) if is_number(token) else token
