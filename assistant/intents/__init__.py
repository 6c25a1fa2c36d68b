"""Intents: templates and plugins in, recognised intents and spoken replies out.

- :class:`Plugin` (+ :class:`Range`, :class:`Duration`, :class:`Wildcard`, :class:`Area`, :class:`Request`,
  :class:`Reply`, :class:`Job`, :class:`Skill`, and :mod:`say <assistant.intents.say>` for replies) is all
  a plugin author imports; see :mod:`assistant.intents.plugin`. The built-in skills (``intents/``) use
  nothing else.
- :class:`IntentEngine` recognises text (hassil exact match, then fuzzy).
- :class:`Dispatcher` runs handlers safely and returns a :class:`Turn`; each device talks to it through a :class:`Session`.
"""

from assistant.intents import say
from assistant.intents.dispatcher import Dispatcher, Session, Turn
from assistant.intents.engine import IntentEngine, IntentInfo, IntentMatch, LoadedPlugin
from assistant.intents.jobs import Job
from assistant.intents.plugin import Area, Duration, Plugin, PluginError, Range, Reply, Request, Skill, Wildcard

__all__ = [
    "Area",
    "Dispatcher",
    "Duration",
    "IntentEngine",
    "IntentInfo",
    "IntentMatch",
    "Job",
    "LoadedPlugin",
    "Plugin",
    "PluginError",
    "Range",
    "Reply",
    "Request",
    "Session",
    "Skill",
    "Turn",
    "Wildcard",
    "say",
]
