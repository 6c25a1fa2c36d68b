"""Closest-template matching for text no template matches exactly.

Each intent's templates (hassil expressions, lists and rules) are compiled once
into a word graph: a DAG whose arcs are template words, number ranges and
wildcards, with the slot values written on the arcs that leave a list. A query
is aligned against the graph with a weighted edit distance (Viterbi over graph
states × heard words), so the cost per query grows with the size of the
templates, never with the number of sentences they expand to (the coffee
grammar's millions of sentences are under a thousand arcs here).

Costs: a template word heard as another word costs 1 − similarity (normalised
edit distance, so "rose"/"roast" and "media"/"medium" are close, "set"/"stop"
are not); two heard words spelling one template word ("fire fox") cost their
difference + 0.1; a template word not heard costs 1 (0.5 for little words like
"a", "the", "for"); an extra word costs 1 (0.3 for fillers like "um",
"please"); a word taken by a wildcard slot costs 0.5. The confidence is
1 − cost / max(words heard, template words on the path); a slot value that is
mostly wrong caps it, so "set a timer for dragons minutes" is not a timer, and
a slot none of whose content words was heard is an invention, not a repair:
"set a timer for pizza" is not a timer for "a minute" (confidence 0).
"""

from __future__ import annotations

import enum
import heapq
import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from hassil import (
    Alternative,
    Expression,
    ListReference,
    Permutation,
    RangeSlotList,
    RuleReference,
    Sentence,
    Sequence,
    SlotList,
    TextChunk,
    TextSlotList,
    WildcardSlotList,
)
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from assistant.numbers import number_to_words, parse_number
from assistant.intents.templates import NotText, glued_blocks, spellings

EPS, WORD, RANGE, ANY = range(4)
_CONSUME, _INSERT, _LOOP, _SKIP, _FOLLOW, _MERGE = range(6)
_TOKENS_USED = {_CONSUME: 1, _INSERT: 1, _LOOP: 1, _MERGE: 2}

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
SLOT_FLOOR = 0.5
"""A slot value matched worse than this caps the confidence at its similarity."""
BEAM = 4.0
"""States costing this much more than the best one in their column are dropped."""
MAX_PERMUTATION_ITEMS = 6


def tokenize(text: str) -> list[str]:
    """Normalised text → words, with each spelled number folded into one ``#<value>`` token."""
    words = text.split()
    tokens: list[str] = []
    i = 0
    while i < len(words):
        parsed = parse_number(words, i)
        if parsed is None:
            tokens.append(words[i])
            i += 1
        else:
            tokens.append(f"#{parsed[0]}")
            i += parsed[1]
    return tokens


class Completion(enum.Enum):
    """How far a command has got, read off the templates (the endpointer waits less for a finished one)."""

    CLOSED = "closed"
    """A template matches it exactly, and nothing a template could add would change the intent or a slot
    ("what time is it": only "right now" may follow)."""
    OPEN = "open"
    """A template matches it exactly, but could go on with something that matters: "with milk" after
    "a large latte", a room after "turn on the light", "the timer" after "stop"."""
    PARTIAL = "partial"
    """Templates begin like this but none ends here: "set a timer for five" (a unit must follow)."""
    NONE = "none"
    """No template begins with these words."""


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


@dataclass(frozen=True)
class TemplateSet:
    """One intent's templates with the lists and rules they refer to."""

    intent: str
    sentences: list[Sentence]
    lists: Mapping[str, SlotList]
    rules: Mapping[str, Sentence]


class FuzzyMatcher:
    """Word graphs of a set of intents (one per intent) and the aligner that searches them.

    Per query, one vectorised edit-distance table (heard words × template
    vocabulary) gives every substitution cost and, per intent, a lower bound
    on its alignment cost (each heard word costs at least its best match or
    its insertion). Intents are aligned best bound first and an intent whose
    bound exceeds the best cost found so far is not searched at all.
    """

    def __init__(self, template_sets: list[TemplateSet]) -> None:
        self._graphs = [_Graph.build(ts) for ts in template_sets]
        self._vocab = sorted({w for g in self._graphs for w in g.words})
        index = {w: i for i, w in enumerate(self._vocab)}
        self._columns = [np.array(sorted(index[w] for w in g.words), dtype=np.intp) for g in self._graphs]
        self._number_columns = np.array([w.startswith("#") for w in self._vocab], dtype=bool)

    @property
    def size(self) -> int:
        """Arcs in all graphs: the work per heard word when nothing can be pruned."""
        return sum(g.size for g in self._graphs)

    def match(self, tokens: list[str], max_cost: float = math.inf) -> FuzzyResult | None:
        """The cheapest alignment of ``tokens`` (see :func:`tokenize`) with any template path."""
        if not tokens or not self._graphs:
            return None
        costs = self._substitution_costs(tokens)
        pairs = [a + b if not (a.startswith("#") or b.startswith("#")) else "#" for a, b in itertools.pairwise(tokens)]
        merged = self._substitution_costs(pairs, MERGE_MIN_SIMILARITY) if pairs else np.ones((0, len(self._vocab)))
        subs = [_close_words(row, self._vocab) for row in costs]
        merges = [_close_words(row, self._vocab) for row in merged]
        inserts = np.array([INSERT_FILLER_COST if t in FILLER_WORDS else INSERT_COST for t in tokens])
        numbers = np.array([t.startswith("#") for t in tokens])
        bounds = []
        for graph, columns in zip(self._graphs, self._columns, strict=True):
            per_token = np.minimum(inserts, costs[:, columns].min(axis=1, initial=1.0))
            if len(pairs):  # a merged pair costs at least half its merge cost per word
                half = (merged[:, columns].min(axis=1, initial=1.0) + MERGE_COST) / 2
                per_token[:-1] = np.minimum(per_token[:-1], half)
                per_token[1:] = np.minimum(per_token[1:], half)
            if graph.has_range:
                per_token[numbers] = 0.0
            if graph.has_any:
                per_token = np.minimum(per_token, WILDCARD_WORD_COST)
            bounds.append(float(per_token.sum()))
        best: FuzzyResult | None = None
        for i in np.argsort(bounds, kind="stable"):
            if bounds[i] > max_cost:
                break
            found = self._graphs[i].align(tokens, subs, merges, max_cost)
            if found is not None and (best is None or found.cost < best.cost):
                best = found
                max_cost = found.cost
        return best

    def completion(self, readings: list[list[str]]) -> Completion:
        """Whether the templates read exactly along ``readings`` (token lists of one utterance, e.g. with and
        without skip words) end there, and whether they could continue with more information."""
        live = complete = extendable = False
        for graph in self._graphs:
            reached = set().union(*(graph.reach(tokens) for tokens in readings))
            if not reached:
                continue
            live = True
            ends = bool(reached & graph.finals)
            complete |= ends
            extendable |= not ends or any(graph.informative[u] for u in reached)
        if complete:
            return Completion.OPEN if extendable else Completion.CLOSED
        return Completion.PARTIAL if live else Completion.NONE

    def _substitution_costs(self, tokens: list[str], min_similarity: float = MIN_SIMILARITY) -> np.ndarray:
        """Heard words × template vocabulary: 1 − similarity, 1 for words too unlike to count."""
        sims = process.cdist(tokens, self._vocab, scorer=Levenshtein.normalized_similarity, dtype=np.float32)
        for row, token in enumerate(tokens):  # numbers are either right or wrong
            if token.startswith("#"):
                sims[row] = [w == token for w in self._vocab]
            else:
                sims[row, self._number_columns] = 0.0
        return np.where(sims >= min_similarity, 1.0 - sims, 1.0)


class _Graph:
    """One intent's templates as a DAG of word, number-range and wildcard arcs."""

    def __init__(self, intent: str) -> None:
        self.intent = intent
        self.arcs: list[list[tuple[int, int, Any, int, Any]]] = [[]]
        self.loops: dict[int, int] = {}  # wildcard node → its slot id
        self.finals: set[int] = set()
        self.slot_names: list[str] = []
        self.words: set[str] = set()
        self.has_range = False
        self.has_any = False
        self.informative: list[bool] = []
        """Per node: a path onward from it reads words into a slot, so words said after it could change the result."""
        self.choices: dict[int, tuple[tuple[str, ...], ...]] = {}
        """Per list's exit node: every spelling of its values, in words (what a repaired slot could have been)."""

    @classmethod
    def build(cls, ts: TemplateSet) -> _Graph:
        graph = cls(ts.intent)
        builder = _Builder(graph, ts.lists, ts.rules)
        for sentence in ts.sentences:
            end = builder.build(sentence.expression, 0, -1)
            if end != 0:
                graph.finals.add(end)
        graph.informative = graph._informative()
        return graph

    def _informative(self) -> list[bool]:
        # every arc leads to a node made after its source (the builder only ever links to new nodes), so one
        # pass from the last node back sees each node's successors first
        informs = [False] * len(self.arcs)
        for u in range(len(self.arcs) - 1, -1, -1):
            informs[u] = u in self.loops or any((arc[1] != EPS and arc[3] >= 0) or informs[arc[0]] for arc in self.arcs[u])
        return informs

    def reach(self, tokens: list[str]) -> set[int]:
        """The nodes reached by reading ``tokens`` word for word along the templates (no edits)."""
        states = self._follow_empty({0})
        for token in tokens:
            step = {u for u in states if u in self.loops}
            for u in states:
                for dst, kind, label, _slot, _out in self.arcs[u]:
                    if kind == ANY or (kind == WORD and label == token) or (kind == RANGE and _in_range(token, label)):
                        step.add(dst)
            states = self._follow_empty(step)
            if not states:
                break
        return states

    def _follow_empty(self, nodes: set[int]) -> set[int]:
        todo, seen = list(nodes), set(nodes)
        while todo:
            for dst, kind, *_ in self.arcs[todo.pop()]:
                if kind == EPS and dst not in seen:
                    seen.add(dst)
                    todo.append(dst)
        return seen

    @property
    def size(self) -> int:
        return sum(len(a) for a in self.arcs)

    def node(self) -> int:
        self.arcs.append([])
        return len(self.arcs) - 1

    def arc(self, src: int, dst: int, kind: int, label: Any = None, slot: int = -1, out: Any = None) -> None:
        self.arcs[src].append((dst, kind, label, slot, out))
        if kind == WORD:
            self.words.add(label)
        self.has_range |= kind == RANGE
        self.has_any |= kind == ANY

    def slot(self, name: str) -> int:
        self.slot_names.append(name)
        return len(self.slot_names) - 1

    def align(self, tokens: list[str], subs: list[dict[str, float]], merges: list[dict[str, float]], max_cost: float) -> FuzzyResult | None:
        """Viterbi over (graph state, words heard).

        ``subs[j]`` maps template words to their cost for heard word j, ``merges[j]``
        for heard words j and j+1 run together (which lands two columns later).
        """
        cost, back = self._close({0: 0.0}, {0: None}, max_cost)
        backs = [back]
        arcs, loops = self.arcs, self.loops
        later: dict[int, list[tuple[int, float, Any]]] = {}
        for j, token in enumerate(tokens):
            insert = INSERT_FILLER_COST if token in FILLER_WORDS else INSERT_COST
            sub = subs[j]
            merge = merges[j] if j < len(merges) else {}
            new: dict[int, float] = {}
            new_back: dict[int, Any] = {}
            for node, value, record in later.pop(j + 1, ()):
                if value < new.get(node, math.inf):
                    new[node] = value
                    new_back[node] = record
            for u, c in cost.items():
                candidates = [(u, c + insert, (u, None, _INSERT))]
                if u in loops:
                    candidates.append((u, c + WILDCARD_WORD_COST, (u, None, _LOOP)))
                for arc in arcs[u]:
                    kind = arc[1]
                    if kind == WORD:
                        candidates.append((arc[0], c + sub.get(arc[2], 1.0), (u, arc, _CONSUME)))
                        if arc[2] in merge and c + merge[arc[2]] + MERGE_COST <= max_cost:
                            later.setdefault(j + 2, []).append((arc[0], c + merge[arc[2]] + MERGE_COST, (u, arc, _MERGE)))
                    elif kind == RANGE:
                        candidates.append((arc[0], c + (0.0 if _in_range(token, arc[2]) else 1.0), (u, arc, _CONSUME)))
                    elif kind == ANY:
                        candidates.append((arc[0], c + WILDCARD_WORD_COST, (u, arc, _CONSUME)))
                for node, value, record in candidates:
                    if value <= max_cost and value < new.get(node, math.inf):
                        new[node] = value
                        new_back[node] = record
            if not new and not later:
                return None
            floor = min(new.values()) + BEAM if new else max_cost
            new = {u: c for u, c in new.items() if c <= floor}
            cost, back = self._close(new, new_back, min(max_cost, floor))
            backs.append(back)
        ends = [(c, u) for u, c in cost.items() if u in self.finals]
        if not ends:
            return None
        total, end = min(ends)
        return self._result(end, total, tokens, backs, subs, merges)

    def _close(self, cost: dict[int, float], back: dict[int, Any], max_cost: float) -> tuple[dict[int, float], dict[int, Any]]:
        """Within one column: follow empty arcs and skip template words (deletions), in graph order."""
        heap = list(cost)
        heapq.heapify(heap)
        queued = set(heap)
        arcs = self.arcs
        while heap:
            u = heapq.heappop(heap)
            c = cost[u]
            for arc in arcs[u]:
                dst, kind = arc[0], arc[1]
                if kind == EPS:
                    value, op = c, _FOLLOW
                elif kind == WORD and arc[3] < 0 and arc[2] in FUNCTION_WORDS:
                    value, op = c + DELETE_FUNCTION_WORD_COST, _SKIP
                else:
                    value, op = c + DELETE_COST, _SKIP
                if value <= max_cost and value < cost.get(dst, math.inf):
                    cost[dst] = value
                    back[dst] = (u, arc, op)
                    if dst not in queued:
                        queued.add(dst)
                        heapq.heappush(heap, dst)
        return cost, back

    def _result(
        self, end: int, total: float, tokens: list[str], backs: list[dict[int, Any]], subs: list[dict[str, float]], merges: list[dict[str, float]]
    ) -> FuzzyResult:
        steps: list[tuple[int, Any, int, int]] = []  # (op, arc, token index, node)
        node, j = end, len(tokens)
        while True:
            record = backs[j][node]
            if record is None:
                break
            u, arc, op = record
            j -= _TOKENS_USED.get(op, 0)
            steps.append((op, arc, j, u))
            node = u
        steps.reverse()

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
        for step, (op, arc, j, u) in enumerate(steps):
            token = tokens[j] if op in _TOKENS_USED else None
            if op == _LOOP:
                name = self.slot_names[self.loops[u]]
                slots[name] = f"{slots[name]} {_spoken(token)}"
                template_words += 1
                if sentence is not None:
                    sentence.append(_spoken(token))
                continue
            if arc is None:
                continue
            dst, kind, label, slot, out = arc
            if kind == EPS:
                if out is not None:
                    slots[self.slot_names[slot]] = out
                    start, first = opened.pop(slot, (len(sentence or ()), step))
                    if sentence is not None:
                        heard = " ".join(_spoken(t) for t in tokens[_heard_span(steps, first, step, len(tokens))])
                        if heard != " ".join(sentence[start:]):
                            repairs.append(Repair(start, len(sentence), heard, self.choices[dst], slot_cost.get(slot, 0.0)))
                continue
            template_words += 1
            if sentence is not None:
                if kind == WORD:
                    sentence.append(_spoken(label))
                elif op == _CONSUME and (kind == ANY or _in_range(token, label)):
                    sentence.append(_spoken(token))
                else:
                    sentence = None  # a number or free text that was not heard: no sentence to offer
            if slot < 0:
                continue
            if kind == WORD and slot not in opened:
                opened[slot] = (len(sentence or ()) - 1, step)
            name = self.slot_names[slot]
            slot_words[slot] = slot_words.get(slot, 0) + 1
            if kind == ANY:
                slots[name] = _spoken(token) if op == _CONSUME else ""
                step_cost = 0.0 if op == _CONSUME else 1.0
            elif kind == RANGE:
                ok = op == _CONSUME and _in_range(token, label)
                slots[name] = _range_value(token, label) if ok else None
                step_cost = 0.0 if ok else 1.0
            else:
                step_cost = 1.0
                if op == _CONSUME:
                    step_cost = subs[j].get(label, 1.0)
                elif op == _MERGE:
                    step_cost = merges[j].get(label, 1.0) + MERGE_COST
                if label not in FUNCTION_WORDS:
                    content[slot] = content.get(slot, False) or step_cost < 1.0
            slot_cost[slot] = slot_cost.get(slot, 0.0) + step_cost

        confidence = max(0.0, 1.0 - total / max(len(tokens), template_words, 1))
        for slot, words in slot_words.items():
            slot_sim = 1.0 - slot_cost[slot] / words
            if slot_sim < SLOT_FLOOR:
                confidence = min(confidence, slot_sim)
        if not all(content.values()):
            confidence = 0.0
        words = tuple(sentence) if sentence is not None else None
        return FuzzyResult(self.intent, slots, round(confidence, 4), round(total, 4), words, tuple(repairs) if words is not None else ())


def _heard_span(steps: list[tuple[int, Any, int, int]], first: int, last: int, heard: int) -> slice:
    """The heard words between the path's steps ``first`` and ``last`` (a slot's), with the extra words heard
    right before and after them ("whistling milk", "skin one"): from the previous heard word the path reads
    outside them to the next one."""
    start, end = 0, heard
    for op, _arc, j, _u in reversed(steps[:first]):
        if op in (_CONSUME, _MERGE, _LOOP):
            start = j + _TOKENS_USED[op]
            break
    for op, _arc, j, _u in steps[last + 1 :]:
        if op in (_CONSUME, _MERGE, _LOOP):
            end = j
            break
    return slice(start, end)


def _close_words(costs: np.ndarray, vocab: list[str]) -> dict[str, float]:
    """The template words a heard word could be (cost below 1), as a dict for the inner loop."""
    return {vocab[k]: float(costs[k]) for k in np.flatnonzero(costs < 1.0)}


def _in_range(token: str | None, label: tuple[int, int, int, float | None]) -> bool:
    if token is None or not token.startswith("#"):
        return False
    value = int(token[1:])
    start, stop, step, _ = label
    return start <= value <= stop and (value - start) % step == 0


def _range_value(token: str, label: tuple[int, int, int, float | None]) -> int | float:
    value = int(token[1:])
    multiplier = label[3]
    return value * multiplier if multiplier is not None else value


def _spoken(token: str) -> str:
    return number_to_words(int(token[1:])) if token.startswith("#") else token


class _Builder:
    """Adds one intent's template expressions to the graph; returns end nodes."""

    def __init__(self, graph: _Graph, lists: Mapping[str, SlotList], rules: Mapping[str, Sentence]) -> None:
        self.g = graph
        self.lists = lists
        self.rules = rules

    def build(self, expr: Expression, src: int, slot: int) -> int:
        if isinstance(expr, TextChunk):
            return self._chain(tokenize(expr.text), src, slot)
        if isinstance(expr, Alternative):
            return self._join([self.build(item, src, slot) for item in expr.items])
        if isinstance(expr, Permutation):
            if len(expr.items) > MAX_PERMUTATION_ITEMS:
                raise ValueError(f"a permutation of {len(expr.items)} items is too large to match fuzzily")
            ends = []
            for order in itertools.permutations(expr.items):
                end = src
                for item in order:
                    end = self.build(item, end, slot)
                ends.append(end)
            return self._join(ends)
        if isinstance(expr, Sequence):
            end = src
            for block in glued_blocks(expr.items, self.rules):
                end = self._block(block, end, slot)
            return end
        if isinstance(expr, RuleReference):
            return self.build(self.rules[expr.rule_name].expression, src, slot)
        if isinstance(expr, ListReference):
            return self._list(expr, src)
        raise TypeError(f"unknown template expression {expr!r}")

    def _block(self, items: list[Expression], src: int, slot: int) -> int:
        if len(items) == 1:
            return self.build(items[0], src, slot)
        try:
            strings = spellings(Sequence(items=items), self.rules)
        except NotText:
            end = src
            for item in items:
                end = self.build(item, end, slot)
            return end
        return self._join([self._chain(tokenize(s), src, slot) for s in dict.fromkeys(strings)])

    def _chain(self, tokens: list[str], src: int, slot: int) -> int:
        for token in tokens:
            dst = self.g.node()
            self.g.arc(src, dst, WORD, token, slot)
            src = dst
        return src

    def _join(self, ends: list[int]) -> int:
        unique = list(dict.fromkeys(ends))
        if len(unique) == 1:
            return unique[0]
        exit_node = self.g.node()
        for end in unique:
            self.g.arc(end, exit_node, EPS)
        return exit_node

    def _list(self, ref: ListReference, src: int) -> int:
        slot = self.g.slot(ref.slot_name)
        inline = ref.get_inline_range()
        slot_list = RangeSlotList(name=None, start=inline[0], stop=inline[1], step=inline[2]) if inline else self.lists[ref.list_name]
        if isinstance(slot_list, RangeSlotList):
            dst = self.g.node()
            self.g.arc(src, dst, RANGE, (slot_list.start, slot_list.stop, slot_list.step, slot_list.multiplier), slot)
            return dst
        if isinstance(slot_list, WildcardSlotList):
            dst = self.g.node()
            self.g.arc(src, dst, ANY, None, slot)
            self.g.loops[dst] = slot
            return dst
        if not isinstance(slot_list, TextSlotList):
            raise TypeError(f"unsupported slot list {slot_list!r}")
        children: dict[tuple[int, str], int] = {}
        ends: list[tuple[int, Any]] = []
        spelled: list[tuple[str, ...]] = []
        for value in slot_list.values:
            try:
                spoken = spellings(value.text_in, self.rules)
            except NotText:
                continue
            for text in spoken:
                spelled.append(tuple(_spoken(t) for t in tokenize(text)))
                node = src
                for token in tokenize(text):
                    child = children.get((node, token))
                    if child is None:
                        child = self.g.node()
                        children[(node, token)] = child
                        self.g.arc(node, child, WORD, token, slot)
                    node = child
                if node != src:
                    ends.append((node, value.value_out))
        exit_node = self.g.node()
        for node, value_out in ends:
            self.g.arc(node, exit_node, EPS, None, slot, value_out)
        self.g.choices[exit_node] = tuple(dict.fromkeys(spelled))
        return exit_node
