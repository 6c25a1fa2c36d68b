"""The coffee-dev recordings as recognizer test material (shared by tests/test_asr_* and bench/bench_asr.py).

The manifest labels each clip with its slot values, not its full text: the
carrier words ("can I get", "make me", "a"/"an") and the slot order are not
recorded. The reference for word error rate is therefore the sentence of the
clip's own grammar (coffee_maker_rhino_context.yaml: ``[a, b]`` = choose one,
``$type:name`` = slot) that carries exactly the labelled slot values and is
closest to the hypothesis. Slot words are fixed, so every slot error counts in
full; only a confusion between two carrier phrases ("can I get" heard as "can I
have") goes unseen, so the figure is a slight lower bound of the true WER.
"""

from __future__ import annotations

import functools
import itertools
import json
import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from rapidfuzz.distance import Levenshtein

from assistant.vocabulary import Vocabulary
from tests.helpers import COFFEE_DEV

_ELEMENT = re.compile(r"\[([^\]]*)\]|\$(\w+):(\w+)|(\S+)")


@dataclass(frozen=True)
class Clip:
    path: Path
    slots: dict[str, str]


@dataclass(frozen=True)
class Expression:
    """One template: a sequence of elements, each a choice of word tuples, or a slot name."""

    elements: tuple[tuple[tuple[str, ...], ...] | str, ...]

    @property
    def slot_names(self) -> frozenset[str]:
        return frozenset(e for e in self.elements if isinstance(e, str))


def clips() -> list[Clip]:
    with open(COFFEE_DEV / "manifest.jsonl", encoding="utf-8") as f:
        return [Clip(COFFEE_DEV / d["audio"], d["slots"]) for d in map(json.loads, f)]


@functools.lru_cache(maxsize=1)
def grammar() -> tuple[tuple[Expression, ...], dict[str, tuple[tuple[str, ...], ...]]]:
    data = yaml.safe_load((COFFEE_DEV / "coffee_maker_rhino_context.yaml").read_text(encoding="utf-8"))["context"]
    slots = {name: tuple(tuple(v.lower().split()) for v in values) for name, values in data["slots"].items()}
    expressions = []
    for templates in data["expressions"].values():
        for template in templates:
            elements: list = []
            for choice, slot_type, slot_name, word in _ELEMENT.findall(template):
                if slot_type:
                    elements.append(slot_name)
                elif word:
                    elements.append(((word.lower(),),))
                else:
                    elements.append(tuple(tuple(option.lower().split()) for option in choice.split(",")))
            expressions.append(Expression(tuple(elements)))
    return tuple(expressions), slots


def _options(element, slots, values: dict[str, str] | None = None) -> tuple[tuple[str, ...], ...]:
    if isinstance(element, str):
        return (tuple(values[element].lower().split()),) if values else slots[element]
    return element


def sentence_count() -> int:
    """How many distinct sentences the grammar expands to (what a phrase list of "all of them" would hold)."""
    expressions, slots = grammar()
    total = 0
    for e in expressions:
        n = 1
        for element in e.elements:
            n *= len(_options(element, slots))
        total += n
    return total


def vocabulary() -> Vocabulary:
    """All words, and a phrase sample that contains every adjacent word pair the grammar can produce."""
    expressions, slots = grammar()
    covered: set[tuple[str, str]] = set()
    phrases: list[str] = []
    for e in expressions:
        options = [_options(el, slots) for el in e.elements]
        base = [opts[0] for opts in options]
        for i in range(len(options) - 1):
            for a, b in itertools.product(options[i], options[i + 1]):
                words = [w for part in (*base[:i], a, b, *base[i + 2 :]) for w in part]
                pairs = set(zip(["<s>", *words], [*words, "</s>"]))
                if not pairs <= covered:
                    covered |= pairs
                    phrases.append(" ".join(words))
    words = sorted({w for opts in slots.values() for o in opts for w in o} | {w for p in phrases for w in p.split()})
    return Vocabulary(words=tuple(words), phrases=tuple(phrases))


def references(slots_of_clip: dict[str, str]) -> list[list[str]]:
    """Every grammar sentence with exactly these slot values."""
    expressions, slots = grammar()
    wanted = frozenset(slots_of_clip)
    found = []
    for e in expressions:
        if e.slot_names != wanted:
            continue
        for choice in itertools.product(*(_options(el, slots, slots_of_clip) for el in e.elements)):
            found.append([w for part in choice for w in part])
    return found


def closest_reference(hypothesis: str, slots_of_clip: dict[str, str]) -> list[str]:
    hyp = hypothesis.split()
    return min(references(slots_of_clip), key=lambda ref: Levenshtein.distance(ref, hyp))


def word_errors(hypothesis: str, reference: list[str]) -> int:
    return Levenshtein.distance(reference, hypothesis.split())
