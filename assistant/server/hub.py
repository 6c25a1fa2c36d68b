"""The hub: what every device on the server is doing, for the clients that watch it (the page's hub view).

Two sources, one event vocabulary. Each stream's turn events reach :meth:`Hub.feed` through a sink on
its connection's emitter; the hub wraps each in a ``hub`` event (the stream's session and device,
stamped on the hub's own clock) and sends it to every watching connection. And the process's
conversations (:class:`~assistant.conversations.Conversations`, the one owner of devices) tell the hub
whenever a device appears, connects or leaves, changes area, sets or loses a timer, or starts or stops
ringing an alarm; the hub then sends that device's ``device_status`` (with its running timers and
ringing alarms). A client that starts watching first gets the recent ``hub`` events of every device,
then every known device's ``device_status``, then ``watching``, then live events: its view is built
from events alone, whether it was there or not.

Which devices exist, and for how long, is the conversations' business: the hub forgets a device's
events when the conversations forget the device, and drops events of one already forgotten (a stream
that ends after its connection's device went away). Memory is bounded besides: recent events for at
most :data:`MAX_DEVICES` devices, :data:`KEEP_EVENTS` each.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from assistant.events import Activity, Event, EventEmitter, EventSink
from assistant.server.messages import DeviceStatus, HubEvent, Watching

if TYPE_CHECKING:
    from assistant.conversations import Conversation, Conversations

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
        "stopped",
        "error",
        "done",
    }
)
"""What a turn is made of; audio-paced events (partials, wake scores, statistics) stay with their own client."""

MAX_DEVICES = 64
"""Devices whose recent events are kept (the most recently active; those with a stream open first)."""
KEEP_EVENTS = 150
"""About the last ten turns of a device."""


@dataclass
class _Device:
    sessions: set[str] = field(default_factory=set)
    """Its streams open now."""
    state: str = "listening"
    """Its streams' latest ``state``."""
    events: deque[HubEvent] = field(default_factory=lambda: deque(maxlen=KEEP_EVENTS))


class Hub:
    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        self._emitter = EventEmitter(clock=clock) if clock is not None else EventEmitter()
        self._lock = threading.Lock()
        self._devices: OrderedDict[str, _Device] = OrderedDict()
        self._conversations: Conversations | None = None
        self._watchers = 0

    def stream_sink(self, session: str, conversation: Conversation) -> EventSink:
        """The sink a stream's events take to the hub; it must see the stream's ``ready`` first and ``done`` last."""
        self._bind(conversation.owner)
        return lambda event: self.feed(session, conversation, event)

    def feed(self, session: str, conversation: Conversation, event: Event) -> None:
        if event.type not in HUB_EVENTS:
            return
        with self._lock:
            if not _known(conversation):
                return
            entry = self._devices.get(conversation.id) or self._add(conversation.id)
            self._devices.move_to_end(conversation.id)
            if event.type == "ready":
                entry.sessions.add(session)
                entry.state = Activity.LISTENING
            elif event.type == "done":
                entry.sessions.discard(session)
            elif event.type == "state":
                entry.state = event.state  # type: ignore[attr-defined]
            wrapped = self._emitter.emit(HubEvent(session=session, device=conversation.id, area=conversation.area, event=event.to_dict()))
            entry.events.append(wrapped)  # type: ignore[arg-type]
            if event.type in ("ready", "done") and self._watchers:
                self._emitter.emit(self._status(conversation))

    def watch(self, sink: EventSink, conversations: Conversations) -> None:
        """Replay what the hub keeps and every device's status to ``sink``, then a ``watching`` event; live
        events follow until :meth:`unwatch`."""
        self._bind(conversations)
        with self._lock:
            for event in sorted((e for entry in self._devices.values() for e in entry.events), key=lambda e: e.t):
                sink(event)
            devices = conversations.devices()
            now = self._emitter.now()
            for conversation in devices:
                status = self._status(conversation)
                status.t = now
                sink(status)
            sink(Watching(t=now, devices=len(devices)))
            self._emitter.add_sink(sink)
            self._watchers += 1

    def unwatch(self, sink: EventSink) -> None:
        with self._lock:
            self._emitter.remove_sink(sink)
            self._watchers -= 1

    def _bind(self, conversations: Conversations) -> None:
        """Hear of the devices' changes, from the first stream or watcher on (one registry per server)."""
        with self._lock:
            if self._conversations is None:
                self._conversations = conversations
                conversations.watch(self._changed)
            elif self._conversations is not conversations:
                raise RuntimeError("a hub follows the conversations of one server")

    def _changed(self, conversation: Conversation, forgotten: bool) -> None:
        """The conversations' watcher: a device changed, or was forgotten (any thread)."""
        with self._lock:
            if forgotten:
                self._devices.pop(conversation.id, None)
                if self._watchers:
                    self._emitter.emit(DeviceStatus(device=conversation.id, area=conversation.area, forgotten=True))
            elif self._watchers and _known(conversation):
                self._emitter.emit(self._status(conversation))

    def _status(self, conversation: Conversation) -> DeviceStatus:
        """Under the lock."""
        entry = self._devices.get(conversation.id)
        streams = sorted(entry.sessions) if entry is not None else []
        if not conversation.connected:
            state = "offline"
        else:
            state = entry.state if entry is not None and streams else "idle"
        timers = [
            {"id": s.job.id, "label": s.label, "plugin": s.plugin, "left": round(s.job.remaining(), 1), "alarm": s.alarm}
            for s in conversation.timers()
        ]
        return DeviceStatus(device=conversation.id, area=conversation.area, state=state, streams=streams, timers=timers, alarms=conversation.alarms())

    def _add(self, device: str) -> _Device:
        if len(self._devices) >= MAX_DEVICES:
            quiet = next((name for name, d in self._devices.items() if not d.sessions), None)
            del self._devices[quiet if quiet is not None else next(iter(self._devices))]
        entry = self._devices[device] = _Device()
        return entry


def _known(conversation: Conversation) -> bool:
    """The conversations still hold this device (not forgotten, nor replaced by a new one of the same id)."""
    return conversation.owner.get(conversation.id) is conversation
