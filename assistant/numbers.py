"""English number words, both ways: the one place that knows how numbers are said.

Recognizers disagree on how to write numbers: whisper writes "5" and "12-ounce",
vosk writes "five" and "twelve ounce". whisper's text is spelled out with
:func:`number_to_words` (:mod:`assistant.asr.spoken_form`), and so is everything
the intent engine compares (templates, list values); the fuzzy matcher turns
runs of number words back into one number token with :func:`parse_number` so
"twenty five" is one unit there; replies say ordinals with :func:`ordinal_words`.
"""

from __future__ import annotations

ONES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
        "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
        "seventeen", "eighteen", "nineteen")  # fmt: skip
TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
SCALES = ((1_000_000_000, "billion"), (1_000_000, "million"), (1000, "thousand"))

_ORDINAL_IRREGULAR = {"one": "first", "two": "second", "three": "third", "five": "fifth",
                      "eight": "eighth", "nine": "ninth", "twelve": "twelfth"}  # fmt: skip

_UNIT_VALUES = {w: i for i, w in enumerate(ONES)}
_TENS_VALUES = {w: i * 10 for i, w in enumerate(TENS) if w}
NUMBER_WORDS = frozenset(_UNIT_VALUES) | frozenset(_TENS_VALUES) | {"hundred"} | {name for _, name in SCALES}


def number_to_words(n: int) -> str:
    """125 → "one hundred twenty five" (no "and", no hyphens: the way vosk writes numbers)."""
    if n < 0:
        return "minus " + number_to_words(-n)
    if n < 20:
        return ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return TENS[tens] + (" " + ONES[ones] if ones else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return ONES[hundreds] + " hundred" + (" " + number_to_words(rest) if rest else "")
    for scale, name in SCALES:
        if n >= scale:
            head, rest = divmod(n, scale)
            return number_to_words(head) + " " + name + (" " + number_to_words(rest) if rest else "")
    raise AssertionError("unreachable")


def ordinal_words(n: int) -> str:
    """21 → "twenty first"."""
    words = number_to_words(n).split()
    last = words[-1]
    if last in _ORDINAL_IRREGULAR:
        words[-1] = _ORDINAL_IRREGULAR[last]
    elif last.endswith("y"):
        words[-1] = last[:-1] + "ieth"
    else:
        words[-1] = last + "th"
    return " ".join(words)


def parse_number(words: list[str], start: int = 0) -> tuple[int, int] | None:
    """The longest number spelled at ``words[start:]``: (value, words used), or None.

    Follows how people say numbers: "one hundred [and] five", "twenty five",
    "two thousand twenty four". Two numbers in a row ("five ten") are two
    numbers: parsing stops where a well-formed number ends.
    """
    total = 0  # completed thousands/millions groups
    group = 0  # the current group below one thousand
    i = start
    used = 0
    last = ""  # kind of the last word: unit, teen, tens, hundred, scale
    last_scale = 0  # "two thousand one million" is two numbers: scales must shrink
    while i < len(words):
        word = words[i]
        if word in _UNIT_VALUES:
            value = _UNIT_VALUES[word]
            kind = "unit" if value < 10 else "teen"
            if last in ("unit", "teen") or (last == "tens" and kind == "teen") or (last == "hundred" and group % 100):
                break
            if word == "zero" and used:
                break
            group += value
            last = kind
        elif word in _TENS_VALUES:
            if last in ("unit", "teen", "tens") or (last == "hundred" and group % 100):
                break
            group += _TENS_VALUES[word]
            last = "tens"
        elif word == "hundred":
            if last not in ("unit", "teen") or group >= 100 or group == 0:
                break
            group *= 100
            last = "hundred"
        elif word == "and" and last in ("hundred", "scale") and i + 1 < len(words) and (
            words[i + 1] in _UNIT_VALUES or words[i + 1] in _TENS_VALUES
        ):
            i += 1
            continue
        else:
            scale = next((s for s, name in SCALES if name == word), None)
            if scale is None or group == 0 or last == "scale" or (last_scale and scale >= last_scale):
                break
            total += group * scale
            group = 0
            last = "scale"
            last_scale = scale
        i += 1
        used = i - start
    if used == 0:
        return None
    return total + group, used
