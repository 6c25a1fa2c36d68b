"""Run the handler of the recognised intent, safely, and say something either way.

One :class:`Dispatcher` per process runs the handlers of every device; each
device talks to it through its own :class:`Session`, which holds that device's
plugin state, its pending follow-up question and its scheduled actions (the
owner of sessions is :mod:`assistant.conversations`). So a question asked of
the kitchen is answered only by the kitchen, and the office never sees the
kitchen's timers.

Handlers run on their own daemon thread with a timeout, so a slow or hung
plugin costs the user one apology, never the loop. A handler call and the
plugin's scheduled actions on the same device hold that plugin's lock for the
device, so plugin authors need not think about threads (a timer firing while
the user cancels it is serialised). A due action runs on a thread of its own,
never on the scheduler's, so a handler that hangs while holding its lock delays
only its own plugin's actions on that device, never another plugin's timers.

A device's scheduled actions (its running timers) can be listed and cancelled
from outside its turns (:meth:`Session.scheduled`, :meth:`Session.cancel`: the
page's hub view); ``changed`` tells the device's owner when that list changed.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from assistant.config import Config
from assistant.errors import AssistantError
from assistant.events import Error, Event, Intent, NoIntent
from assistant.intents.answers import Expectation
from assistant.intents.engine import IntentEngine, IntentMatch, LoadedPlugin
from assistant.intents.jobs import Job, JobThread
from assistant.intents.plugin import Handler, PluginError, Reply, Request, Skill, SlotValues

_log = logging.getLogger(__name__)

NOT_UNDERSTOOD = "Sorry, I didn't understand that."
NOT_AN_ANSWER = "Sorry, I didn't catch that."
FOLLOW_UP_SECONDS = 30.0
"""A follow-up question left unanswered this long no longer captures the next utterance."""
CANCEL_INTENT = "HassNevermind"
LOCK_WAIT_SECONDS = 60.0
"""A due action waits this long for its plugin's lock (held by a hung handler on the same device), then is dropped."""
CANCEL_WAIT_SECONDS = 5.0
"""A cancel from outside a turn waits this long for the plugin's lock (a handler is running), then gives up."""

Announce = Callable[[str, bool], None]
"""Where the text a scheduled action returns goes: ``announce(text, alarm)``."""


@dataclass
class Turn:
    """The result of handling one utterance."""

    text: str
    intent: IntentMatch | None
    reply: str
    data: dict[str, Any] | None = None
    follow_up: bool = False
    """The pipeline should listen once more without the wake word; the answer goes to the asking handler."""
    error: tuple[str, str] | None = None
    """(code, message) when a handler raised or timed out."""
    closest: float = 0.0
    """Without an intent: how close the best guess came (from the recognition pass that found none)."""

    def events(self) -> list[Event]:
        """What this turn reports, wherever it was heard (a microphone, a satellite, Home Assistant, HTTP):
        the ``intent``, or ``no_intent`` with how close the best guess came, and the handler's ``error``."""
        events: list[Event] = []
        if self.intent is not None:
            m = self.intent
            events.append(Intent(name=m.name, slots=m.slots, confidence=round(m.confidence, 4), text=m.text))
        else:
            events.append(NoIntent(text=self.text, confidence=round(self.closest, 4)))
        if self.error is not None:
            events.append(Error(code=self.error[0], message=self.error[1]))
        return events


Route = Callable[[IntentMatch], "Turn | None"]
"""Given a recognised command, carry it out elsewhere (another device) and return that turn; None: here."""


class PluginBusy(AssistantError):
    """A plugin's handler held its lock for longer than a cancel from outside may wait."""


@dataclass(frozen=True)
class Scheduled:
    """One action a device has due later (a running timer), as the page's hub view lists it."""

    job: Job
    plugin: str
    label: str
    """What the plugin calls it ("pizza timer"); the plugin's name when it gave none."""
    alarm: bool
    """It rings as an alarm when due."""


@dataclass
class _FollowUp:
    plugin: LoadedPlugin
    handler: Handler
    expires: float
    asked: IntentMatch | None
    """The request that asked: its slots go to the answer's handler too."""
    expect: Expectation | None
    """None: the raw answer goes to the handler."""


class _PluginScheduler:
    """What ``req.scheduler`` is: the process's scheduler, for one plugin on one device."""

    def __init__(self, session: Session, plugin: str) -> None:
        self._session = session
        self._plugin = plugin

    def call_later(self, seconds: float, action: Callable[[], str | None], *, alarm: bool = False, label: str | None = None) -> Job:
        return self._session._schedule(self._plugin, seconds, action, alarm, label or self._plugin)

    def now(self) -> float:
        return self._session.dispatcher.scheduler.now()


class Dispatcher:
    """Handlers, their timeout and the scheduler, shared by every device's :class:`Session`."""

    def __init__(self, engine: IntentEngine, config: Config, clock: Callable[[], float] = time.monotonic) -> None:
        self.engine = engine
        self.timeout = config.intents.handler_timeout_seconds
        self.clock = clock
        self.scheduler = JobThread(clock, name="intent-scheduler")
        self.abandoned_handlers = 0
        """Handler threads given up on after a timeout (they may still be running)."""
        self._areas = tuple(config.assistant.areas)
        self._expectations: dict[tuple[str, str], Expectation] = {}
        self._lock = threading.Lock()
        self.skills = tuple(
            Skill(p.name, p.plugin.description, tuple(e for i in p.intents for e in i.spec.examples)) for p in engine.plugins
        )
        """What handlers are told of the loaded plugins (``req.skills``)."""

    def session(self, device: str, announce: Announce, route: Route | None = None, changed: Callable[[], None] | None = None) -> Session:
        """A device's side of the dispatcher; ``announce`` gets what its scheduled actions say, ``changed`` is
        called (on any thread, holding no lock) when its scheduled actions were added, cancelled or run."""
        return Session(self, device, announce, route, changed)

    def close(self) -> None:
        self.scheduler.close()

    # -- running handlers --------------------------------------------------------------------------

    def _run(self, session: Session, plugin: LoadedPlugin, handler: Handler, match: IntentMatch | None, text: str) -> Turn:
        name = plugin.name
        intent = match.name if match else "follow-up"
        request = Request(
            intent=match,
            text=text,
            config=plugin.config,
            log=logging.getLogger(f"assistant.plugins.{name}"),
            scheduler=_PluginScheduler(session, name),
            state=session.state(name, plugin.plugin.state),
            skills=self.skills,
            device=session.device,
        )
        outcome: dict[str, Any] = {}
        finished = threading.Event()
        lock = session.lock(name)

        def work() -> None:
            before = session._job_ids()
            try:
                with lock:
                    outcome["result"] = handler(request)
            except Exception as exc:  # any plugin fault becomes an apology, never a dead loop
                outcome["error"] = exc
                outcome["trace"] = traceback.format_exc()
            finally:
                try:
                    if session._job_ids() != before:  # it set, cancelled or changed a timer: before the reply is out
                        session._changed()
                finally:
                    finished.set()

        threading.Thread(target=work, name=f"intent-{name}", daemon=True).start()
        if not finished.wait(self.timeout):
            self.abandoned_handlers += 1
            message = f"plugin {name}: {intent} did not answer within {self.timeout:g} s"
            _log.error("%s (abandoned; %d handler threads given up so far)", message, self.abandoned_handlers)
            return Turn(text, match, f"Sorry, {name} is taking too long to answer.", error=("handler_timeout", message))
        if "error" in outcome:
            exc = outcome["error"]
            message = f"plugin {name}: {intent} failed: {type(exc).__name__}: {exc}"
            _log.error("%s\n%s", message, outcome["trace"])
            return Turn(text, match, f"Sorry, something went wrong with {name}.", error=("handler_error", message))
        result = outcome["result"]
        if isinstance(result, str):
            result = Reply(result)
        if not isinstance(result, Reply):
            message = f"plugin {name}: {intent} returned {type(result).__name__}, expected the reply text or a Reply"
            _log.error(message)
            return Turn(text, match, f"Sorry, something went wrong with {name}.", error=("handler_error", message))
        if result.then is not None:
            try:
                expect = None if result.expect is None else self._expectation(plugin, result.expect)
            except PluginError as exc:
                message = f"plugin {name}: {intent} asked a question: {exc}"
                _log.error(message)
                return Turn(text, match, f"Sorry, something went wrong with {name}.", error=("handler_error", message))
            session._pending = _FollowUp(plugin, result.then, self.clock() + FOLLOW_UP_SECONDS, match, expect)
        return Turn(text, match, result.text.strip() or "Done.", result.data, follow_up=result.then is not None)

    def _expectation(self, plugin: LoadedPlugin, expect: str | SlotValues) -> Expectation:
        """The parser of a question's answer; a named slot list's is built once (a duration's takes ~0.2 s)."""
        make = lambda: Expectation(plugin.plugin, expect, plugin.config, areas=self._areas, fuzzy_threshold=self.engine.fuzzy_threshold)  # noqa: E731
        if not isinstance(expect, str):
            return make()
        key = (plugin.name, expect)
        with self._lock:
            if key not in self._expectations:
                self._expectations[key] = make()
            return self._expectations[key]

    # -- scheduled actions -------------------------------------------------------------------------

    def _fire(self, session: Session, plugin: str, action: Callable[[], str | None], alarm: bool) -> None:
        """On the scheduler thread: hand the due action to a thread of its own, so nothing can hold the scheduler up."""
        threading.Thread(target=self._run_action, args=(session, plugin, action, alarm), name=f"due-{plugin}", daemon=True).start()

    def _run_action(self, session: Session, plugin: str, action: Callable[[], str | None], alarm: bool) -> None:
        try:
            self._act(session, plugin, action, alarm)
        finally:
            session._changed()  # the job ran (or was dropped): it is no longer due

    def _act(self, session: Session, plugin: str, action: Callable[[], str | None], alarm: bool) -> None:
        lock = session.lock(plugin)
        if not lock.acquire(timeout=LOCK_WAIT_SECONDS):
            _log.error("plugin %s on device %s: a scheduled action was dropped: a handler has held the plugin for over %g s", plugin, session.device, LOCK_WAIT_SECONDS)
            return
        try:
            text = action()
        except Exception:  # a failing action costs its own announcement, nothing else
            _log.exception("plugin %s on device %s: scheduled action %r failed", plugin, session.device, action)
            return
        finally:
            lock.release()
        if text:
            try:
                session.announce(text, alarm)
            except Exception:  # the device's speaker failing must not go unnoticed, nor stop anything else
                _log.exception("announcing %r on device %s failed", text, session.device)


class Session:
    """One device's conversation with the intents: its plugin state, pending question and scheduled actions.

    ``respond`` is called by one thread at a time (the device's owner serialises it); scheduled actions
    run on their own threads under the plugin's lock.
    """

    def __init__(self, dispatcher: Dispatcher, device: str, announce: Announce, route: Route | None, changed: Callable[[], None] | None = None) -> None:
        self.dispatcher = dispatcher
        self.device = device
        self.announce = announce
        self.route = route
        self.changed = changed
        self._states: dict[str, Any] = {}
        self._locks: dict[str, threading.RLock] = {}
        self._jobs: list[Scheduled] = []
        self._guard = threading.Lock()
        self._pending: _FollowUp | None = None

    def respond(self, text: str, alternatives: Sequence[str] = ()) -> Turn:
        """Recognise ``text`` (or one of the recognizer's ``alternatives``, see :meth:`IntentEngine.recognize`)
        and carry it out: as the answer to a pending question, or as a new command (routed by ``route``);
        plugin faults come back as an apology plus ``error``."""
        d = self.dispatcher
        pending, self._pending = self._pending, None
        if pending is not None and d.clock() >= pending.expires:
            pending = None
        recognition = d.engine.interpret(text, alternatives)
        match = recognition.match
        heard = match.text if match is not None else text
        if pending is not None and not (match and match.name == CANCEL_INTENT):
            if pending.expect is None:
                return d._run(self, pending.plugin, pending.handler, match, heard)
            answer = pending.expect.parse(text, alternatives)
            if answer is not None:
                asked = pending.asked
                slots = {**(asked.slots if asked else {}), **answer}
                answered = IntentMatch(asked.name if asked else "follow-up", slots, asked.confidence if asked else 1.0, text, pending.plugin.name)
                return d._run(self, pending.plugin, pending.handler, answered, text)
            if match is None or match.confidence < 1.0:
                return Turn(heard, None, NOT_AN_ANSWER, closest=recognition.closest)
            # not an answer but a whole command said exactly: the user moved on
        if match is None:
            return Turn(text, None, NOT_UNDERSTOOD, closest=recognition.closest)
        if self.route is not None and (routed := self.route(match)) is not None:
            return routed
        return self.carry_out(match)

    def carry_out(self, match: IntentMatch) -> Turn:
        """Run the handler of a command recognised already (here, or routed from another device)."""
        d = self.dispatcher
        return d._run(self, d.engine.owner(match.name), d.engine.handler(match.name), match, match.text)

    @property
    def awaiting_answer(self) -> bool:
        """A handler asked a question and the next utterance goes to it."""
        return self._pending is not None and self.dispatcher.clock() < self._pending.expires

    def cancel_follow_up(self) -> None:
        """Nobody answered the question: the next utterance is a new command."""
        self._pending = None

    def state(self, plugin: str, make: Callable[[], Any] = dict) -> Any:
        """The plugin's state on this device, made by ``make`` the first time."""
        with self._guard:
            if plugin not in self._states:
                self._states[plugin] = make()
            return self._states[plugin]

    def lock(self, plugin: str) -> threading.RLock:
        with self._guard:
            return self._locks.setdefault(plugin, threading.RLock())

    def jobs(self) -> list[Job]:
        """Scheduled actions not run yet (timers running)."""
        return [s.job for s in self.scheduled()]

    def scheduled(self) -> list[Scheduled]:
        """The same, with the plugin and label of each, soonest first."""
        with self._guard:
            self._jobs = [s for s in self._jobs if s.job.active]
            return sorted(self._jobs, key=lambda s: s.job.due)

    def cancel(self, job: int) -> bool:
        """Cancel scheduled action ``job`` (its :attr:`Job.id`) from outside a turn (the page's hub view), under
        its plugin's lock so no handler of that plugin is midway; False when this device has no such action due.
        The plugin sees ``job.cancelled``. :class:`PluginBusy` when a handler holds the lock too long."""
        found = next((s for s in self.scheduled() if s.job.id == job), None)
        if found is None:
            return False
        lock = self.lock(found.plugin)
        if not lock.acquire(timeout=CANCEL_WAIT_SECONDS):
            raise PluginBusy(f"plugin {found.plugin} on device {self.device} is busy (a command has run for over {CANCEL_WAIT_SECONDS:g} s); try again")
        try:
            cancelled = found.job.cancel()
        finally:
            lock.release()
        self._changed()
        return cancelled

    def close(self) -> None:
        """The device is forgotten: its scheduled actions will not run."""
        for job in self.jobs():
            job.cancel()

    def _schedule(self, plugin: str, seconds: float, action: Callable[[], str | None], alarm: bool, label: str) -> Job:
        d = self.dispatcher
        job = d.scheduler.call_later(seconds, lambda: d._fire(self, plugin, action, alarm))
        with self._guard:
            self._jobs = [s for s in self._jobs if s.job.active] + [Scheduled(job, plugin, label, alarm)]
        return job

    def _job_ids(self) -> set[int]:
        return {s.job.id for s in self.scheduled()}

    def _changed(self) -> None:
        if self.changed is not None:
            try:
                self.changed()
            except Exception:  # whoever watches must not break a turn or a timer
                _log.exception("telling the owner of device %s about its timers failed", self.device)
