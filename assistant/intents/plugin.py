"""What a plugin author writes: one ``Plugin`` per module, intents declared on it.

A complete plugin, in ``intents/greet.py``::

    from assistant.intents import Plugin

    plugin = Plugin(description="greet people", lists={"person": {"mum": "mother", "mom": "mother", "dad": "father"}})

    @plugin.intent("Greet", "say hello to [my] {person}", "greet [my] {person}")
    def greet(req):
        return f"Hello, {req.slots['person']}!"

Templates use hassil syntax: ``(a|b)`` alternatives, ``[optional]`` words,
``(a;b)`` any order, ``{list}`` slots (``{list:slot}`` to rename the slot),
``<rule>`` for the plugin's named snippets. Slot lists are a list of values,
a dict of synonym → canonical value, :class:`Range`, :class:`Duration`,
:class:`Wildcard`, :class:`Area`, or a function of the plugin's config section
returning one of those (for lists the user configures, like the app launcher's apps).

The handler gets a :class:`Request` and returns the reply text or a
:class:`Reply` (:mod:`assistant.intents.say` says lengths of time and lists as the built-in skills do). Plugins are on unless ``enabled=False`` (then ``intents.enable``
in the config or ``--intents NAME`` switches them on); their settings live in
``plugins.<name>`` in config.yaml, merged over the ``config`` defaults given here.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, Union

if TYPE_CHECKING:
    from assistant.intents.engine import IntentMatch
    from assistant.intents.jobs import Job


@dataclass(frozen=True)
class Range:
    """Whole numbers ``start``..``stop`` said as words or digits; the slot value is an ``int``."""

    start: int
    stop: int
    step: int = 1


@dataclass(frozen=True)
class Duration:
    """A spoken length of time: "five minutes", "an hour and a half", "1 hour 30 minutes".

    The slot value is the total in whole seconds. With ``split=True`` the slot is
    replaced by Home Assistant's ``hours``/``minutes``/``seconds`` integer slots
    (only the non-zero ones), which is what the timer intents carry; a string
    splits with that prefix (``split="start_"`` → ``start_hours``, ...).
    """

    split: bool | str = False

    def units(self) -> tuple[str, str, str] | None:
        """The names of the split slots, or None for one slot in seconds."""
        if self.split is False:
            return None
        prefix = "" if self.split is True else self.split
        return (f"{prefix}hours", f"{prefix}minutes", f"{prefix}seconds")


@dataclass(frozen=True)
class Wildcard:
    """Any words (a timer's name). The value is the words as heard.

    A recognizer restricted to the plugin's vocabulary cannot produce free text,
    so ``examples`` are added to the vocabulary to make the common ones possible.
    """

    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class Area:
    """The areas (rooms) commands can name: ``assistant.areas``. The value is the area's name.

    A command with an ``area`` slot ("pause the music in the living room") is
    carried out by a device in that area (see :mod:`assistant.conversations`),
    or answered with "I have no device in the living room."
    """


SlotValues = Union[list[str], tuple[str, ...], Mapping[str, Any], Range, Duration, Wildcard, Area]
SlotSource = Union[SlotValues, Callable[[dict[str, Any]], SlotValues]]


@dataclass
class Reply:
    """A handler's answer: what to say, optional data for programs, optional follow-up."""

    text: str
    data: dict[str, Any] | None = None
    then: Handler | None = None
    """Set by :meth:`Request.ask`: the next utterance (heard without the wake word) goes here."""
    expect: str | SlotValues | None = None
    """Set by :meth:`Request.ask`: what the answer must be (see there)."""


class Handler(Protocol):
    def __call__(self, req: Request, /) -> str | Reply: ...


class Scheduler(Protocol):
    """Later actions for one plugin on one device. ``action()`` runs on a thread of its own, holding the
    plugin's lock for that device; the text it returns is spoken on the device the request came from."""

    def call_later(self, seconds: float, action: Callable[[], str | None], *, alarm: bool = False, label: str | None = None) -> Job:
        """``alarm``: the text rings (a chime and the text, again and again) until the user says "stop".

        ``label``: what the page's hub view calls it ("pizza timer"; default the plugin's name). The hub view
        can cancel it: the action then never runs and ``job.cancelled`` is set, so a plugin that keeps its
        jobs in its state should treat a cancelled one as gone."""
        ...

    def now(self) -> float: ...


@dataclass(frozen=True)
class Skill:
    """A loaded plugin as another plugin may talk about it ("I can set timers and tell the time")."""

    name: str
    description: str
    """What it lets the user do ("set timers"); empty for a plugin that keeps quiet about itself."""
    examples: tuple[str, ...] = ()
    """Commands to say, from its intents' ``examples``."""


@dataclass
class Request:
    """Everything a handler gets for one utterance."""

    intent: IntentMatch | None
    """What was recognised; ``None`` for a follow-up answer nothing matched."""
    text: str
    """The raw text as the recognizer wrote it."""
    config: dict[str, Any]
    """This plugin's settings: ``plugins.<name>`` over the plugin's defaults."""
    log: logging.Logger
    scheduler: Scheduler
    state: Any
    """Survives between utterances (and is seen by scheduled actions) for this plugin on this device: what the
    plugin's ``state`` factory made (a dict unless it says otherwise)."""
    skills: tuple[Skill, ...] = ()
    """Every loaded plugin, in load order (the help intent lists them)."""
    device: str = ""
    """The id of the device the request came from (the local microphone, a satellite, an HTTP caller)."""

    @property
    def slots(self) -> dict[str, Any]:
        return self.intent.slots if self.intent is not None else {}

    def duration(self, prefix: str = "") -> int:
        """The length of time a :class:`Duration` slot with ``split`` holds, in whole seconds (0 when none was said);
        ``prefix``: the ``split`` string ("start_")."""
        return sum(int(self.slots.get(f"{prefix}{unit}", 0)) * factor for unit, factor in (("hours", 3600), ("minutes", 60), ("seconds", 1)))

    def ask(self, question: str, then: Handler, data: dict[str, Any] | None = None, *, expect: str | SlotValues | None = None) -> Reply:
        """Say ``question`` and hand the answer (the next utterance, no wake word needed) to ``then``.

        ``expect`` says what the answer is: the name of one of the plugin's slot lists ("duration"), or
        values given here (a dict of spoken form → value, a list, :class:`Range`, :class:`Duration`). The
        answer is matched against it alone or with a few filler words ("for ten minutes", "the pizza one"),
        and ``then`` gets a request whose ``slots`` are this request's plus the answer's, typed as any slot
        (an ad-hoc list's value lands in ``slots["answer"]``). An answer that does not fit is not handed
        over: the user hears that it was not understood, or, if it is a whole command, that command is
        carried out. Without ``expect`` the raw answer goes to ``then`` (``req.text``, ``req.intent``).
        """
        return Reply(question, data=data, then=then, expect=expect)


@dataclass
class IntentSpec:
    """One intent as declared: its templates and handler."""

    name: str
    templates: tuple[str, ...]
    handler: Handler
    description: str = ""
    examples: tuple[str, ...] = ()
    incomplete: tuple[str, ...] = ()
    """Templates of the command said without something its handler then asks for ("set a timer")."""
    source: str = ""
    line: int | None = None
    """Where the intent is declared, for error messages."""


class PluginError(Exception):
    """A plugin's declaration is wrong (bad template, unknown list); the plugin is skipped."""

    def __init__(self, message: str, source: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.source = source
        self.line = line

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}: " if self.source and self.line else f"{self.source}: " if self.source else ""
        return where + self.message


@dataclass
class Plugin:
    """A skill: its intents, slot lists, template rules, default settings."""

    name: str | None = None
    """Defaults to the module's file name (``intents/timers.py`` → ``timers``)."""
    description: str = ""
    """What it lets the user do, said by the help intent: "I can ... set timers, ..."."""
    enabled: bool = True
    lists: dict[str, SlotSource] = field(default_factory=dict)
    rules: dict[str, str] = field(default_factory=dict)
    """Named template snippets, used as ``<name>`` in templates."""
    config: dict[str, Any] = field(default_factory=dict)
    """Default settings; the user's ``plugins.<name>`` section is merged over them."""
    check: Callable[[dict[str, Any]], None] | None = None
    """Validates the merged settings when the plugin loads: raise :class:`PluginError` saying what to fix (the
    plugin is then skipped with that message), so a wrong setting shows at start, not on the first command."""
    state: Callable[[], Any] = dict
    """Makes this plugin's state on a device, the first time it is used there (``req.state``): a dict by
    default, or any class (a dataclass of the plugin's own)."""
    intents: list[IntentSpec] = field(default_factory=list)

    def intent(
        self, name: str, *templates: str, description: str = "", examples: tuple[str, ...] = (), incomplete: tuple[str, ...] = ()
    ) -> Callable[[Handler], Handler]:
        """Decorator: the function handles intent ``name``, said as any of ``templates``.

        ``incomplete``: more templates, of the command said without something the handler then asks
        for ("set a timer" → "For how long?"). They match like the others, but a speaker who stops
        after one is given the whole silence to go on ("set a timer ... for ten minutes").
        """
        caller = sys._getframe(1)
        source, line = caller.f_code.co_filename, caller.f_lineno
        if not templates:
            raise PluginError(f"intent {name!r} needs at least one template", source, line)

        def register(handler: Handler) -> Handler:
            self.intents.append(IntentSpec(name, tuple(templates), handler, description, tuple(examples), tuple(incomplete), source, line))
            return handler

        return register
