"""The server's :class:`~assistant.assembly.Resources` (the models, loaded once per process and shared by every
stream and request, with the process's conversations: every device's timers, questions and announcements).

Loaded on first use (the server preloads them in a thread at start), so a
missing recognizer model does not stop ``assistant serve``: streams still get
wake-word and VAD events plus an ``error`` saying which command fetches the
model, and ``/v1/transcribe`` answers 503 with the same reason.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from assistant.assembly import Resources
from assistant.config import Config
from assistant.errors import ModelError

if TYPE_CHECKING:
    from assistant.asr import AsrEngine

_log = logging.getLogger(__name__)


class LazyResources:
    """Loads the resources on first use and keeps them until :meth:`close`."""

    def __init__(self, config: Config, intent_paths: Sequence[str] = ()) -> None:
        self._config = config
        self._intent_paths = list(intent_paths)
        self._lock = threading.Lock()
        self._resources: Resources | None = None

    def get(self) -> Resources:
        with self._lock:
            if self._resources is None:
                self._resources = Resources.load(self._config, intent_paths=self._intent_paths, require_asr=False)
                if self._resources.asr_unavailable:
                    _log.error("speech recognition is unavailable: %s", self._resources.asr_unavailable)
            return self._resources

    def asr(self) -> AsrEngine:
        resources = self.get()
        if resources.asr is None:
            raise ModelError(resources.asr_unavailable or "no recognizer is configured (asr.engine: none)")
        return resources.asr

    def close(self) -> None:
        with self._lock:
            if self._resources is not None:
                self._resources.close()
