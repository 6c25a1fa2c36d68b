"""Saying things in a reply the way the built-in skills do: lengths of time, lists, places in a list.

For plugin authors (``from assistant.intents import say``)::

    say.duration(3750)                       # "1 hour, 2 minutes and 30 seconds"
    say.duration(600, adjective=True)        # "10 minute" (as in "the 10 minute timer")
    say.listing(["tea", "pizza"], "or")      # "tea or pizza"
    say.ordinal(2)                           # "second"
    say.time(datetime(2026, 12, 2, 15, 5))   # "3:05 PM" (hours=24: "15:05")
    say.date(datetime(2026, 12, 2))          # "Wednesday, December 2, 2026"
    say.as_heard("the 10 minute timer")      # "the ten minute timer": how a recognizer writes it

Digits are fine in a reply (the speech synthesiser reads them); :func:`as_heard` is for comparing with
what the user said, or for offering choices the user will say back (a follow-up's ``expect``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date as Date
from datetime import datetime

from assistant.intents.normalize import normalize
from assistant.numbers import ordinal_words


def duration(seconds: float, *, adjective: bool = False) -> str:
    """3750 → "1 hour, 2 minutes and 30 seconds"; ``adjective`` → "1 hour 2 minute 30 second" (before a noun)."""
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{n} {unit}{'' if n == 1 or adjective else 's'}" for n, unit in ((hours, "hour"), (minutes, "minute"), (secs, "second")) if n]
    if not parts:
        return "0 seconds"
    return " ".join(parts) if adjective else listing(parts)


def listing(items: Sequence[str], last: str = "and") -> str:
    """["a", "b", "c"] → "a, b and c" (``last``: the word before the last item, e.g. "or")."""
    if not items:
        return ""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + f" {last} " + items[-1]


def ordinal(n: int) -> str:
    """2 → "second": a place in a list, as said."""
    return ordinal_words(n)


def time(when: datetime, hours: int = 12) -> str:
    """A clock time: "3:05 PM", or with ``hours=24`` "15:05"."""
    if hours == 24:
        return f"{when:%H:%M}"
    return f"{when.hour % 12 or 12}:{when:%M} {'AM' if when.hour < 12 else 'PM'}"


def date(when: Date) -> str:
    """A day: "Wednesday, December 2, 2026"."""
    return f"{when:%A}, {when:%B} {when.day}, {when.year}"


def as_heard(text: str) -> str:
    """``text`` the way a recognizer writes it: lower case, numbers as words, no punctuation ("10 minutes" →
    "ten minutes")."""
    return normalize(text)
