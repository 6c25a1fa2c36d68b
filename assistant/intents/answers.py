"""A follow-up question's answer, parsed against the slot the question expects.

"For how long?" expects a duration: "ten minutes", "for ten minutes" and "make
it ten minutes" all give ``{"minutes": 10}``; "purple" gives nothing, so the
asking handler never gets a value the user did not say. The answer is matched
like a command (exactly, then fuzzily above ``intents.fuzzy_threshold``) by a
tiny intent made for the question: the expected slot list alone, with a few
filler words around it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from assistant.intents.engine import IntentEngine
from assistant.intents.loader import LoadedPlugin
from assistant.intents.plugin import Plugin, PluginError, SlotValues
from assistant.intents.templates import compile_plugin

ANSWER_SLOT = "answer"
"""Where the value of an ad-hoc expected list (values given to ``ask``, not a list name) lands in ``slots``."""

_RULES = {
    "lead": "(for|about|in|it's|it is|make it|just|the|a|an|um|uh|oh|well|maybe|i said)",
    "tail": "(one|please|timer|then|thanks|thank you|the timer)",
}
_TEMPLATE = "[<lead>] [<lead>] {%s} [<tail>]"


class Expectation:
    """The slot one question expects, ready to parse answers with."""

    def __init__(self, plugin: Plugin, expect: str | SlotValues, config: dict[str, Any], *, areas: Iterable[str] = (), fuzzy_threshold: float = 0.75) -> None:
        """``expect``: the name of one of ``plugin``'s slot lists, or the values themselves.
        :class:`PluginError` when the name is not one of the plugin's lists."""
        if isinstance(expect, str):
            if expect not in plugin.lists:
                raise PluginError(f"ask(expect={expect!r}): plugin {plugin.name!r} has no slot list of that name; its lists: {sorted(plugin.lists)}")
            slot, values = expect, plugin.lists[expect]
        else:
            slot, values = ANSWER_SLOT, expect
        answer = Plugin(name=plugin.name, lists={slot: values}, rules=dict(_RULES))
        answer.intent("Answer", _TEMPLATE % slot)(lambda req: "")
        compiled = compile_plugin(answer, config, areas)
        self._engine = IntentEngine([LoadedPlugin(answer, f"the answer to a question of {plugin.name}", config, compiled)], fuzzy_threshold=fuzzy_threshold)

    def parse(self, text: str, alternatives: Sequence[str] = ()) -> dict[str, Any] | None:
        """The answer's typed slots, or None when ``text`` (and every alternative reading) is not such an answer."""
        match = self._engine.recognize(text, alternatives)
        return match.slots if match is not None and match.slots else None
