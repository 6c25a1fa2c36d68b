"""Intents: templates and plugins in, recognised intents and spoken replies out.

- :class:`Plugin` (+ :class:`Range`, :class:`Duration`, :class:`Wildcard`, :class:`Request`,
  :class:`Reply`) is what plugin authors use; see :mod:`assistant.intents.plugin`.
- :class:`IntentEngine` recognises text (hassil exact match, then fuzzy).
- :class:`Dispatcher` runs handlers safely and returns a :class:`Turn`.
"""

from assistant.intents.dispatcher import Dispatcher, Turn
from assistant.intents.engine import IntentEngine, IntentInfo, IntentMatch, LoadedPlugin
from assistant.intents.plugin import Duration, Plugin, PluginError, Range, Reply, Request, Wildcard

__all__ = [
    "Dispatcher",
    "Duration",
    "IntentEngine",
    "IntentInfo",
    "IntentMatch",
    "LoadedPlugin",
    "Plugin",
    "PluginError",
    "Range",
    "Reply",
    "Request",
    "Turn",
    "Wildcard",
]
