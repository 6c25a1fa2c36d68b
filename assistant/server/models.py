"""The models behind the HTTP API, loaded once per process on first use and shared by all requests.

Loading on first use keeps ``assistant serve`` quick to start and working for
streaming even when the recognizer model is not installed: only the endpoint
that needs it answers 503 with the reason.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from assistant.config import Config

if TYPE_CHECKING:
    from assistant.asr import AsrEngine
    from assistant.intents import Dispatcher, Turn

_log = logging.getLogger(__name__)


class Models:
    def __init__(self, config: Config) -> None:
        self._config = config
        self._lock = threading.Lock()
        self._asr: AsrEngine | None = None
        self._dispatcher: Dispatcher | None = None
        self._respond_lock = threading.Lock()

    def asr(self) -> AsrEngine:
        with self._lock:
            if self._asr is None:
                from assistant.asr import load_engine

                self._asr = load_engine(self._config)
            return self._asr

    def dispatcher(self) -> Dispatcher:
        with self._lock:
            if self._dispatcher is None:
                from assistant.intents import Dispatcher, IntentEngine

                engine = IntentEngine.from_config(self._config)
                self._dispatcher = Dispatcher(engine, self._config, announce=self._announce)
            return self._dispatcher

    def respond(self, text: str) -> Turn:
        """Recognise and handle ``text``; one at a time, since a handler's follow-up question belongs to the next call."""
        dispatcher = self.dispatcher()
        with self._respond_lock:
            return dispatcher.respond(text)

    @staticmethod
    def _announce(text: str) -> None:
        """A scheduled action (a timer set over HTTP) has no speaker or stream to go to: it is logged."""
        _log.info("announcement: %s", text)

    def close(self) -> None:
        with self._lock:
            if self._dispatcher is not None:
                self._dispatcher.close()
