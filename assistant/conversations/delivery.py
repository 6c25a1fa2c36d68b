"""Saying one announcement on a device, and ringing an alarm until it is stopped.

Each delivery runs on a thread of its own (announcements are rare; alarms ring
for up to ``assistant.alarm_seconds``), so a slow speaker or a device that
comes and goes holds up nothing else. It always speaks through the device's
current outlet: when a pipeline closes before its turn came (a satellite's
turn ended), the next outlet (the satellite's connection) takes over; when
there is none left, the announcement is held for the device's return.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.conversations.conversation import Conversation
    from assistant.conversations.device import Outlet

_log = logging.getLogger(__name__)

PLAY_TIMEOUT_SECONDS = 120.0
"""Longest wait for one announcement to be played before the next ring (a stuck outlet must not keep an alarm alive)."""
MAX_HANDOVERS = 8
"""Outlets that may go away before playing it, one after another, before the announcement is given up."""


class Delivery:
    def __init__(self, conversation: Conversation, text: str, *, alarm: bool, listen: bool, ring_seconds: float, pause_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.conversation = conversation
        self.text = text
        self.alarm = alarm
        self.listen = listen
        self._ring_seconds = ring_seconds
        self._pause = pause_seconds
        self._clock = clock
        self._stopped = threading.Event()
        self._first: Future[bool] | None = None
        self.outlet: Outlet | None = None
        """The outlet it is speaking through now."""
        self._thread = threading.Thread(target=self._run, name=f"{'alarm' if alarm else 'announce'}-{conversation.id}", daemon=True)

    def start(self) -> None:
        """Hand the first ring to the device's outlet now, in the caller's thread (so announcements made one
        after another are said in that order), then follow it up on the delivery's own thread."""
        self._first = self._say(self.conversation.outlet(), first=True)
        self._thread.start()

    def stop(self) -> None:
        """The user said "stop": no more rings."""
        self._stopped.set()

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

    def _say(self, outlet: Outlet | None, *, first: bool) -> Future[bool] | None:
        """One ring on ``outlet``; None when the device has none."""
        if outlet is None:
            return None
        if self.alarm and outlet is not self.outlet:
            outlet.alarm(True, self.text)
        self.outlet = outlet
        # where nobody can say "stop" (a file run) an alarm is said once, as an announcement
        return outlet.say(self.text, chime=self.alarm and outlet.live, listen=self.listen and first)

    def _run(self) -> None:
        deadline = self._clock() + self._ring_seconds
        rings = handovers = 0
        ring = self._first
        try:
            while not self._stopped.is_set():
                if ring is None:
                    if rings == 0:
                        self.conversation.hold(self.text, alarm=self.alarm, listen=self.listen)
                    return
                played = self._wait(ring)
                if played is None:
                    return
                if not played:
                    handovers += 1
                    if handovers > MAX_HANDOVERS:
                        _log.warning("announcement for %s given up: %d outlets went away before playing it: %r", self.conversation.id, handovers, self.text)
                        return
                    ring = self._say(self.conversation.outlet(), first=rings == 0)
                    continue
                rings += 1
                assert self.outlet is not None
                if not self.alarm or not self.outlet.live:
                    return
                if self._clock() >= deadline:
                    _log.info("alarm on %s rang for %g s without a stop: %r", self.conversation.id, self._ring_seconds, self.text)
                    return
                if self._stopped.wait(self._pause):
                    return
                ring = self._say(self.conversation.outlet(), first=False)
        except Exception:  # an outlet failing must not leave the alarm marked as ringing
            _log.exception("announcing on %s failed: %r", self.conversation.id, self.text)
        finally:
            self.conversation.delivered(self)

    def _wait(self, played: Future[bool]) -> bool | None:
        """True when played, False when the outlet went away first, None when stopped meanwhile."""
        deadline = self._clock() + PLAY_TIMEOUT_SECONDS
        while not self._stopped.is_set():
            try:
                return played.result(timeout=0.1)
            except FutureTimeout:
                if self._clock() > deadline:
                    return True  # a stuck outlet: count it as heard rather than ring into it forever
        return None
