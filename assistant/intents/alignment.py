"""The fuzzy aligner: the cheapest way to read heard words along one intent's word graph.

Viterbi over (graph node, words heard) with a weighted edit distance, so the
cost per query grows with the size of the templates, never with the number
of sentences they expand to.

Costs: a template word heard as another word costs 1 − similarity (normalised edit
distance of the letters or of the sounds, whichever is closer, so "rose"/"roast",
"media"/"medium" and "holder"/"whole" are close, "set"/"stop" are not; words spelled
differently are at most ``SOUND_SIMILARITY_CAP`` alike); two heard words spelling
one template word ("fire fox") cost their difference + 0.1; a template word not
heard costs 1 (0.5 for little words like "a", "the", "for"; 0.5 when it would end a
slot value the last heard word began: "a little bit of skin" is skim milk with
"milk" lost); an extra word costs 1 (0.3 for fillers like "um", "please"); a word
taken by a wildcard slot costs 0.5. The confidence is 1 − cost / max(words heard,
template words on the path); a slot value that is mostly wrong caps it, so "set a
timer for dragons minutes" is not a timer, and a slot none of whose content words
was heard is an invention, not a repair: "set a timer for pizza" is not a timer for
"a minute" (confidence 0). So is a command none of whose words that carry meaning
was heard nearly as it is spelled: "and a little" is not "a latte" (confidence 0).
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass
from typing import Any, NamedTuple

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from assistant.intents.tokens import spoken
from assistant.intents.word_graph import ANY, EPS, RANGE, WORD, Arc, WordGraph, in_range, range_value

FUNCTION_WORDS = frozenset(
    "a an the to for of in on at by my me i it is be and or with this that these those your our please".split()
)
FILLER_WORDS = frozenset(
    "um uh er erm ah oh hmm please hey okay ok so well just now like actually then and the a an can you could would".split()
)
DELETE_COST = 1.0
DELETE_FUNCTION_WORD_COST = 0.5
INSERT_COST = 1.0
INSERT_FILLER_COST = 0.3
MERGE_COST = 0.1
"""Two heard words that spell one template word ("fire fox" for "firefox") cost this on top of their difference."""
MERGE_MIN_SIMILARITY = 0.8
"""A merge must spell the template word almost exactly, or it would be a cheap way to drop a word."""
WILDCARD_WORD_COST = 0.5
"""Free text is unverifiable: in a fuzzy match each wildcard word counts half wrong."""
MIN_SIMILARITY = 0.5
"""Words less alike than this are simply different words (full substitution cost)."""
SOUND_SIMILARITY_CAP = 0.9
"""How alike two words spelled differently may sound: a homophone ("paws" for "pause", "hole" for "whole") is
the word meant, misheard, at the price of two heard words spelling one (``MERGE_COST``), and a command
repaired through one is not a command said exactly (confidence below 1)."""
SLOT_FLOOR = 0.5
"""A slot value matched worse than this caps the confidence at its similarity."""
OTHER_VALUE_COST = 1e-3
"""Added when a heard word that one of a list's values spells is read as another word of that list: of two
paths that cost the same, the one that reads it as itself wins ("lots of almond and sugar" is lots of almond
milk with "milk" not heard, not "milk" misheard as "almond"). At the end of a command ``UNHEARD_END_COST``
decides before any tie. A word the list does not know ("extra mocha") still ties as before, where "iced"
misheard is as likely as a word too many."""
UNHEARD_END_COST = 0.5
"""A template word not heard that would finish a slot value the last heard word began. The end of a command
is where whisper loses words in noise (the voice falls, and the clatter masks what is left), so a value heard
without its last word ("with soy", "a little bit of skin") is that value, not its last word misheard as the
heard one ("skin" read as "milk": a little bit of milk). Only a value begun by a word heard like a word of it
(not one of the whole-cost substitutions), and the word still counts as not heard: a value none of whose
content words was heard is still an invention. Measured in README "In kitchen noise"."""
EVIDENCE_MAX_COST = 0.2
"""A repair needs at least one of its template's content words (not a function word, not free text) heard at
most this far from its spelling, or a number heard in range. Found in kitchen noise: a clatter after an order,
read as "and a little", was acted on as a second order, "a latte" (confidence 0.79). It cost no order on
coffee-dev (6 dB peak over 3 noise draws: 169 of 186 with it alone, 168 without; README "In kitchen noise")
and none of bench_intents' misheard sentences."""
BEAM = 4.0
"""States costing this much more than the best one in their column are dropped."""

_CONSUME, _INSERT, _LOOP, _SKIP, _FOLLOW, _MERGE, _UNFINISHED = range(7)
"""How a step of a path got to its node: read a heard word along an arc, an extra heard word, a heard word
into a wildcard that already has one, a template word not heard, an empty arc, two heard words as one, a word
not heard after the last one heard that finishes the slot value it began (``UNHEARD_END_COST``)."""
_TOKENS_USED = {_CONSUME: 1, _INSERT: 1, _LOOP: 1, _MERGE: 2}


_Back = tuple[int, int, int]
"""How the cheapest path reached a node in a column: from node, along the arc of that index (-1: a heard word
no arc reads), by op. Plain numbers: one is made per state, heard word and arc (see :attr:`Arc.index`)."""


class _Step(NamedTuple):
    """A step of the best path, in order: ``token`` is the index of the first heard word it reads."""

    op: int
    arc: Arc | None
    token: int
    node: int


@dataclass(frozen=True)
class Repair:
    """A slot value on a fuzzy path that was not heard as it is spelled, or beside words the path skipped
    ("whistling milk"): where its words are in the path's sentence, what was heard there, and every
    spelling the slot's list allows instead."""

    start: int
    end: int
    heard: str
    options: tuple[tuple[str, ...], ...]
    cost: float
    """What the repair cost on the path: 0 when the value was heard as spelled, beside words the path skipped."""


@dataclass
class FuzzyResult:
    intent: str
    slots: dict[str, Any]
    confidence: float
    cost: float
    sentence: tuple[str, ...] | None = None
    """The template sentence the alignment followed, in words ("whole milk" for "home milk"), or None when a
    number or a wildcard on it was not heard (no sentence to say)."""
    repairs: tuple[Repair, ...] = ()

    def sentences(self, per_repair: int) -> list[str]:
        """The path's sentence, then the same with one repaired slot value replaced by each of the
        ``per_repair`` spellings of its list closest (in letters) to what was heard there: the grammar's
        nearest sentences, for the recognizer to score against the audio ("lots of skin" → "lots of milk",
        "lots of skim milk", ...)."""
        if self.sentence is None:
            return []
        words = list(self.sentence)
        out = [" ".join(words)]
        for repair in sorted(self.repairs, key=lambda r: -r.cost):  # the most doubtful value first
            current = tuple(words[repair.start : repair.end])
            spelled = {" ".join(option): option for option in repair.options if option != current}
            ranked = process.extract(repair.heard, list(spelled), scorer=Levenshtein.normalized_similarity, limit=per_repair)
            out += [" ".join(words[: repair.start] + list(spelled[text]) + words[repair.end :]) for text, _score, _i in ranked]
        return list(dict.fromkeys(out))


def align(graph: WordGraph, tokens: list[str], subs: list[dict[str, float]], merges: list[dict[str, float]], max_cost: float) -> FuzzyResult | None:
    """The cheapest path through ``graph`` reading ``tokens``, if one costs at most ``max_cost``.

    ``subs[j]`` maps template words to their cost for heard word j, ``merges[j]``
    for heard words j and j+1 run together (which lands two columns later).
    """
    cost, back = _close(graph, {0: 0.0}, {0: None}, max_cost)
    backs = [back]
    arcs, loops = graph.arcs, graph.loops
    later: dict[int, list[tuple[int, float, _Back]]] = {}
    for j, token in enumerate(tokens):
        insert = INSERT_FILLER_COST if token in FILLER_WORDS else INSERT_COST
        sub = subs[j]
        listed = graph.slots_of.get(token, ())
        merge = merges[j] if j < len(merges) else {}
        new: dict[int, float] = {}
        new_back: dict[int, _Back] = {}
        for node, value, record in later.pop(j + 1, ()):
            if value < new.get(node, math.inf):
                new[node] = value
                new_back[node] = record
        for u, c in cost.items():
            candidates = [(u, c + insert, (u, -1, _INSERT))]
            if u in loops:
                candidates.append((u, c + WILDCARD_WORD_COST, (u, -1, _LOOP)))
            for arc in arcs[u]:
                kind = arc.kind
                if kind == WORD:
                    word = arc.label
                    step = sub.get(word, 1.0) + (OTHER_VALUE_COST if arc.slot in listed and word != token else 0.0)
                    candidates.append((arc.dst, c + step, (u, arc.index, _CONSUME)))
                    if word in merge and c + merge[word] + MERGE_COST <= max_cost:
                        later.setdefault(j + 2, []).append((arc.dst, c + merge[word] + MERGE_COST, (u, arc.index, _MERGE)))
                elif kind == RANGE:
                    candidates.append((arc.dst, c + (0.0 if in_range(token, arc.label) else 1.0), (u, arc.index, _CONSUME)))
                elif kind == ANY:
                    candidates.append((arc.dst, c + WILDCARD_WORD_COST, (u, arc.index, _CONSUME)))
            for node, value, record in candidates:
                if value <= max_cost and value < new.get(node, math.inf):
                    new[node] = value
                    new_back[node] = record
        if not new and not later:
            return None
        floor = min(new.values()) + BEAM if new else max_cost
        new = {u: c for u, c in new.items() if c <= floor}
        cost, back = _close(graph, new, new_back, min(max_cost, floor), heard_last=sub if j == len(tokens) - 1 else None)
        backs.append(back)
    ends = [(c, u) for u, c in cost.items() if u in graph.finals]
    if not ends:
        return None
    total, end = min(ends)
    return _result(graph, _path(graph, end, backs, len(tokens)), total, tokens, subs, merges)


def _close(
    graph: WordGraph, cost: dict[int, float], back: dict[int, Any], max_cost: float, heard_last: dict[str, float] | None = None
) -> tuple[dict[int, float], dict[int, Any]]:
    """Within one column: follow empty arcs and skip template words (deletions), in graph order.

    ``heard_last``: in the column after the last heard word, the template words that word is like (its
    ``subs``), so a slot value it began may end unheard at ``UNHEARD_END_COST`` a word."""
    heap = list(cost)
    heapq.heapify(heap)
    queued = set(heap)
    arcs = graph.arcs
    while heap:
        u = heapq.heappop(heap)
        c = cost[u]
        begun = heard_last is not None and _inside_begun_value(graph, back.get(u), heard_last)
        for arc in arcs[u]:
            dst, kind = arc.dst, arc.kind
            if kind == EPS:
                value, op = c, _FOLLOW
            elif kind == WORD and begun and arc.slot >= 0:
                value, op = c + UNHEARD_END_COST, _UNFINISHED
            elif kind == WORD and arc.slot < 0 and arc.label in FUNCTION_WORDS:
                value, op = c + DELETE_FUNCTION_WORD_COST, _SKIP
            else:
                value, op = c + DELETE_COST, _SKIP
            if value <= max_cost and value < cost.get(dst, math.inf):
                cost[dst] = value
                back[dst] = (u, arc.index, op)
                if dst not in queued:
                    queued.add(dst)
                    heapq.heappush(heap, dst)
    return cost, back


def _inside_begun_value(graph: WordGraph, record: _Back | None, heard: dict[str, float]) -> bool:
    """Whether the step ``record`` (the cheapest way to its node) leads into the words of a slot value the last
    heard word began: it read that word (or the last two, run together) as a like word of the value, or it is
    an unheard word finishing such a value. A list's words are WORD arcs only, so an empty arc leaves it."""
    if record is None:
        return False
    _u, index, op = record
    if op == _UNFINISHED:
        return True
    if index < 0 or op not in (_CONSUME, _MERGE):
        return False
    arc = graph.all_arcs[index]
    return arc.kind == WORD and arc.slot >= 0 and (op == _MERGE or arc.label in heard)


def _path(graph: WordGraph, end: int, backs: list[dict[int, _Back | None]], heard: int) -> list[_Step]:
    """The best path to node ``end`` after all ``heard`` words, from the start, read off the back pointers."""
    steps: list[_Step] = []
    node, j = end, heard
    while True:
        record = backs[j][node]
        if record is None:
            break
        u, arc, op = record
        j -= _TOKENS_USED.get(op, 0)
        steps.append(_Step(op, graph.all_arcs[arc] if arc >= 0 else None, j, u))
        node = u
    steps.reverse()
    return steps


def _result(
    graph: WordGraph, steps: list[_Step], total: float, tokens: list[str], subs: list[dict[str, float]], merges: list[dict[str, float]]
) -> FuzzyResult:
    slots: dict[str, Any] = {}
    slot_cost: dict[int, float] = {}
    slot_words: dict[int, int] = {}
    content: dict[int, bool] = {}
    """Per slot with content words on the path: whether any of them was heard (said, or misheard as a like word)."""
    template_words = 0
    sentence: list[str] | None = []
    opened: dict[int, tuple[int, int]] = {}
    """Per list slot being read: where its words start in ``sentence``, and its first step."""
    repairs: list[Repair] = []
    evidence = False
    """Whether a content word of the path was heard nearly as spelled (see ``EVIDENCE_MAX_COST``)."""
    for index, (op, arc, j, u) in enumerate(steps):
        token = tokens[j] if op in _TOKENS_USED else None
        if op == _LOOP:
            name = graph.slot_names[graph.loops[u]]
            slots[name] = f"{slots[name]} {spoken(token)}"
            template_words += 1
            if sentence is not None:
                sentence.append(spoken(token))
            continue
        if arc is None:
            continue
        kind, label, slot = arc.kind, arc.label, arc.slot
        if kind == EPS:
            if arc.value is not None:
                slots[graph.slot_names[slot]] = arc.value
                start, first = opened.pop(slot, (len(sentence or ()), index))
                if sentence is not None:
                    heard = " ".join(spoken(t) for t in tokens[_heard_span(steps, first, index, len(tokens))])
                    if heard != " ".join(sentence[start:]):
                        repairs.append(Repair(start, len(sentence), heard, graph.choices[arc.dst], slot_cost.get(slot, 0.0)))
            continue
        template_words += 1
        if sentence is not None:
            if kind == WORD:
                sentence.append(spoken(label))
            elif op == _CONSUME and (kind == ANY or in_range(token, label)):
                sentence.append(spoken(token))
            else:
                sentence = None  # a number or free text that was not heard: no sentence to offer
        heard_as = 1.0  # what reading a template word cost: 1 when it was not heard at all
        if kind == WORD and op in (_CONSUME, _MERGE):
            heard_as = subs[j].get(label, 1.0) if op == _CONSUME else merges[j].get(label, 1.0) + MERGE_COST
            evidence = evidence or (heard_as <= EVIDENCE_MAX_COST and label not in FUNCTION_WORDS)
        elif kind == RANGE and op == _CONSUME and in_range(token, label):
            evidence = True
        if slot < 0:
            continue
        if kind == WORD and slot not in opened:
            opened[slot] = (len(sentence or ()) - 1, index)
        name = graph.slot_names[slot]
        slot_words[slot] = slot_words.get(slot, 0) + 1
        if kind == ANY:
            slots[name] = spoken(token) if op == _CONSUME else ""
            step_cost = 0.0 if op == _CONSUME else 1.0
        elif kind == RANGE:
            ok = op == _CONSUME and in_range(token, label)
            slots[name] = range_value(token, label) if ok else None
            step_cost = 0.0 if ok else 1.0
        else:
            step_cost = UNHEARD_END_COST if op == _UNFINISHED else heard_as
            if label not in FUNCTION_WORDS:
                content[slot] = content.get(slot, False) or heard_as < 1.0
        slot_cost[slot] = slot_cost.get(slot, 0.0) + step_cost

    confidence = max(0.0, 1.0 - total / max(len(tokens), template_words, 1))
    for slot, words in slot_words.items():
        slot_sim = 1.0 - slot_cost[slot] / words
        if slot_sim < SLOT_FLOOR:
            confidence = min(confidence, slot_sim)
    if not all(content.values()) or not evidence:
        confidence = 0.0
    words = tuple(sentence) if sentence is not None else None
    return FuzzyResult(graph.intent, slots, round(confidence, 4), round(total, 4), words, tuple(repairs) if words is not None else ())


def _heard_span(steps: list[_Step], first: int, last: int, heard: int) -> slice:
    """The heard words between the path's steps ``first`` and ``last`` (a slot's), with the extra words heard
    right before and after them ("whistling milk", "skin one"): from the previous heard word the path reads
    outside them to the next one."""
    start, end = 0, heard
    for step in reversed(steps[:first]):
        if step.op in (_CONSUME, _MERGE, _LOOP):
            start = step.token + _TOKENS_USED[step.op]
            break
    for step in steps[last + 1 :]:
        if step.op in (_CONSUME, _MERGE, _LOOP):
            end = step.token
            break
    return slice(start, end)
