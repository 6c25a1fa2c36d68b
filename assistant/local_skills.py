"""The plugins a satellite carries out itself: commands the hub routes to it ("pause the music in the
living room" said anywhere), run on this machine, its own player and its own volume.

The hub recognises the command and sends it (``command``: intent and typed slots);
this runs that intent's handler here, with the same safety as on the hub (a
thread, a timeout, an apology on failure), and returns the reply for the hub
to speak. Only the plugins named in ``satellite.skills`` are loaded.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from assistant.config import Config
from assistant.errors import ConfigError
from assistant.intents import Dispatcher, IntentEngine, IntentMatch, Turn
from assistant.intents import loader

_log = logging.getLogger(__name__)


class LocalSkills:
    def __init__(self, config: Config, names: Sequence[str], device: str) -> None:
        """:class:`ConfigError` when a name is not an installed plugin."""
        found, failures, _ = loader.discover(config)
        known = {f.plugin.name for f in found}
        missing = sorted(set(names) - known)
        if missing:
            raise ConfigError(f"satellite.skills: no plugin named {', '.join(missing)}; known plugins: {', '.join(sorted(n for n in known if n))}")
        loaded, _, broken = loader.activate([f for f in found if f.plugin.name in names], config, explicit=set(names))
        for failure in failures + broken:
            _log.warning("skill plugin skipped: %s", failure)
        self.names = frozenset(p.name for p in loaded)
        self.engine = IntentEngine(loaded, fuzzy_threshold=config.intents.fuzzy_threshold)
        self._dispatcher = Dispatcher(self.engine, config)
        self._session = self._dispatcher.session(device, announce=lambda text, alarm: _log.info("%s", text))

    def carry_out(self, intent: str, slots: dict[str, Any], text: str) -> Turn:
        """Run ``intent``'s handler here; an intent none of the skills has gets a reply saying so."""
        try:
            plugin = self.engine.owner(intent).name
        except KeyError:
            return Turn(text, None, "Sorry, I can't do that here.", error=("unknown_command", f"no skill here handles {intent}"))
        return self._session.carry_out(IntentMatch(intent, dict(slots), 1.0, text, plugin))

    def close(self) -> None:
        self._dispatcher.close()
