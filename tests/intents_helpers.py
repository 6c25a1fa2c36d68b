"""Shared by the intent tests and bench/bench_intents.py: text corpora, a fake clock, an announcement recorder.

The coffee-dev manifest has labels, not transcripts: :func:`coffee_text` says
each label the way the grammar allows, rotating the lead-in words and the order
of the optional parts, so the whole grammar is exercised. :func:`whisper_style`
and :func:`misheard` turn a sentence into what a recognizer might write.
"""

from __future__ import annotations

import json
import random
import re
import threading

from assistant.numbers import parse_number
from tests.helpers import COFFEE_DEV

LEAD_INS = ("", "can I get", "I'd like", "may I have", "give me", "brew", "make me", "I want", "can I have", "get me")
PRE_DRINK = ("size", "roast", "numberOfShots")

OUT_OF_SCOPE = (
    "tell me a story about dragons",
    "what's the weather like tomorrow",
    "turn on the kitchen lights",
    "play some jazz",
    "call mom",
    "how tall is mount everest",
    "send a message to john",
    "what's the capital of france",
    "book a table for two at eight",
    "translate hello into spanish",
    "who won the game last night",
    "i love you",
    "what's your name",
    "how do you spell necessary",
    "set the thermostat to seventy degrees",
    "lock the front door",
    "open the garage door",
    "what's on my calendar today",
    "how many days until christmas",
    "add milk to my shopping list",
)

MISHEARINGS = {
    "roast": "rose", "medium": "media", "espresso": "expresso", "cappuccino": "cappucino", "latte": "lotte",
    "americano": "americana", "sweetener": "sweetner", "mocha": "mocca", "timer": "time", "minutes": "minute",
    "volume": "volumes", "firefox": "fire fox", "previous": "previews", "pause": "paws",
}  # fmt: skip
FILLERS = ("um", "uh", "please", "so", "okay")


def coffee_labels() -> list[dict]:
    lines = (COFFEE_DEV / "manifest.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def coffee_text(slots: dict[str, str], i: int) -> str:
    """Say a coffee order label (slots) the way the grammar allows; ``i`` picks the variant."""
    lead = LEAD_INS[i % len(LEAD_INS)]
    order = PRE_DRINK[i % 3 :] + PRE_DRINK[: i % 3]
    words = [slots[k] for k in order if k in slots] + [slots["coffeeDrink"]]
    extras = [slots[k] for k in (("milkAmount", "sugarAmount") if i % 2 else ("sugarAmount", "milkAmount")) if k in slots]
    article = "" if i % 4 == 3 else ("an" if words[0][0] in "aeiou" else "a")
    text = " ".join(w for w in (lead, article, *words) if w)
    if extras:
        text += " with " + " and ".join(extras)
    return text


def whisper_style(text: str) -> str:
    """Digits instead of number words, a capital letter and a full stop: "A 12-ounce latte."."""
    words = text.split()
    out: list[str] = []
    i = 0
    while i < len(words):
        parsed = parse_number(words, i)
        if parsed is None:
            out.append(words[i])
            i += 1
            continue
        value, used = parsed
        i += used
        if i < len(words) and words[i] == "ounce":
            out.append(f"{value}-ounce")
            i += 1
        else:
            out.append(str(value))
    sentence = " ".join(out)
    return re.sub(r"^\w", lambda m: m.group().upper(), sentence) + "."


def misheard(text: str, seed: int) -> str:
    """One or two recognizer errors: a word misheard, a filler added, or a little word dropped."""
    rng = random.Random(seed)
    words = text.split()
    hearable = [i for i, w in enumerate(words) if w in MISHEARINGS]
    if hearable:
        i = rng.choice(hearable)
        words[i] = MISHEARINGS[words[i]]
    kind = rng.choice(("filler", "drop", "none"))
    if kind == "filler":
        words.insert(rng.randrange(len(words) + 1), rng.choice(FILLERS))
    elif kind == "drop":
        little = [i for i, w in enumerate(words) if w in ("a", "an", "the", "my")]
        if little:
            del words[rng.choice(little)]
    return " ".join(words)


class FakeClock:
    """A clock tests move by hand, for waits that would take minutes in real time."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Announcements:
    """The ``announce`` callback of a dispatcher Session: records what scheduled actions said (and which rang as alarms)."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.alarms: list[bool] = []
        self.arrived = threading.Condition()

    def __call__(self, text: str, alarm: bool = False) -> None:
        with self.arrived:
            self.texts.append(text)
            self.alarms.append(alarm)
            self.arrived.notify_all()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[str]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.texts) >= count, timeout)
            return list(self.texts)
