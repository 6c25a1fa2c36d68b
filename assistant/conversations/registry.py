"""The one owner of conversations in a process, keyed by device, and where commands naming an area go.

Bounded: at most ``assistant.max_devices`` conversations; a device that is not
connected and has nothing pending is forgotten after ``device_idle_seconds``
(a connection that named no device, as soon as it closes). Every pipeline and
every HTTP request gets its device's conversation here; none owns one.

Areas: a command with an ``area`` slot ("pause the music in the living room")
acts on the asking device when that is its own area, else on a connected
device in that area which carries out the command's plugin (the process's own
machine, or a satellite that declared the skill); with none, the assistant says
so and does nothing here.

Watchers (:meth:`Conversations.watch`: the server's hub, for the page) are told
of every device that appears, changes (connected, area, timers, alarms) or is
forgotten, on whatever thread made the change and never under a lock here.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import TimeoutError as FutureTimeout

from assistant.config import AssistantConfig, Config
from assistant.conversations.conversation import Conversation
from assistant.conversations.device import BadDevice, Remote, area_name, device_id
from assistant.errors import AssistantError
from assistant.intents.dispatcher import Dispatcher, Turn
from assistant.intents.engine import IntentEngine, IntentMatch

_log = logging.getLogger(__name__)

Watcher = Callable[[Conversation, bool], None]
"""``watcher(conversation, forgotten)``: the device changed, or (``forgotten``) the registry let it go."""

NO_DEVICE = "I have no device in the {area}."
NO_SKILL = "No device in the {area} can do that."


class TooManyDevices(AssistantError):
    """``assistant.max_devices`` conversations are in use and none can be forgotten."""


class Conversations:
    def __init__(self, engine: IntentEngine, config: Config, clock: Callable[[], float] = time.monotonic) -> None:
        self.engine = engine
        self.settings: AssistantConfig = config.assistant
        self.clock = clock
        self.dispatcher = Dispatcher(engine, config, clock)
        self._devices: dict[str, Conversation] = {}
        self._lock = threading.Lock()
        self._watchers: list[Watcher] = []

    def device(self, device: str, *, area: str | None = None, local: bool = False, ephemeral: bool = False) -> Conversation:
        """The conversation of ``device``, made on first use; ``area`` (when given) updates where it is.

        :class:`BadDevice` for an unusable id or area, :class:`TooManyDevices` when the registry is full.
        """
        device = device_id(device)
        area = area_name(area)
        forgotten: list[Conversation] = []
        changed = False
        try:
            with self._lock:
                conversation = self._devices.get(device)
                if conversation is None:
                    if len(self._devices) >= self.settings.max_devices:
                        forgotten = self._forget_idle()
                    if len(self._devices) >= self.settings.max_devices:
                        raise TooManyDevices(f"{len(self._devices)} devices are in use (assistant.max_devices); try again once some have gone")
                    conversation = Conversation(self, device, area=area, local=local, ephemeral=ephemeral)
                    self._devices[device] = conversation
                    changed = True
                elif area is not None and area != conversation.area:
                    conversation.area = area
                    changed = True
                conversation.last_active = self.clock()
        finally:
            self._gone(forgotten)
        if changed:
            self.changed(conversation)
        return conversation

    def get(self, device: str) -> Conversation | None:
        with self._lock:
            return self._devices.get(device)

    def connected(self) -> list[Conversation]:
        return [c for c in self.devices() if c.connected]

    def devices(self) -> list[Conversation]:
        """Every device known now."""
        with self._lock:
            return list(self._devices.values())

    def watch(self, watcher: Watcher) -> None:
        """From now on ``watcher`` hears of every device that changes or is forgotten (see :data:`Watcher`)."""
        with self._lock:
            self._watchers.append(watcher)

    def unwatch(self, watcher: Watcher) -> None:
        with self._lock:
            if watcher in self._watchers:
                self._watchers.remove(watcher)

    def changed(self, conversation: Conversation, forgotten: bool = False) -> None:
        """Tell the watchers (called by conversations, holding none of their locks)."""
        with self._lock:
            watchers = list(self._watchers)
        for watcher in watchers:
            try:
                watcher(conversation, forgotten)
            except Exception:  # a watcher must not break a turn, a timer or a connection
                _log.exception("a watcher of device %s failed", conversation.id)

    def __len__(self) -> int:
        with self._lock:
            return len(self._devices)

    def forget(self, device: str) -> None:
        """Drop a device's conversation now, timers and all (an evaluation starts every clip afresh)."""
        with self._lock:
            conversation = self._devices.pop(device, None)
        if conversation is not None:
            self._gone([conversation])

    def forget_idle(self) -> None:
        """Drop the conversations nothing keeps any more (see :meth:`Conversation.idle`)."""
        with self._lock:
            forgotten = self._forget_idle()
        self._gone(forgotten)

    def route(self, asker: Conversation, match: IntentMatch) -> Turn | None:
        """Where a command of ``asker`` is carried out: None for here (the usual case), else the turn of
        carrying it out on another device, or of saying there is none."""
        plugin = match.plugin
        area = match.slots.get("area")
        target = asker
        if area is not None and area != asker.area:
            there = [c for c in self.connected() if c.area == area and c is not asker]
            if not there:
                return Turn(match.text, match, NO_DEVICE.format(area=area))
            able = [c for c in there if c.carries_out(plugin)]
            if not able:
                return Turn(match.text, match, NO_SKILL.format(area=area))
            target = max(able, key=lambda c: c.last_active)
        remote = target.remote
        if remote is not None and plugin in remote.skills:
            return self._forward(target, remote, match)
        return None if target is asker else target.session.carry_out(match)

    def close(self) -> None:
        with self._lock:
            devices, self._devices = list(self._devices.values()), {}
        for conversation in devices:
            conversation.close()
        self.dispatcher.close()

    def _forward(self, target: Conversation, remote: Remote, match: IntentMatch) -> Turn:
        """A device that carries out this plugin itself: send it the command and wait for its reply."""
        timeout = self.dispatcher.timeout
        command = IntentMatch(match.name, {k: v for k, v in match.slots.items() if k != "area"}, match.confidence, match.text, match.plugin)
        where = f"the {target.area}" if target.area else target.id
        answer = remote.carry_out(command)
        try:
            reply, data = answer.result(timeout=timeout)
        except FutureTimeout:
            answer.cancel()
            message = f"device {target.id}: {match.name} did not answer within {timeout:g} s"
            _log.error(message)
            return Turn(match.text, match, f"Sorry, {where} did not answer.", error=("device_timeout", message))
        except Exception as exc:  # the device went away or failed: an apology, not a dead turn
            message = f"device {target.id}: {match.name} failed: {exc}"
            _log.error(message)
            return Turn(match.text, match, f"Sorry, something went wrong in {where}.", error=("device_error", message))
        return Turn(match.text, match, reply or "Done.", data)

    def _forget_idle(self) -> list[Conversation]:
        """Under the lock: take the idle conversations out; the caller hands them to :meth:`_gone` after it."""
        now = self.clock()
        forgotten = [c for c in self._devices.values() if c.idle(now)]
        for conversation in forgotten:
            del self._devices[conversation.id]
        return forgotten

    def _gone(self, forgotten: list[Conversation]) -> None:
        for conversation in forgotten:
            conversation.close()
            self.changed(conversation, forgotten=True)


__all__ = ["BadDevice", "Conversations", "TooManyDevices", "Watcher"]
