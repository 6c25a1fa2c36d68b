"""Run the handler of the recognised intent, safely, and say something either way.

Handlers run on their own daemon thread with a timeout, so a slow or hung
plugin costs the user one apology, never the loop. A plugin's handler calls and
its scheduled actions hold the plugin's lock, so plugin authors need not think
about threads (a timer firing while the user cancels it is serialised).
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
from assistant.intents.engine import IntentEngine, IntentMatch, LoadedPlugin
from assistant.intents.plugin import Handler, Reply, Request
from assistant.intents.scheduler import Job, Scheduler

_log = logging.getLogger(__name__)

NOT_UNDERSTOOD = "Sorry, I didn't understand that."
FOLLOW_UP_SECONDS = 30.0
"""A follow-up question left unanswered this long no longer captures the next utterance."""
CANCEL_INTENT = "HassNevermind"


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


@dataclass
class _FollowUp:
    plugin: LoadedPlugin
    handler: Handler
    expires: float


class _PluginScheduler:
    """What ``req.scheduler`` is: the dispatcher's scheduler, with the plugin's lock and announcements."""

    def __init__(self, dispatcher: Dispatcher, plugin: str) -> None:
        self._dispatcher = dispatcher
        self._plugin = plugin

    def call_later(self, seconds: float, action: Callable[[], str | None]) -> Job:
        return self._dispatcher.scheduler.call_later(seconds, lambda: self._dispatcher._scheduled(self._plugin, action))

    def now(self) -> float:
        return self._dispatcher.scheduler.now()


class Dispatcher:
    def __init__(self, engine: IntentEngine, config: Config, announce: Callable[[str], None], clock: Callable[[], float] = time.monotonic) -> None:
        self.engine = engine
        self.timeout = config.intents.handler_timeout_seconds
        self.announce = announce
        self.clock = clock
        self.scheduler = Scheduler(clock, name="intent-scheduler")
        self._locks = {p.name: threading.RLock() for p in engine.plugins}
        self._states: dict[str, dict[str, Any]] = {p.name: {} for p in engine.plugins}
        self._pending: _FollowUp | None = None
        self.abandoned_handlers = 0
        """Handler threads given up on after a timeout (they may still be running)."""

    def respond(self, text: str, alternatives: Sequence[str] = ()) -> Turn:
        """Recognise ``text`` (or one of the recognizer's ``alternatives``, see
        :meth:`IntentEngine.recognize`) and run its handler; plugin faults come back as an apology plus ``error``."""
        pending, self._pending = self._pending, None
        match = self.engine.recognize(text, alternatives)
        text = match.text if match is not None else text
        if pending is not None and self.clock() < pending.expires and not (match and match.name == CANCEL_INTENT):
            return self._run(pending.plugin, pending.handler, match, text)
        if match is None:
            return Turn(text, None, NOT_UNDERSTOOD)
        return self._run(self.engine.owner(match.name), self.engine.handler(match.name), match, text)

    @property
    def awaiting_answer(self) -> bool:
        """A handler asked a question and the next utterance goes to it."""
        return self._pending is not None and self.clock() < self._pending.expires

    def cancel_follow_up(self) -> None:
        """Nobody answered the question: the next utterance is a new command."""
        self._pending = None

    def close(self) -> None:
        self.scheduler.close()

    def _run(self, plugin: LoadedPlugin, handler: Handler, match: IntentMatch | None, text: str) -> Turn:
        name = plugin.name
        intent = match.name if match else "follow-up"
        request = Request(
            intent=match,
            text=text,
            config=plugin.config,
            log=logging.getLogger(f"assistant.plugins.{name}"),
            scheduler=_PluginScheduler(self, name),
            state=self._states[name],
            engine=self.engine,
        )
        outcome: dict[str, Any] = {}
        finished = threading.Event()

        def work() -> None:
            try:
                with self._locks[name]:
                    outcome["result"] = handler(request)
            except Exception as exc:  # any plugin fault becomes an apology, never a dead loop
                outcome["error"] = exc
                outcome["trace"] = traceback.format_exc()
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
            self._pending = _FollowUp(plugin, result.then, self.clock() + FOLLOW_UP_SECONDS)
        return Turn(text, match, result.text.strip() or "Done.", result.data, follow_up=result.then is not None)

    def _scheduled(self, plugin: str, action: Callable[[], str | None]) -> None:
        with self._locks[plugin]:
            text = action()
        if text:
            try:
                self.announce(text)
            except Exception:  # the pipeline's speaker failing must not kill the scheduler thread
                _log.exception("announcing %r failed", text)
