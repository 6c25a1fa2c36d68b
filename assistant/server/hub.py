"""The hub: every stream's turn events, for the clients that watch them (the page's device view).

Each stream's events reach :meth:`Hub.feed` through a sink on its connection's emitter, labelled with
the stream's session and device (the ``device`` of its ``start``, else the session id). The hub wraps
each in a ``hub`` event stamped on its own clock and sends it to every watching connection. It keeps
the last :data:`KEEP_EVENTS` of each device, so a client that starts watching gets them replayed, then
a ``watching`` event, then live ones: its view is built from events alone, whether it was there or not.
Nothing here knows what a device is beyond its label; conversations per device grow on the same events.

Memory is bounded: at most :data:`MAX_DEVICES` devices (labels come from clients), each with at most
:data:`KEEP_EVENTS` events; a device with no stream open is forgotten after :data:`OFFLINE_SECONDS`, or
sooner when room is needed.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from assistant.events import Event, EventEmitter, EventSink, HubEvent, Watching

HUB_EVENTS = frozenset(
    {
        "ready",
        "state",
        "wake",
        "speech_start",
        "speech_end",
        "no_speech",
        "transcript",
        "intent",
        "no_intent",
        "reply",
        "reply_audio",
        "speak_start",
        "speak_end",
        "error",
        "done",
    }
)
"""What a turn is made of; audio-paced events (partials, wake scores, statistics) stay with their own client."""

MAX_DEVICES = 64
KEEP_EVENTS = 150
"""About the last ten turns of a device."""
OFFLINE_SECONDS = 3600.0


@dataclass
class _Device:
    sessions: set[str] = field(default_factory=set)
    """Its streams open now; none: offline."""
    events: deque[HubEvent] = field(default_factory=lambda: deque(maxlen=KEEP_EVENTS))
    last_t: float = 0.0


class Hub:
    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        self._emitter = EventEmitter(clock=clock) if clock is not None else EventEmitter()
        self._lock = threading.Lock()
        self._devices: OrderedDict[str, _Device] = OrderedDict()

    def stream_sink(self, session: str, device: str | None, area: str | None) -> EventSink:
        """The sink a stream's events take to the hub; it must see the stream's ``ready`` first and ``done`` last."""
        label = device or session
        return lambda event: self.feed(session, label, area, event)

    def feed(self, session: str, label: str, area: str | None, event: Event) -> None:
        if event.type not in HUB_EVENTS:
            return
        with self._lock:
            entry = self._devices.get(label) or self._add(label)
            self._devices.move_to_end(label)
            if event.type == "ready":
                entry.sessions.add(session)
            elif event.type == "done":
                entry.sessions.discard(session)
            wrapped = self._emitter.emit(HubEvent(session=session, device=label, area=area, event=event.to_dict()))
            entry.events.append(wrapped)  # type: ignore[arg-type]
            entry.last_t = wrapped.t

    def watch(self, sink: EventSink) -> None:
        """Replay what the hub keeps to ``sink``, then a ``watching`` event; live events follow."""
        with self._lock:
            self._expire()
            kept = sorted((e for entry in self._devices.values() for e in entry.events), key=lambda e: e.t)
            for event in kept:
                sink(event)
            sink(Watching(t=self._emitter.now(), devices=len(self._devices)))
            self._emitter.add_sink(sink)

    def unwatch(self, sink: EventSink) -> None:
        self._emitter.remove_sink(sink)

    @property
    def devices(self) -> int:
        with self._lock:
            return len(self._devices)

    def _add(self, label: str) -> _Device:
        self._expire()
        if len(self._devices) >= MAX_DEVICES:
            offline = next((name for name, d in self._devices.items() if not d.sessions), None)
            del self._devices[offline if offline is not None else next(iter(self._devices))]
        entry = self._devices[label] = _Device()
        return entry

    def _expire(self) -> None:
        now = self._emitter.now()
        for name in [n for n, d in self._devices.items() if not d.sessions and now - d.last_t > OFFLINE_SECONDS]:
            del self._devices[name]
