"""Intents: templates and plugins in, recognised intents and spoken replies out.

- :class:`Plugin` (+ :class:`Range`, :class:`Duration`, :class:`Wildcard`, :class:`Request`,
  :class:`Reply`) is what plugin authors use; see :mod:`assistant.intents.plugin`.
- :class:`IntentEngine` recognises text (hassil exact match, then fuzzy).
- :class:`Dispatcher` runs handlers safely and returns a :class:`Turn`; each device talks to it through a :class:`Session`.
"""

from assistant.intents.dispatcher import Dispatcher, Session, Turn
from assistant.intents.engine import IntentEngine, IntentInfo, IntentMatch, LoadedPlugin
from assistant.intents.plugin import Area, Duration, Plugin, PluginError, Range, Reply, Request, Wildcard

__all__ = [
    "Area",
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
    "Session",
    "Turn",
    "Wildcard",
]
