"""Templates as one small immutable tree that everything but the exact matcher reads.

hassil keeps ``<rule>`` and ``{list}`` references as names to look up; the
vocabulary, the example sampler and the fuzzy word graph each used to walk
hassil's expressions and resolve those names their own way. Here each
template is converted once, when its plugin is compiled, into nodes that hold
what a reference stands for: a rule's body in place of ``<rule>``, a slot's
values (phrases, a number range or free text) in place of ``{list}``. This is
the one module that knows hassil's expression classes; its consumers match on
the node types below.

A rule used in several templates is converted once and shared: the nodes are
frozen, so sharing is safe.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from hassil import (
    Alternative,
    Expression,
    ListReference,
    RangeSlotList,
    RuleReference,
    Sentence,
    SlotList,
    TextChunk,
    TextSlotList,
    WildcardSlotList,
)
from hassil import Permutation as HassilPermutation
from hassil import Sequence as HassilSequence

from assistant.intents.plugin import PluginError, Wildcard

MAX_SPELLINGS = 64
"""A run of glued items spelling more texts than this is read item by item instead."""


@dataclass(frozen=True, slots=True)
class Text:
    """Literal template text, spaces included as written: " minute" then "s" glue into one word."""

    text: str


@dataclass(frozen=True, slots=True)
class Alternatives:
    """One of the items; ``[optional]`` is the alternatives of the item and an empty :class:`Text`."""

    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Permutation:
    """All the items, in any order (``(a;b)``)."""

    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Sequence:
    """The items one after another."""

    items: tuple[Node, ...]
    """As written: what counting, expanding and sampling follow."""
    glued: tuple[Node, ...]
    """What reading words follows (the vocabulary, the fuzzy graph): the items, with each run of them that no
    space separates and that spells a few fixed texts ("minute" + "[s]") replaced by the :class:`Alternatives`
    of those texts, so the words are "minute" and "minutes", not "minute" and "s"; items that spell nothing
    are left out."""


@dataclass(frozen=True, slots=True)
class Choice:
    """One value of a phrase list: how it may be said, and the value the handler gets."""

    said: Node
    value: Any


@dataclass(frozen=True, slots=True)
class Phrases:
    """A list of values, each said one or more ways."""

    choices: tuple[Choice, ...]


@dataclass(frozen=True, slots=True)
class Numbers:
    """A number range (a ``Range`` list or an inline ``{1-10:slot}``); the value is the number × ``multiplier``."""

    start: int
    stop: int
    step: int
    multiplier: float | None = None

    @property
    def values(self) -> range:
        return range(self.start, self.stop + 1, self.step)


@dataclass(frozen=True, slots=True)
class FreeText:
    """Any words (a Wildcard list); ``examples`` (lowercase) are the ones to offer the recognizer and to show."""

    examples: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Slot:
    """A ``{list}`` or ``{list:slot}`` reference with the values it can take."""

    name: str
    """The slot the value lands in."""
    values: Phrases | Numbers | FreeText


Node = Text | Alternatives | Permutation | Sequence | Slot


class UnknownReference(Exception):
    """A template names a list or rule the plugin does not declare (the message says which)."""


@dataclass
class TreeBuilder:
    """Converts one plugin's hassil expressions, resolving each rule and each list once for all its templates."""

    lists: Mapping[str, SlotList]
    rules: Mapping[str, Sentence]
    wildcards: Mapping[str, Wildcard]
    _done: dict[str, Any] = field(default_factory=dict)
    """Rules (``<name>``) and lists (``{name}``) converted so far."""
    _open: set[str] = field(default_factory=set)
    """The ones being converted."""

    def template(self, expression: Expression) -> Node:
        """The tree of one template; :class:`UnknownReference` names the first undeclared list or rule."""
        return self._node(expression)

    def _node(self, expr: Expression) -> Node:
        if isinstance(expr, TextChunk):
            return Text(expr.text)
        if isinstance(expr, Alternative):
            return Alternatives(self._items(expr.items))
        if isinstance(expr, HassilPermutation):
            return Permutation(self._items(expr.items))
        if isinstance(expr, HassilSequence):
            items = self._items(expr.items)
            return Sequence(items, _glue(items))
        if isinstance(expr, RuleReference):
            return self._rule(expr.rule_name)
        if isinstance(expr, ListReference):
            return Slot(expr.slot_name, self._values(expr))
        raise TypeError(f"unknown template expression {expr!r}")

    def _items(self, expressions: list[Expression]) -> tuple[Node, ...]:
        return tuple(self._node(e) for e in expressions)

    def _rule(self, name: str) -> Node:
        if name not in self.rules:
            raise UnknownReference(f"no rule named <{name}>; declare it in Plugin(rules=...)")
        loop = "template rules refer to each other in a loop"
        return self._once(f"<{name}>", lambda: self._node(self.rules[name].expression), loop)

    def _values(self, ref: ListReference) -> Phrases | Numbers | FreeText:
        inline = ref.get_inline_range()
        if inline is not None:
            return Numbers(*inline)
        if ref.list_name not in self.lists:
            raise UnknownReference(f"no slot list named {{{ref.list_name}}}; declare it in Plugin(lists=...)")
        loop = f"slot list {{{ref.list_name}}} refers to itself through its values"
        return self._once(f"{{{ref.list_name}}}", lambda: self._list(ref.list_name), loop)

    def _list(self, name: str) -> Phrases | Numbers | FreeText:
        slot_list = self.lists[name]
        if isinstance(slot_list, RangeSlotList):
            return Numbers(slot_list.start, slot_list.stop, slot_list.step, slot_list.multiplier)
        if isinstance(slot_list, WildcardSlotList):
            return FreeText(tuple(text.lower() for text in self.wildcards.get(name, Wildcard()).examples))
        if isinstance(slot_list, TextSlotList):
            return Phrases(tuple(Choice(self._node(v.text_in), v.value_out) for v in slot_list.values))
        raise TypeError(f"unsupported slot list {slot_list!r}")

    def _once(self, key: str, convert: Callable[[], Any], loop: str) -> Any:
        """The rule or list ``key``, converted on first use; one that reaches itself raises ``loop``, not a hang."""
        if key not in self._done:
            if key in self._open:
                raise PluginError(loop)
            self._open.add(key)
            try:
                self._done[key] = convert()
            finally:
                self._open.discard(key)
        return self._done[key]


def walk(node: Node) -> Iterator[Node]:
    """``node`` and every node under it, in template order, not into slot values."""
    yield node
    if isinstance(node, (Alternatives, Permutation, Sequence)):
        for item in node.items:
            yield from walk(item)


def spellings(node: Node) -> list[str] | None:
    """Every text a node spells (duplicates kept), or None when it holds a slot or a permutation or spells
    more than ``MAX_SPELLINGS`` texts: it then does not spell a few fixed strings."""
    if isinstance(node, Text):
        return [node.text]
    if isinstance(node, Alternatives):
        out: list[str] = []
        for item in node.items:
            spelled = spellings(item)
            if spelled is None:
                return None
            out += spelled
        return out
    if isinstance(node, Sequence):
        return _spell_run(node.items)
    return None


def _spell_run(items: tuple[Node, ...] | list[Node]) -> list[str] | None:
    """Every text the items spell one after another (see :func:`spellings`)."""
    out = [""]
    for item in items:
        spelled = spellings(item)
        if spelled is None:
            return None
        out = [a + b for a, b in itertools.product(out, spelled)]
        if len(out) > MAX_SPELLINGS:
            return None
    return out


def _edges(node: Node) -> tuple[bool, bool] | None:
    """Whether a node starts/ends with a letter (may glue to its neighbour); None if it spells nothing."""
    if isinstance(node, Text):
        return (not node.text[0].isspace(), not node.text[-1].isspace()) if node.text else None
    if isinstance(node, Slot):
        return (True, True)
    if isinstance(node, Permutation):
        return (False, False)
    found = [e for e in map(_edges, node.items) if e is not None]
    if not found:
        return None
    if isinstance(node, Alternatives):
        return (any(e[0] for e in found), any(e[1] for e in found))
    return (found[0][0], found[-1][1])


def _glue(items: tuple[Node, ...]) -> tuple[Node, ...]:
    """:attr:`Sequence.glued` of ``items``."""
    runs: list[list[Node]] = []
    ends_with_letter = False
    for item in items:
        edges = _edges(item)
        if edges is None:
            continue
        if runs and ends_with_letter and edges[0]:
            runs[-1].append(item)
        else:
            runs.append([item])
        ends_with_letter = edges[1]
    glued: list[Node] = []
    for run in runs:
        spelled = _spell_run(run) if len(run) > 1 else None
        if spelled is None:
            glued += run
        else:
            glued.append(Alternatives(tuple(Text(text) for text in dict.fromkeys(spelled))))
    return tuple(glued)
