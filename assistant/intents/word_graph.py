"""One intent's templates as a word graph: what the fuzzy aligner searches and the completion check reads.

A DAG whose arcs are template words, number ranges and wildcards, with the
slot values written on the empty arcs that leave a list. Built from the
template trees (:mod:`assistant.intents.template_tree`): the coffee grammar's
millions of sentences are under a thousand arcs here. Every arc leads to a
node made after its source, so node order is a topological order.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from assistant.intents.template_tree import Alternatives, FreeText, Node, Numbers, Permutation, Phrases, Sequence, Slot, Text, spellings
from assistant.intents.tokens import is_number, number, spoken, tokenize

EPS, WORD, RANGE, ANY = range(4)
"""Arc kinds: an empty arc, a template word, a number range, any one word (a wildcard)."""

MAX_PERMUTATION_ITEMS = 6


@dataclass(frozen=True, slots=True)
class Arc:
    """An arc of the graph. A slotted dataclass: the aligner reads several fields of every arc it tries, and
    its attributes read as fast as a plain tuple's items (a NamedTuple's are about twice as slow)."""

    dst: int
    kind: int
    label: Any
    """The word (WORD) or the :class:`Numbers` (RANGE); None for EPS and ANY."""
    slot: int
    """The slot whose words the arc reads (or whose value it writes), or -1 for the template's own words."""
    value: Any
    """On the EPS arcs leaving a list: the value it gives the slot (None elsewhere)."""
    index: int
    """Its place in :attr:`WordGraph.all_arcs`: the aligner's back pointers name arcs by it, as tuples of plain
    numbers, which the garbage collector stops tracking (it makes hundreds of thousands per query)."""


class WordGraph:
    """One intent's templates as a DAG of word, number-range and wildcard arcs; node 0 is the start."""

    def __init__(self, intent: str, templates: tuple[Node, ...]) -> None:
        self.intent = intent
        self.arcs: list[list[Arc]] = [[]]
        """Per node: the arcs leaving it."""
        self.all_arcs: list[Arc] = []
        self.loops: dict[int, int] = {}
        """Wildcard node → its slot id (the node may read more words into the slot)."""
        self.finals: set[int] = set()
        self.slot_names: list[str] = []
        self.words: set[str] = set()
        self.has_range = False
        self.has_any = False
        self.choices: dict[int, tuple[tuple[str, ...], ...]] = {}
        """Per list's exit node: every spelling of its values, in words (what a repaired slot could have been)."""
        self.slots_of: dict[str, set[int]] = {}
        """Per word: the lists (by slot id) whose values spell it."""
        for template in templates:
            end = self._build(template, 0, -1)
            if end != 0:
                self.finals.add(end)
        self.informative = self._informative()
        """Per node: a path onward from it reads words into a slot, so words said after it could change the result."""

    @property
    def size(self) -> int:
        return len(self.all_arcs)

    def reach(self, tokens: list[str]) -> set[int]:
        """The nodes reached by reading ``tokens`` word for word along the templates (no edits)."""
        states = self._follow_empty({0})
        for token in tokens:
            step = {u for u in states if u in self.loops}
            for u in states:
                for arc in self.arcs[u]:
                    kind = arc.kind
                    if kind == ANY or (kind == WORD and arc.label == token) or (kind == RANGE and in_range(token, arc.label)):
                        step.add(arc.dst)
            states = self._follow_empty(step)
            if not states:
                break
        return states

    def _follow_empty(self, nodes: set[int]) -> set[int]:
        todo, seen = list(nodes), set(nodes)
        while todo:
            for arc in self.arcs[todo.pop()]:
                if arc.kind == EPS and arc.dst not in seen:
                    seen.add(arc.dst)
                    todo.append(arc.dst)
        return seen

    def _informative(self) -> list[bool]:
        # one pass from the last node back sees each node's successors first (node order is topological)
        informs = [False] * len(self.arcs)
        for u in range(len(self.arcs) - 1, -1, -1):
            informs[u] = u in self.loops or any((arc.kind != EPS and arc.slot >= 0) or informs[arc.dst] for arc in self.arcs[u])
        return informs

    # -- building: each method adds a part of a template after node ``src`` and returns the node it ends at --
    def _build(self, node: Node, src: int, slot: int) -> int:
        match node:
            case Text(text):
                return self._chain(tokenize(text), src, slot)
            case Alternatives(items):
                return self._join([self._build(item, src, slot) for item in items])
            case Permutation(items):
                if len(items) > MAX_PERMUTATION_ITEMS:
                    raise ValueError(f"a permutation of {len(items)} items is too large to match fuzzily")
                ends = []
                for order in itertools.permutations(items):
                    end = src
                    for item in order:
                        end = self._build(item, end, slot)
                    ends.append(end)
                return self._join(ends)
            case Sequence(glued=glued):
                end = src
                for part in glued:
                    end = self._build(part, end, slot)
                return end
            case Slot():
                return self._slot(node, src)
        raise TypeError(f"unknown template node {node!r}")

    def _node(self) -> int:
        self.arcs.append([])
        return len(self.arcs) - 1

    def _arc(self, src: int, dst: int, kind: int, label: Any = None, slot: int = -1, value: Any = None) -> None:
        arc = Arc(dst, kind, label, slot, value, len(self.all_arcs))
        self.arcs[src].append(arc)
        self.all_arcs.append(arc)
        if kind == WORD:
            self.words.add(label)
        self.has_range |= kind == RANGE
        self.has_any |= kind == ANY

    def _chain(self, tokens: list[str], src: int, slot: int) -> int:
        for token in tokens:
            dst = self._node()
            self._arc(src, dst, WORD, token, slot)
            src = dst
        return src

    def _join(self, ends: list[int]) -> int:
        unique = list(dict.fromkeys(ends))
        if len(unique) == 1:
            return unique[0]
        exit_node = self._node()
        for end in unique:
            self._arc(end, exit_node, EPS)
        return exit_node

    def _slot(self, ref: Slot, src: int) -> int:
        self.slot_names.append(ref.name)
        slot = len(self.slot_names) - 1
        values = ref.values
        if isinstance(values, Numbers):
            dst = self._node()
            self._arc(src, dst, RANGE, values, slot)
            return dst
        if isinstance(values, FreeText):
            dst = self._node()
            self._arc(src, dst, ANY, None, slot)
            self.loops[dst] = slot
            return dst
        return self._phrases(values, src, slot)

    def _phrases(self, values: Phrases, src: int, slot: int) -> int:
        """A list's spellings as a trie (shared beginnings once), each end joined to one exit by its value."""
        children: dict[tuple[int, str], int] = {}
        ends: list[tuple[int, Any]] = []
        spelled: list[tuple[str, ...]] = []
        for choice in values.choices:
            for text in spellings(choice.said) or ():  # a value that holds a slot is not matched fuzzily
                spelled.append(tuple(spoken(t) for t in tokenize(text)))
                node = src
                for token in tokenize(text):
                    child = children.get((node, token))
                    if child is None:
                        child = self._node()
                        children[(node, token)] = child
                        self._arc(node, child, WORD, token, slot)
                        self.slots_of.setdefault(token, set()).add(slot)
                    node = child
                if node != src:
                    ends.append((node, choice.value))
        exit_node = self._node()
        for node, value in ends:
            self._arc(node, exit_node, EPS, None, slot, value)
        self.choices[exit_node] = tuple(dict.fromkeys(spelled))
        return exit_node


def in_range(token: str | None, numbers: Numbers) -> bool:
    """Whether ``token`` is a number the range takes."""
    if token is None or not is_number(token):
        return False
    value = number(token)
    return numbers.start <= value <= numbers.stop and (value - numbers.start) % numbers.step == 0


def range_value(token: str, numbers: Numbers) -> int | float:
    """The slot value of a number token read by a range arc."""
    value = number(token)
    return value * numbers.multiplier if numbers.multiplier is not None else value
