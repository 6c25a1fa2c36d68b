"""The template trees: rules and lists resolved once, glued word parts, errors at compile time, one reader of hassil."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from assistant.intents.loader import LoadedPlugin
from assistant.intents.engine import IntentEngine
from assistant.intents.plugin import Plugin, PluginError, Wildcard
from assistant.intents.template_tree import Alternatives, FreeText, Numbers, Phrases, Sequence, Slot, Text, walk
from assistant.intents.templates import compile_plugin
from assistant.intents.vocab import examples, sentence_count, slot_names
from assistant.intents.word_graph import WORD, WordGraph

_HASSIL_EXPRESSIONS = {"Alternative", "Group", "ListReference", "Permutation", "RuleReference", "Sequence"}


def _plugin(*templates: str, lists: dict | None = None, rules: dict | None = None) -> Plugin:
    plugin = Plugin(name="test", lists=lists or {}, rules=rules or {})
    plugin.intent("Test", *templates)(lambda req: "")
    return plugin


def test_a_rule_used_twice_is_one_shared_node_and_lists_hold_their_values() -> None:
    plugin = _plugin("<go> {color}", "<go> now {name}", lists={"color": {"dark blue": "blue"}, "name": Wildcard(("Big One",))}, rules={"go": "(go|run)"})
    first, second = compile_plugin(plugin, {})[0].templates
    rule_nodes = [n for n in walk(first) if isinstance(n, Alternatives)]
    assert rule_nodes and any(n is m for n in rule_nodes for m in walk(second))
    slots = {n.name: n.values for t in (first, second) for n in walk(t) if isinstance(n, Slot)}
    assert isinstance(slots["color"], Phrases) and slots["color"].choices[0].value == "blue"
    assert slots["name"] == FreeText(("big one",))


def test_glued_parts_are_read_as_whole_words() -> None:
    (tree,) = compile_plugin(_plugin("wait a minute[s]"), {})[0].templates
    assert isinstance(tree, Sequence)
    assert tree.glued[-1] == Alternatives((Text("minutes"), Text("minute")))
    graph = WordGraph("Test", (tree,))
    assert {arc.label for arcs in graph.arcs for arc in arcs if arc.kind == WORD} == {"wait", "a", "minute", "minutes"}


def test_an_inline_range_is_a_number_range_everywhere() -> None:
    (intent,) = compile_plugin(_plugin("order {1..3:n} items"), {})
    slot = next(n for n in walk(intent.templates[0]) if isinstance(n, Slot))
    assert slot.values == Numbers(1, 3, 1)
    assert sentence_count(intent) == 3
    assert slot_names(intent) == ("n",)
    engine = IntentEngine([LoadedPlugin(_plugin("order {1..3:n} items"), "test", {}, [intent])])
    (example,) = examples(intent, 1)
    assert engine.recognize(example) is not None  # not "order pizza items"


@pytest.mark.parametrize(
    ("templates", "rules", "message"),
    [
        (("say {nothing}",), {}, "intent 'Test', template 'say {nothing}': no slot list named {nothing}"),
        (("say <nothing>",), {}, "intent 'Test', template 'say <nothing>': no rule named <nothing>"),
        (("say <a>",), {"a": "x <b>", "b": "y <a>"}, "template rules refer to each other in a loop"),
    ],
)
def test_undeclared_and_looping_references_fail_at_compile_time(templates: tuple[str, ...], rules: dict, message: str) -> None:
    with pytest.raises(PluginError, match=message.replace("{", r"\{").replace("}", r"\}")):
        compile_plugin(_plugin(*templates, rules=rules), {})


def test_only_the_tree_module_reads_hassil_expressions() -> None:
    package = Path(__file__).resolve().parent.parent / "assistant" / "intents"
    readers = set()
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("hassil"):
                if {a.name for a in node.names} & _HASSIL_EXPRESSIONS:
                    readers.add(path.name)
    assert readers == {"template_tree.py"}
