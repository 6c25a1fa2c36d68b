"""Bring recognizer text and templates to one spoken, lowercase form.

Whisper writes "Set a timer for 5 minutes." and "a 12-oz latte"; vosk writes
"set a timer for five minutes". Both, and the templates plugin authors write,
are normalised the same way before anything is compared: lowercase, no
punctuation, numbers spelled out ("12-ounce" → "twelve ounce", "1/2" → "half",
"2.5" → "two and a half", "50%" → "fifty percent"). Applying one function to
both sides is what makes "numbers both ways" work without special cases.
"""

from __future__ import annotations

import re
import unicodedata

from assistant.numbers import NUMBER_WORDS, number_to_words, ordinal_words

_FRACTIONS = {(1, 2): "half", (1, 4): "quarter", (3, 4): "three quarters", (1, 3): "third", (2, 3): "two thirds"}
_UNITS = {
    "min": "minutes", "mins": "minutes", "sec": "seconds", "secs": "seconds", "s": "seconds",
    "h": "hours", "hr": "hours", "hrs": "hours", "oz": "ounce",
}  # fmt: skip

_MIXED_FRACTION = re.compile(r"\b(\d+)\s+(\d+)/(\d+)\b")
_FRACTION = re.compile(r"\b(\d+)/(\d+)\b")
_CLOCK = re.compile(r"\b(\d{1,2}):(\d{2})\b")
_ORDINAL = re.compile(r"\b(\d+)(st|nd|rd|th)\b")
_PERCENT = re.compile(r"(\d)\s*%")
_DECIMAL = re.compile(r"\b(\d+)\.(\d+)\b")
_THOUSANDS = re.compile(r"\b\d{1,3}(?:,\d{3})+\b")
_UNIT = re.compile(r"\b(\d+)\s*(" + "|".join(_UNITS) + r")\b")
_DIGITS_LETTERS = re.compile(r"(?<=\d)(?=[^\W\d_])|(?<=[^\W\d_])(?=\d)")
_INTEGER = re.compile(r"\d+")
_NOT_WORD = re.compile(r"[^\w']+")
_QUOTES = re.compile(r"(?<!\w)'+|'+(?!\w)")
_SCALE_AND = re.compile(r"\b(hundred|thousand|million|billion) and (?=(" + "|".join(sorted(NUMBER_WORDS)) + r")\b)")
# Template syntax that must pass through normalisation untouched.
_TEMPLATE_SYNTAX = re.compile(r"(\{[^}]*\}|<[^>]*>|[()\[\]|;])")


def normalize(text: str) -> str:
    """Lowercase words separated by single spaces, numbers spelled out."""
    text = unicodedata.normalize("NFKC", text).replace("\u2044", "/").replace("’", "'").replace("‘", "'")
    text = text.casefold()
    text = _THOUSANDS.sub(lambda m: m.group().replace(",", ""), text)
    text = _MIXED_FRACTION.sub(lambda m: f"{_int(m[1])} and {_fraction(int(m[2]), int(m[3]), article=True)}", text)
    text = _FRACTION.sub(lambda m: _fraction(int(m[1]), int(m[2])), text)
    text = _CLOCK.sub(_clock, text)
    text = _ORDINAL.sub(lambda m: ordinal_words(int(m[1])), text)
    text = _PERCENT.sub(r"\1 percent", text).replace("%", " percent ")
    text = _DECIMAL.sub(_decimal, text)
    text = _UNIT.sub(lambda m: f"{m[1]} {_UNITS[m[2]]}", text)
    text = _DIGITS_LETTERS.sub(" ", text)
    text = _INTEGER.sub(lambda m: f" {_int(m.group())} ", text)
    text = text.replace("&", " and ")
    text = _NOT_WORD.sub(" ", text)
    text = _QUOTES.sub(" ", text)
    text = " ".join(text.replace("_", " ").split())
    return _SCALE_AND.sub(r"\1 ", text)


def without_repeats(text: str) -> str:
    """Say-it-twice collapsed: "with soy milk with soy milk" → "with soy milk".

    People restart a phrase and whisper loops on noisy audio; matched as is,
    the second copy gets forced onto another slot ("lots of brown sugar" twice
    becomes sugar plus "lots of milk"). Only runs of two or more words count,
    so "bye bye bye" stays.
    """
    out: list[str] = []
    for word in text.split():
        out.append(word)
        for n in range(2, len(out) // 2 + 1):
            if out[-n:] == out[-2 * n : -n]:
                del out[-n:]
                break
    return " ".join(out)


def normalize_template(template: str) -> str:
    """Normalise the literal text of a hassil template, leaving its syntax alone.

    Whitespace at the edges of each literal run is kept: hassil uses it to tell
    "minute[s]" (one word) from "set [a] timer" (three words).
    """
    parts = _TEMPLATE_SYNTAX.split(template)
    out = []
    for part in parts:
        if not part or _TEMPLATE_SYNTAX.fullmatch(part) or part.isspace():
            out.append(part)
            continue
        lead = part[: len(part) - len(part.lstrip())]
        trail = part[len(part.rstrip()) :]
        out.append(lead + normalize(part) + trail)
    return "".join(out)


def _int(digits: str) -> str:
    return number_to_words(int(digits))


def _fraction(num: int, den: int, article: bool = False) -> str:
    words = _FRACTIONS.get((num, den))
    if words is None:
        plural = "s" if num != 1 else ""
        words = f"{number_to_words(num)} {ordinal_words(den)}{plural}"
    elif article and num == 1:
        words = "a " + words
    return words


def _clock(m: re.Match[str]) -> str:
    hours, minutes = int(m[1]), int(m[2])
    if minutes == 0:
        return f"{number_to_words(hours)} o'clock"
    if minutes < 10:
        return f"{number_to_words(hours)} oh {number_to_words(minutes)}"
    return f"{number_to_words(hours)} {number_to_words(minutes)}"


def _decimal(m: re.Match[str]) -> str:
    whole, frac = int(m[1]), m[2]
    if frac.rstrip("0") == "5":
        return "half" if whole == 0 else f"{number_to_words(whole)} and a half"
    return f"{number_to_words(whole)} point " + " ".join(number_to_words(int(d)) for d in frac)
