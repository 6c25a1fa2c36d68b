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

from hassil import (
    Alternative,
    Expression,
    Group,
    ListReference,
    Permutation,
    RangeSlotList,
    RuleReference,
    Sequence,
    TextChunk,
    TextSlotList,
    WildcardSlotList,
)

from assistant.numbers import number_to_words
from assistant.intents.plugin import Wildcard
from assistant.intents.templates import CompiledIntent, NotText, glued_blocks, spellings, walk
from assistant.vocabulary import Vocabulary

MAX_PHRASES = 2000
_NICE_NUMBERS = (5, 10, 20, 3, 15, 50, 2, 30, 1)
_DEFAULT_WILDCARD = "pizza"


def slot_names(intent: CompiledIntent) -> tuple[str, ...]:
    """The slots an intent can fill, as the handler sees them (durations folded)."""
    names: dict[str, None] = {}
    for sentence in intent.sentences:
        for item in walk(sentence.expression, intent.rules):
            if isinstance(item, ListReference):
                base = item.slot_name.rpartition("__")[0] if "__" in item.slot_name else item.slot_name
                if base in intent.durations:
                    names.update(dict.fromkeys(intent.durations[base].units() or (base,)))
                else:
                    names[item.slot_name] = None
    return tuple(names)


def examples(intent: CompiledIntent, count: int = 2) -> tuple[str, ...]:
    """``count`` example sentences: the plugin's own first, then samples from different templates."""
    found = list(dict.fromkeys(intent.spec.examples))[:count]
    rng = random.Random(intent.name)
    sentences = intent.sentences
    attempt = 0
    while len(found) < count and attempt < count * 10:
        sentence = sentences[attempt % len(sentences)]
        text = _sample(sentence.expression, intent, rng, nice=True)
        if text and text not in found:
            found.append(text)
        attempt += 1
    return tuple(found)


def build_vocabulary(intents: list[CompiledIntent], max_phrases: int = MAX_PHRASES) -> Vocabulary:
    words: set[str] = set()
    counts = {c.name: sum(_count(s.expression, c) for s in c.sentences) for c in intents}
    phrases: dict[str, None] = {}
    if sum(counts.values()) <= max_phrases:
        for c in intents:
            for sentence in c.sentences:
                phrases.update(dict.fromkeys(_expand(sentence.expression, c)))
    else:
        rng = random.Random(0)
        per_intent = max(1, max_phrases // max(1, len(intents)))
        for c in intents:
            if counts[c.name] <= per_intent:
                for sentence in c.sentences:
                    phrases.update(dict.fromkeys(_expand(sentence.expression, c)))
                continue
            added = 0
            for i in range(per_intent * 3):
                text = _sample(c.sentences[i % len(c.sentences)].expression, c, rng)
                if text not in phrases:
                    phrases[text] = None
                    added += 1
                if added >= per_intent:
                    break
    for c in intents:
        for sentence in c.sentences:
            words.update(_words(sentence.expression, c))
    phrases.pop("", None)
    return Vocabulary(words=tuple(sorted(words)), phrases=tuple(list(phrases)[:max_phrases]))


def _wildcard(intent: CompiledIntent, name: str) -> Wildcard:
    return intent.wildcards.get(name, Wildcard())


def _range(slot_list: RangeSlotList) -> range:
    return range(slot_list.start, slot_list.stop + 1, slot_list.step)


def _words(expr: Expression, intent: CompiledIntent) -> Iterator[str]:
    if isinstance(expr, TextChunk):
        yield from expr.text.split()
    elif isinstance(expr, Sequence):
        for block in glued_blocks(expr.items, intent.rules):
            if len(block) > 1:  # "minute[s]" is the words "minute" and "minutes", not "minute" and "s"
                try:
                    for text in spellings(Sequence(items=block), intent.rules):
                        yield from text.split()
                    continue
                except NotText:
                    pass
            for item in block:
                yield from _words(item, intent)
    elif isinstance(expr, Group):
        for item in expr.items:
            yield from _words(item, intent)
    elif isinstance(expr, RuleReference):
        yield from _words(intent.rules[expr.rule_name].expression, intent)
    elif isinstance(expr, ListReference):
        slot_list = intent.slot_lists.get(expr.list_name)
        if isinstance(slot_list, TextSlotList):
            for value in slot_list.values:
                yield from _words(value.text_in, intent)
        elif isinstance(slot_list, RangeSlotList):
            for n in _range(slot_list):
                yield from number_to_words(n).split()
        elif isinstance(slot_list, WildcardSlotList):
            for text in _wildcard(intent, expr.list_name).examples:
                yield from text.lower().split()


def _count(expr: Expression, intent: CompiledIntent) -> int:
    if isinstance(expr, TextChunk):
        return 1
    if isinstance(expr, Alternative):
        return sum(_count(item, intent) for item in expr.items)
    if isinstance(expr, Permutation):
        return math.factorial(len(expr.items)) * math.prod(_count(item, intent) for item in expr.items)
    if isinstance(expr, Sequence):
        return math.prod(_count(item, intent) for item in expr.items)
    if isinstance(expr, RuleReference):
        return _count(intent.rules[expr.rule_name].expression, intent)
    if isinstance(expr, ListReference):
        slot_list = intent.slot_lists.get(expr.list_name)
        if isinstance(slot_list, TextSlotList):
            return sum(_count(v.text_in, intent) for v in slot_list.values)
        if isinstance(slot_list, RangeSlotList):
            return len(_range(slot_list))
        return max(1, len(_wildcard(intent, expr.list_name).examples))
    return 1


def _expand(expr: Expression, intent: CompiledIntent) -> Iterator[str]:
    """Every sentence (only called when the count is small)."""
    for text in _expand_raw(expr, intent):
        yield " ".join(text.split())


def _expand_raw(expr: Expression, intent: CompiledIntent) -> Iterator[str]:
    if isinstance(expr, TextChunk):
        yield expr.text
    elif isinstance(expr, Alternative):
        for item in expr.items:
            yield from _expand_raw(item, intent)
    elif isinstance(expr, Permutation):
        for order in itertools.permutations(expr.items):
            yield from _expand_raw(Sequence(items=list(order)), intent)
    elif isinstance(expr, Sequence):
        parts = [list(_expand_raw(item, intent)) for item in expr.items]
        for combo in itertools.product(*parts):
            yield "".join(combo)
    elif isinstance(expr, RuleReference):
        yield from _expand_raw(intent.rules[expr.rule_name].expression, intent)
    elif isinstance(expr, ListReference):
        slot_list = intent.slot_lists.get(expr.list_name)
        if isinstance(slot_list, TextSlotList):
            for value in slot_list.values:
                yield from _expand_raw(value.text_in, intent)
        elif isinstance(slot_list, RangeSlotList):
            for n in _range(slot_list):
                yield number_to_words(n)
        else:
            yield from (e.lower() for e in _wildcard(intent, expr.list_name).examples) or [_DEFAULT_WILDCARD]


def _sample(expr: Expression, intent: CompiledIntent, rng: random.Random, nice: bool = False) -> str:
    return " ".join(_sample_raw(expr, intent, rng, nice).split())


def _sample_raw(expr: Expression, intent: CompiledIntent, rng: random.Random, nice: bool) -> str:
    if isinstance(expr, TextChunk):
        return expr.text
    if isinstance(expr, Alternative):
        return _sample_raw(rng.choice(expr.items), intent, rng, nice)
    if isinstance(expr, Permutation):
        items = list(expr.items)
        rng.shuffle(items)
        return "".join(_sample_raw(item, intent, rng, nice) for item in items)
    if isinstance(expr, Sequence):
        return "".join(_sample_raw(item, intent, rng, nice) for item in expr.items)
    if isinstance(expr, RuleReference):
        return _sample_raw(intent.rules[expr.rule_name].expression, intent, rng, nice)
    if isinstance(expr, ListReference):
        slot_list = intent.slot_lists.get(expr.list_name)
        if isinstance(slot_list, TextSlotList):
            return _sample_raw(rng.choice(slot_list.values).text_in, intent, rng, nice)
        if isinstance(slot_list, RangeSlotList):
            numbers = _range(slot_list)
            pleasant = [n for n in _NICE_NUMBERS if n in numbers]
            typical = pleasant and (nice or rng.random() < 0.8)  # people say "5 minutes" more than "287"
            return number_to_words(rng.choice(pleasant) if typical else rng.choice(numbers))
        found = _wildcard(intent, expr.list_name).examples
        return rng.choice(found).lower() if found else _DEFAULT_WILDCARD
    return ""


def sentence_count(intent: CompiledIntent) -> int:
    """How many sentences an intent's templates expand to (numbers and list values included)."""
    return sum(_count(s.expression, intent) for s in intent.sentences)

