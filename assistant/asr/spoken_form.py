"""One spelling for every backend: lowercase words, no punctuation, numbers spelled out.

vosk already writes "twelve ounce"; whisper writes "12-ounce." The intent
templates (and :class:`~assistant.vocabulary.Vocabulary`) use the spoken form,
so whisper's text is brought to it here rather than teaching every consumer
both spellings.
"""

from __future__ import annotations

import re

from assistant.numbers import ONES, number_to_words, ordinal_words

_NUMBER = re.compile(r"(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(st|nd|rd|th)?")
_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)*")


def _spell_number(match: re.Match[str]) -> str:
    whole, fraction, suffix = match.groups()
    value = int(whole.replace(",", ""))
    if value >= 1000 * 1_000_000_000:  # an id or a phone number: read digit by digit
        words = " ".join(ONES[int(d)] for d in whole if d.isdigit())
    elif suffix and not fraction:
        words = ordinal_words(value)
    else:
        words = number_to_words(value)
    if fraction:
        words += " point " + " ".join(ONES[int(d)] for d in fraction)
    return f" {words} "


def spoken_form(text: str) -> str:
    """ "Can I get a 12-ounce latte? 50% sugar" → "can i get a twelve ounce latte fifty percent sugar"."""
    text = text.lower().replace("%", " percent ").replace("&", " and ")
    text = _NUMBER.sub(_spell_number, text)
    return " ".join(_TOKEN.findall(text))
