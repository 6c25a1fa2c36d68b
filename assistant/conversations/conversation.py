"""One device's conversation: what it is, where its speech goes now, its plugin state, timers and alarms.

Pipelines and connections attach as outlets while they live; the conversation
stays. Announcements for a device with no outlet are held (bounded) for
``assistant.announcement_hold_seconds`` and said when it reconnects, or logged
as missed.

Whenever what a watcher sees of the device changes (connected or not, its area,
its running timers, its ringing alarms) the owner is told
(:meth:`~assistant.conversations.Conversations.watch`), never while a lock of
the conversation is held.
"""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from assistant.conversations.delivery import Delivery
from assistant.errors import AssistantError
from assistant.intents.dispatcher import Scheduled, Turn
from assistant.stop import is_stop, stop_engine

if TYPE_CHECKING:
    from assistant.conversations.device import Outlet, Remote
    from assistant.conversations.registry import Conversations

_log = logging.getLogger(__name__)

MAX_HELD = 20
"""Announcements held for a device that is away; older ones are logged as missed."""
MAX_DELIVERIES = 32
"""Announcements and alarms on their way to one device at once; more are refused (:class:`TooManyAnnouncements`)."""
STOPPED = "Okay, stopped."


class TooManyAnnouncements(AssistantError):
    """A device has :data:`MAX_DELIVERIES` announcements on their way already."""


@dataclass(frozen=True)
class Held:
    text: str
    alarm: bool
    listen: bool
    expires: float


class Conversation:
    def __init__(self, owner: Conversations, device: str, *, area: str | None = None, local: bool = False, ephemeral: bool = False) -> None:
        """``local``: this process's own machine, whose plugins act here (it carries out every skill).
        ``ephemeral``: a connection that named no device; forgotten once it is gone with nothing pending."""
        self.owner = owner
        self.id = device
        self.area = area
        self.local = local
        self.ephemeral = ephemeral
        self.session = owner.dispatcher.session(device, self._scheduled, route=lambda match: owner.route(self, match), changed=self._changed)
        self.remote: Remote | None = None
        self.last_active = owner.clock()
        self._outlets: list[Outlet] = []
        self._held: collections.deque[Held] = collections.deque()
        self._deliveries: set[Delivery] = set()
        self._lock = threading.Lock()
        self._respond_lock = threading.Lock()

    # -- talking -----------------------------------------------------------------------------------

    def respond(self, text: str, alternatives: Sequence[str] = ()) -> Turn:
        """Handle one utterance of this device (one at a time): "stop" while an alarm rings stops it."""
        with self._respond_lock:
            self.last_active = self.owner.clock()
            if self.ringing and is_stop(text, list(alternatives)):
                self.stop()
                return Turn(text, stop_engine().recognize(text, alternatives), STOPPED)
            return self.session.respond(text, alternatives)

    @property
    def awaiting_answer(self) -> bool:
        return self.session.awaiting_answer

    def cancel_follow_up(self) -> None:
        self.session.cancel_follow_up()

    def carries_out(self, plugin: str) -> bool:
        """Whether a command of ``plugin`` acts on this device: its plugins run here, or it runs that one itself."""
        return self.local or (self.remote is not None and plugin in self.remote.skills)

    # -- where speech goes -------------------------------------------------------------------------

    def attach(self, outlet: Outlet) -> None:
        """A pipeline or connection for this device: it hears announcements from now on (and what was held)."""
        with self._lock:
            self._outlets.append(outlet)
            held, self._held = list(self._held), collections.deque()
            ringing = next((d for d in self._deliveries if d.alarm), None)
        self.last_active = self.owner.clock()
        self._changed()
        if ringing is not None:
            outlet.alarm(True, ringing.text)
        now = self.owner.clock()
        for item in held:
            if item.expires < now:
                self._missed(item)
                continue
            try:
                self.announce(item.text, alarm=item.alarm, listen=item.listen)
            except TooManyAnnouncements:
                self._missed(item)

    def detach(self, outlet: Outlet) -> None:
        with self._lock:
            if outlet in self._outlets:
                self._outlets.remove(outlet)
        self.last_active = self.owner.clock()
        self._changed()

    def outlet(self) -> Outlet | None:
        """Where speech goes now: the outlet attached last."""
        with self._lock:
            return self._outlets[-1] if self._outlets else None

    @property
    def connected(self) -> bool:
        return self.outlet() is not None

    def announce(self, text: str, *, alarm: bool = False, listen: bool = False) -> bool:
        """Say ``text`` on this device (``alarm``: ring until "stop"; ``listen``: then hear one command without
        the wake word). Returns whether it is connected now; if not, the text is held for its return.
        :class:`TooManyAnnouncements` when :data:`MAX_DELIVERIES` are on their way already."""
        settings = self.owner.settings
        delivery = Delivery(self, text, alarm=alarm, listen=listen, ring_seconds=settings.alarm_seconds, pause_seconds=settings.alarm_pause_seconds, clock=self.owner.clock)
        with self._lock:
            if len(self._deliveries) >= MAX_DELIVERIES:
                raise TooManyAnnouncements(f"device {self.id} has {len(self._deliveries)} announcements on their way; try again once they were said")
            self._deliveries.add(delivery)
            connected = bool(self._outlets)
        delivery.start()
        if alarm:
            self._changed()
        return connected

    def hold(self, text: str, *, alarm: bool, listen: bool) -> None:
        """No outlet: keep ``text`` until the device reconnects (see :meth:`attach`) or the hold time passes."""
        seconds = self.owner.settings.announcement_hold_seconds
        item = Held(text, alarm, listen, self.owner.clock() + seconds)
        with self._lock:
            if len(self._held) >= MAX_HELD:
                self._missed(self._held.popleft())
            self._held.append(item)
        _log.info("device %s is not connected: holding %r for %g s", self.id, text, seconds)
        self.owner.dispatcher.scheduler.call_later(seconds, lambda: self._expire(item))

    @property
    def ringing(self) -> bool:
        with self._lock:
            return any(d.alarm and not d.stopped for d in self._deliveries)

    def stop(self) -> bool:
        """The user said "stop": every alarm of this device stops ringing, and what plays now is cut."""
        with self._lock:
            alarms = [d for d in self._deliveries if d.alarm]
        for delivery in alarms:
            delivery.stop()
        outlet = self.outlet()
        if alarms and outlet is not None:
            outlet.hush()
        if alarms:
            self._changed()
        return bool(alarms)

    def delivered(self, delivery: Delivery) -> None:
        """A delivery ended (played, stopped, timed out or held): when the last alarm ends, say so."""
        with self._lock:
            self._deliveries.discard(delivery)
            still = any(d.alarm for d in self._deliveries)
            outlet = self._outlets[-1] if self._outlets else None
        if delivery.alarm and not still and outlet is not None:
            outlet.alarm(False, delivery.text)
        if delivery.alarm:
            self._changed()

    # -- timers and lifetime -----------------------------------------------------------------------

    def timers(self) -> list[Scheduled]:
        """What this device has due later (its running timers), soonest first."""
        return self.session.scheduled()

    def cancel(self, job: int) -> bool:
        """Cancel one of :meth:`timers` by its job id (the page's hub view); False when it is not due any more.
        :class:`~assistant.intents.dispatcher.PluginBusy` when its plugin is busy with a command."""
        return self.session.cancel(job)

    def alarms(self) -> list[str]:
        """The texts of the alarms ringing on this device now."""
        with self._lock:
            return [d.text for d in self._deliveries if d.alarm and not d.stopped]

    def next_due(self) -> float | None:
        """Seconds until this device's next scheduled action (a timer), None when none is set."""
        due = [job.remaining() for job in self.session.jobs()]
        return min(due) if due else None

    @property
    def delivering(self) -> bool:
        """An announcement is on its way or an alarm rings."""
        with self._lock:
            return bool(self._deliveries)

    def idle(self, now: float) -> bool:
        """Nothing to keep it for: not connected, no timer, question, announcement or alarm, and quiet long enough."""
        with self._lock:
            if self._outlets or self._held or self._deliveries:
                return False
        if self.session.jobs() or self.session.awaiting_answer:
            return False
        return self.ephemeral or now - self.last_active > self.owner.settings.device_idle_seconds

    def close(self) -> None:
        """Forgotten (or the process ends): timers will not run, alarms stop ringing."""
        self.session.close()
        with self._lock:
            deliveries = list(self._deliveries)
        for delivery in deliveries:
            delivery.stop()

    def _changed(self) -> None:
        self.owner.changed(self)

    def _scheduled(self, text: str, alarm: bool) -> None:
        """What a plugin's scheduled action said (a timer is done): ring it here."""
        try:
            self.announce(text, alarm=alarm)
        except TooManyAnnouncements as exc:
            _log.warning("%s: missed %r", exc, text)

    def _expire(self, item: Held) -> None:
        with self._lock:
            if item not in self._held:
                return
            self._held.remove(item)
        self._missed(item)

    def _missed(self, item: Held) -> None:
        _log.warning("device %s did not reconnect in time: missed announcement %r", self.id, item.text)
