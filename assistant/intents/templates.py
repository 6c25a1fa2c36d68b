"""Compile plugin declarations into hassil intents.

Everything a template can match is normalised here once (the same way the
recognizer text is normalised per query), so hassil compares like with like.
Durations are not a hassil list type: a ``{duration}`` reference is rewritten
into a small grammar whose number parts land in ``<slot>__h``/``__m``/``__s``
sub-slots, which :mod:`assistant.intents.slots` folds back into seconds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from hassil import (
    Alternative,
    Expression,
    Group,
    IntentData,
    ListReference,
    Permutation,
    RangeSlotList,
    RuleReference,
    Sentence,
    Sequence,
    SlotList,
    TextChunk,
    TextSlotList,
    TextSlotValue,
    WildcardSlotList,
    parse_sentence,
)
from hassil.errors import HassilError
from hassil.parser import ParseError

from assistant.intents.normalize import normalize, normalize_template
from assistant.intents.plugin import Area, Duration, IntentSpec, Plugin, PluginError, Range, Wildcard

MAX_DURATION_COUNT = 999
INCOMPLETE = {"incomplete": True}
"""The hassil metadata of an intent's ``incomplete`` templates."""

_DURATION_LISTS: dict[str, Any] = {
    "_dur_count": Range(1, MAX_DURATION_COUNT),
    "_dur_half": {"and a half": 0.5},
    "_dur_hours": {
        "an hour": 1.0, "half an hour": 0.5, "a half hour": 0.5, "half hour": 0.5, "an hour and a half": 1.5,
        "a quarter of an hour": 0.25, "quarter of an hour": 0.25, "a quarter hour": 0.25,
        "three quarters of an hour": 0.75,
    },
    "_dur_minutes": {"a minute": 1.0, "half a minute": 0.5, "a half minute": 0.5, "a minute and a half": 1.5},
    "_dur_seconds": {"a second": 1.0},
}  # fmt: skip


def duration_template(slot: str) -> str:
    """The template a ``{slot}`` of type Duration stands for."""
    h = f"({{_dur_count:{slot}__h}} [{{_dur_half:{slot}__hh}}] hour[s]|{{_dur_hours:{slot}__hx}})"
    m = f"({{_dur_count:{slot}__m}} [{{_dur_half:{slot}__mh}}] minute[s]|{{_dur_minutes:{slot}__mx}})"
    s = f"({{_dur_count:{slot}__s}} second[s]|{{_dur_seconds:{slot}__sx}})"
    return f"({h} [[and] {m}] [[and] {s}]|{m} [[and] {s}]|{s})"


@dataclass
class CompiledIntent:
    """One intent ready for matching: its hassil data plus what typing the slots needs."""

    name: str
    plugin: str
    spec: IntentSpec
    data: IntentData
    durations: dict[str, Duration] = field(default_factory=dict)
    """Slot name → the Duration it was declared with (its parts are folded into it)."""
    wildcards: dict[str, Wildcard] = field(default_factory=dict)
    """List name → Wildcard, for examples and vocabulary."""
    incomplete: IntentData | None = None
    """The spec's ``incomplete`` templates: matched like ``data``, reported with ``INCOMPLETE`` metadata."""

    @property
    def sentences(self) -> list[Sentence]:
        """Every template, complete or not."""
        return self.data.sentences + (self.incomplete.sentences if self.incomplete is not None else [])

    @property
    def slot_lists(self) -> dict[str, SlotList]:
        return self.data.slot_lists

    @property
    def rules(self) -> dict[str, Sentence]:
        return self.data.expansion_rules


def compile_plugin(plugin: Plugin, config: dict[str, Any], areas: Iterable[str] = ()) -> list[CompiledIntent]:
    """Turn a plugin's declarations into hassil intent data; PluginError says what is wrong and where.

    ``areas``: the values of :class:`Area` lists (``assistant.areas``).
    """
    first = plugin.intents[0] if plugin.intents else None
    where = (first.source, first.line) if first else (None, None)
    lists, durations, wildcards = _resolve_lists(plugin, config, tuple(areas), where)
    rule_durations: dict[str, Duration] = {}
    rules: dict[str, Sentence] = {}
    for name, body in plugin.rules.items():
        text, used = _expand_durations(normalize_template(body), durations)
        rule_durations.update(used)
        try:
            rules[name] = parse_sentence(text, keep_text=True)
        except (HassilError, ParseError) as exc:
            raise PluginError(f"rule <{name}> of plugin {plugin.name!r} is not a valid template: {exc}", *where) from None
    compiled = []
    for spec in plugin.intents:
        slot_durations = dict(rule_durations)
        blocks = []
        for templates, metadata in ((spec.templates, None), (spec.incomplete, INCOMPLETE)):
            texts: list[str] = []
            for template in templates:
                text, used = _expand_durations(normalize_template(template), durations)
                texts.append(text)
                slot_durations.update(used)
            data = IntentData(sentence_texts=texts, slot_lists=lists, expansion_rules=rules, wildcard_list_names=set(wildcards), metadata=metadata)
            try:
                sentences = data.sentences
            except (HassilError, ParseError) as exc:
                raise PluginError(f"intent {spec.name!r} has a template hassil cannot parse: {exc}", spec.source, spec.line) from None
            for sentence in sentences:
                _check_references(sentence.expression, lists, rules, spec, sentence.text)
            blocks.append(data if texts else None)
        compiled.append(CompiledIntent(spec.name, plugin.name or "", spec, blocks[0], slot_durations, wildcards, blocks[1]))
    return compiled


def _resolve_lists(
    plugin: Plugin, config: dict[str, Any], areas: tuple[str, ...], where: tuple[str | None, int | None]
) -> tuple[dict[str, SlotList], dict[str, Duration], dict[str, Wildcard]]:
    """hassil slot lists from the declarations (calling the ones computed from config); durations and wildcards aside."""
    lists: dict[str, SlotList] = {}
    durations: dict[str, Duration] = {}
    wildcards: dict[str, Wildcard] = {}
    for list_name, source in {**_DURATION_LISTS, **plugin.lists}.items():
        values = source(config) if callable(source) else source
        if isinstance(values, Duration):
            durations[list_name] = values
        elif isinstance(values, Wildcard):
            wildcards[list_name] = values
            lists[list_name] = WildcardSlotList(name=list_name)
        elif isinstance(values, Area):
            lists[list_name] = _slot_list(list_name, {area: normalize(area) for area in areas}, where)
        else:
            lists[list_name] = _slot_list(list_name, values, where)
    return lists, durations, wildcards


def walk(expression: Expression, rules: Mapping[str, Sentence], depth: int = 0) -> Iterator[Expression]:
    """Every expression under ``expression``, rules followed."""
    if depth > 32:
        raise PluginError("template rules refer to each other in a loop")
    yield expression
    if isinstance(expression, Group):
        for item in expression.items:
            yield from walk(item, rules, depth)
    elif isinstance(expression, RuleReference) and expression.rule_name in rules:
        yield from walk(rules[expression.rule_name].expression, rules, depth + 1)


def _check_references(expression: Expression, lists: Mapping[str, SlotList], rules: Mapping[str, Sentence], spec: IntentSpec, template: str | None) -> None:
    what = f"intent {spec.name!r}, template {template!r}"
    for item in walk(expression, rules):
        if isinstance(item, ListReference) and item.list_name not in lists and not item.is_inline_range:
            raise PluginError(f"{what}: no slot list named {{{item.list_name}}}; declare it in Plugin(lists=...)", spec.source, spec.line)
        if isinstance(item, RuleReference) and item.rule_name not in rules:
            raise PluginError(f"{what}: no rule named <{item.rule_name}>; declare it in Plugin(rules=...)", spec.source, spec.line)


def _slot_list(name: str, values: Any, where: tuple[str | None, int | None]) -> SlotList:
    if isinstance(values, Range):
        return RangeSlotList(name=name, start=values.start, stop=values.stop, step=values.step, words_language="en")
    if isinstance(values, Mapping):
        pairs = list(values.items())
    elif isinstance(values, (list, tuple)):
        pairs = [(value, value) for value in values]
    else:
        raise PluginError(f"slot list {{{name}}} must be a list, a dict of synonym -> value, Range, Duration or Wildcard, not {type(values).__name__}", *where)
    try:
        return TextSlotList(name=name, values=[TextSlotValue(text_in=_value_expression(str(said)), value_out=value) for said, value in pairs])
    except (HassilError, ParseError) as exc:
        raise PluginError(f"a value of slot list {{{name}}} is not a valid template: {exc}", *where) from None


def _value_expression(said: str) -> Expression:
    normalised = normalize_template(said)
    if any(c in said for c in "()[]{}<>|;"):
        return parse_sentence(normalised).expression
    return TextChunk(normalize(said))


_LIST_REF = re.compile(r"\{([^}:]+)(?::([^}]+))?\}")


def _expand_durations(template: str, durations: Mapping[str, Duration]) -> tuple[str, dict[str, Duration]]:
    used: dict[str, Duration] = {}

    def replace(m: re.Match[str]) -> str:
        list_name, slot = m[1], m[2] or m[1]
        if list_name not in durations:
            return m.group()
        used[slot] = durations[list_name]
        return duration_template(slot)

    return _LIST_REF.sub(replace, template), used


MAX_SPELLINGS = 64


class NotText(Exception):
    """The expression contains a list or a permutation: it does not spell a few fixed strings."""


def _edges(expr: Expression, rules: Mapping[str, Sentence]) -> tuple[bool, bool] | None:
    """Whether an expression starts/ends with a letter (may glue to its neighbour); None if empty."""
    if isinstance(expr, TextChunk):
        text = expr.text
        return (not text[0].isspace(), not text[-1].isspace()) if text else None
    if isinstance(expr, ListReference):
        return (True, True)
    if isinstance(expr, RuleReference):
        return _edges(rules[expr.rule_name].expression, rules) if expr.rule_name in rules else None
    if isinstance(expr, Permutation):
        return (False, False)
    if isinstance(expr, Alternative):
        found = [e for e in (_edges(item, rules) for item in expr.items) if e is not None]
        return (any(e[0] for e in found), any(e[1] for e in found)) if found else None
    if isinstance(expr, Sequence):
        found = [e for e in (_edges(item, rules) for item in expr.items) if e is not None]
        return (found[0][0], found[-1][1]) if found else None
    return None


def glued_blocks(items: list[Expression], rules: Mapping[str, Sentence]) -> list[list[Expression]]:
    """Split a sequence where a space separates items; "minute" + "[s]" stay one block (one word)."""
    blocks: list[list[Expression]] = []
    ends_with_letter = False
    for item in items:
        edges = _edges(item, rules)
        if edges is None:
            continue
        if blocks and ends_with_letter and edges[0]:
            blocks[-1].append(item)
        else:
            blocks.append([item])
        ends_with_letter = edges[1]
    return blocks


def spellings(expr: Expression, rules: Mapping[str, Sentence]) -> list[str]:
    """Every text a list-free expression spells (for glued word parts and list values)."""
    if isinstance(expr, TextChunk):
        return [expr.text]
    if isinstance(expr, Alternative):
        return [s for item in expr.items for s in spellings(item, rules)]
    if isinstance(expr, Sequence):
        out = [""]
        for item in expr.items:
            out = [a + b for a in out for b in spellings(item, rules)]
            if len(out) > MAX_SPELLINGS:
                raise NotText
        return out
    if isinstance(expr, RuleReference) and expr.rule_name in rules:
        return spellings(rules[expr.rule_name].expression, rules)
    raise NotText
