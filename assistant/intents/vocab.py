"""What the templates can say: example sentences and the recognizer vocabulary.

Generated from the same compiled templates the matcher uses, so the words a
grammar-restricted recognizer may output are exactly the words the intents
understand. Small grammars are expanded completely; large ones (the coffee
order grammar expands to millions of sentences) are sampled with a fixed seed.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterator

from assistant.numbers import number_to_words
from assistant.intents.template_tree import Alternatives, FreeText, Node, Numbers, Permutation, Phrases, Sequence, Slot, Text, walk
from assistant.intents.templates import CompiledIntent
from assistant.vocabulary import Vocabulary

MAX_PHRASES = 2000
_NICE_NUMBERS = (5, 10, 20, 3, 15, 50, 2, 30, 1)
_DEFAULT_WILDCARD = "pizza"


def slot_names(intent: CompiledIntent) -> tuple[str, ...]:
    """The slots an intent can fill, as the handler sees them (durations folded)."""
    names: dict[str, None] = {}
    for template in intent.templates:
        for node in walk(template):
            if isinstance(node, Slot):
                base = node.name.rpartition("__")[0] if "__" in node.name else node.name
                if base in intent.durations:
                    names.update(dict.fromkeys(intent.durations[base].units() or (base,)))
                else:
                    names[node.name] = None
    return tuple(names)


def examples(intent: CompiledIntent, count: int = 2) -> tuple[str, ...]:
    """``count`` example sentences: the plugin's own first, then samples from different templates."""
    found = list(dict.fromkeys(intent.spec.examples))[:count]
    rng = random.Random(intent.name)
    templates = intent.templates
    attempt = 0
    while len(found) < count and attempt < count * 10:
        text = _sample(templates[attempt % len(templates)], rng, nice=True)
        if text and text not in found:
            found.append(text)
        attempt += 1
    return tuple(found)


def build_vocabulary(intents: list[CompiledIntent], max_phrases: int = MAX_PHRASES) -> Vocabulary:
    words: set[str] = set()
    counts = {c.name: sentence_count(c) for c in intents}
    phrases: dict[str, None] = {}
    if sum(counts.values()) <= max_phrases:
        for c in intents:
            for template in c.templates:
                phrases.update(dict.fromkeys(_expand(template)))
    else:
        rng = random.Random(0)
        per_intent = max(1, max_phrases // max(1, len(intents)))
        for c in intents:
            if counts[c.name] <= per_intent:
                for template in c.templates:
                    phrases.update(dict.fromkeys(_expand(template)))
                continue
            added = 0
            for i in range(per_intent * 3):
                text = _sample(c.templates[i % len(c.templates)], rng)
                if text not in phrases:
                    phrases[text] = None
                    added += 1
                if added >= per_intent:
                    break
    for c in intents:
        for template in c.templates:
            words.update(_words(template))
    phrases.pop("", None)
    return Vocabulary(words=tuple(sorted(words)), phrases=tuple(list(phrases)[:max_phrases]))


def sentence_count(intent: CompiledIntent) -> int:
    """How many sentences an intent's templates expand to (numbers and list values included)."""
    return sum(_count(template) for template in intent.templates)


def _words(node: Node) -> Iterator[str]:
    match node:
        case Text(text):
            yield from text.split()
        case Sequence(glued=glued):  # "minute[s]" is the words "minute" and "minutes", not "minute" and "s"
            for part in glued:
                yield from _words(part)
        case Alternatives(items) | Permutation(items):
            for item in items:
                yield from _words(item)
        case Slot(values=Phrases(choices)):
            for choice in choices:
                yield from _words(choice.said)
        case Slot(values=Numbers() as numbers):
            for n in numbers.values:
                yield from number_to_words(n).split()
        case Slot(values=FreeText(examples)):
            for text in examples:
                yield from text.split()


def _count(node: Node) -> int:
    match node:
        case Text():
            return 1
        case Alternatives(items):
            return sum(map(_count, items))
        case Permutation(items):
            return math.factorial(len(items)) * math.prod(map(_count, items))
        case Sequence(items):
            return math.prod(map(_count, items))
        case Slot(values=Phrases(choices)):
            return sum(_count(choice.said) for choice in choices)
        case Slot(values=Numbers() as numbers):
            return len(numbers.values)
        case Slot(values=FreeText(examples)):
            return max(1, len(examples))
    raise TypeError(f"not a template node: {node!r}")


def _expand(node: Node) -> Iterator[str]:
    """Every sentence (only called when the count is small)."""
    for text in _expand_raw(node):
        yield " ".join(text.split())


def _expand_raw(node: Node) -> Iterator[str]:
    match node:
        case Text(text):
            yield text
        case Alternatives(items):
            for item in items:
                yield from _expand_raw(item)
        case Permutation(items):
            for order in itertools.permutations(items):
                yield from _expand_run(order)
        case Sequence(items):
            yield from _expand_run(items)
        case Slot(values=Phrases(choices)):
            for choice in choices:
                yield from _expand_raw(choice.said)
        case Slot(values=Numbers() as numbers):
            for n in numbers.values:
                yield number_to_words(n)
        case Slot(values=FreeText(examples)):
            yield from examples  # none: the sentence is no phrase (a sample says _DEFAULT_WILDCARD there)


def _expand_run(items: tuple[Node, ...]) -> Iterator[str]:
    for combo in itertools.product(*(list(_expand_raw(item)) for item in items)):
        yield "".join(combo)


def _sample(node: Node, rng: random.Random, nice: bool = False) -> str:
    return " ".join(_sample_raw(node, rng, nice).split())


def _sample_raw(node: Node, rng: random.Random, nice: bool) -> str:
    match node:
        case Text(text):
            return text
        case Alternatives(items):
            return _sample_raw(rng.choice(items), rng, nice)
        case Permutation(items):
            order = list(items)
            rng.shuffle(order)
            return "".join(_sample_raw(item, rng, nice) for item in order)
        case Sequence(items):
            return "".join(_sample_raw(item, rng, nice) for item in items)
        case Slot(values=Phrases(choices)):
            return _sample_raw(rng.choice(choices).said, rng, nice)
        case Slot(values=Numbers() as numbers):
            pleasant = [n for n in _NICE_NUMBERS if n in numbers.values]
            typical = pleasant and (nice or rng.random() < 0.8)  # people say "5 minutes" more than "287"
            return number_to_words(rng.choice(pleasant) if typical else rng.choice(numbers.values))
        case Slot(values=FreeText(examples)):
            return rng.choice(examples) if examples else _DEFAULT_WILDCARD
    raise TypeError(f"not a template node: {node!r}")
