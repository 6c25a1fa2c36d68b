"""One spelling for every backend: lowercase words, no punctuation, numbers spelled out.

vosk already writes "twelve ounce"; whisper writes "12-ounce." The intent
templates (and :class:`~assistant.vocabulary.Vocabulary`) use the spoken form,
so whisper's text is brought to it here rather than teaching every consumer
both spellings.
"""

from __future__ import annotations

import re

_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen "
    "fourteen fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = ((1_000_000_000, "billion"), (1_000_000, "million"), (1000, "thousand"))
_ORDINAL_IRREGULAR = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth", "nine": "ninth", "twelve": "twelfth"}

_NUMBER = re.compile(r"(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(st|nd|rd|th)?")
_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)*")


def number_words(n: int) -> str:
    """Cardinal number in words: 1234 → "one thousand two hundred thirty four"."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + (f" {_ONES[ones]}" if ones else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return f"{_ONES[hundreds]} hundred" + (f" {number_words(rest)}" if rest else "")
    for scale, name in _SCALES:
        if n >= scale:
            high, rest = divmod(n, scale)
            return f"{number_words(high)} {name}" + (f" {number_words(rest)}" if rest else "")
    raise AssertionError("unreachable")


def _ordinal(cardinal: str) -> str:
    head, _, last = cardinal.rpartition(" ")
    if last in _ORDINAL_IRREGULAR:
        last = _ORDINAL_IRREGULAR[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return f"{head} {last}".strip()


def _spell_number(match: re.Match[str]) -> str:
    whole, fraction, suffix = match.groups()
    value = int(whole.replace(",", ""))
    if value >= 1000 * 1_000_000_000:  # an id or a phone number: read digit by digit
        words = " ".join(_ONES[int(d)] for d in whole if d.isdigit())
    else:
        words = number_words(value)
    if suffix and not fraction:
        words = _ordinal(words)
    if fraction:
        words += " point " + " ".join(_ONES[int(d)] for d in fraction)
    return f" {words} "


def spoken_form(text: str) -> str:
    """ "Can I get a 12-ounce latte? 50% sugar" → "can i get a twelve ounce latte fifty percent sugar"."""
    text = text.lower().replace("%", " percent ").replace("&", " and ")
    text = _NUMBER.sub(_spell_number, text)
    return " ".join(_TOKEN.findall(text))
