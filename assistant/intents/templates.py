"""Compile plugin declarations into hassil intents, and the same templates into trees.

hassil's data is what the exact matcher reads; everything else (vocabulary,
examples, the fuzzy matcher) reads the trees of
:mod:`assistant.intents.template_tree`, built here once per plugin.

Everything a template can match is normalised here once (the same way the
recognizer text is normalised per query), so hassil compares like with like.
Durations are not a hassil list type: a ``{duration}`` reference is rewritten
into a small grammar whose number parts land in ``<slot>__h``/``__m``/``__s``
sub-slots, which :mod:`assistant.intents.slots` folds back into seconds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hassil import (
    Expression,
    IntentData,
    RangeSlotList,
    Sentence,
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
from assistant.intents.template_tree import Node, TreeBuilder, UnknownReference

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
    """One intent ready for matching: its hassil data (for the exact matcher), the same templates as trees
    (for everything else) and what typing the slots needs."""

    name: str
    plugin: str
    spec: IntentSpec
    data: IntentData
    templates: tuple[Node, ...]
    """Every template, complete then incomplete, with its rules and lists resolved: what the vocabulary,
    the examples and the fuzzy matcher read."""
    durations: dict[str, Duration] = field(default_factory=dict)
    """Slot name → the Duration it was declared with (its parts are folded into it)."""
    incomplete: IntentData | None = None
    """The spec's ``incomplete`` templates: matched like ``data``, reported with ``INCOMPLETE`` metadata."""


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
    tree_builder = TreeBuilder(lists, rules, wildcards)
    compiled = []
    for spec in plugin.intents:
        slot_durations = dict(rule_durations)
        blocks = []
        trees: list[Node] = []
        for written, metadata in ((spec.templates, None), (spec.incomplete, INCOMPLETE)):
            texts: list[str] = []
            for template in written:
                text, used = _expand_durations(normalize_template(template), durations)
                texts.append(text)
                slot_durations.update(used)
            data = IntentData(sentence_texts=texts, slot_lists=lists, expansion_rules=rules, wildcard_list_names=set(wildcards), metadata=metadata)
            try:
                sentences = data.sentences
            except (HassilError, ParseError) as exc:
                raise PluginError(f"intent {spec.name!r} has a template hassil cannot parse: {exc}", spec.source, spec.line) from None
            for sentence in sentences:
                try:
                    trees.append(tree_builder.template(sentence.expression))
                except UnknownReference as exc:
                    raise PluginError(f"intent {spec.name!r}, template {sentence.text!r}: {exc}", spec.source, spec.line) from None
            blocks.append(data if texts else None)
        compiled.append(CompiledIntent(spec.name, plugin.name or "", spec, blocks[0], tuple(trees), slot_durations, blocks[1]))
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
