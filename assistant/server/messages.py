"""What the server sends a WebSocket client besides the pipeline's events: the transport's own messages.

A stream's ``ready`` and ``done``, its reply audio (``reply_audio`` and the binary messages after it,
``reply_audio_stop``) and, for clients that ``watch``, the hub's ``hub``, ``device_status`` and ``watching``.
They share the events' JSON shape (:meth:`~assistant.events.Event.to_dict`, rebuilt by
:func:`~assistant.events.event_from_dict` once this module is imported), but no pipeline emits them: a
file run or ``assistant run --json`` never sees one. Client messages are in :mod:`assistant.server.protocol`.
Like it, this module has no server dependencies, so clients (the satellite) share it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from assistant.events import Event


@dataclass(kw_only=True)
class StreamReady(Event):
    """A WebSocket stream was accepted: the pipeline is built and audio may flow (see assistant.server)."""

    type: ClassVar[str] = "ready"
    session: str
    encoding: str
    rate: int | None
    """The client's sample rate (None for compressed streams: the container says it)."""
    wake: list[str] = field(default_factory=list)
    """Wake models the stream listens for; empty when every utterance is a command."""
    queue_seconds: float = 0.0
    """Audio the server buffers for this stream before it drops frames (or, with backpressure, stops reading)."""
    device: str = ""
    """The device this stream is heard as (its timers, questions and announcements)."""
    area: str | None = None
    """Where that device is (``area`` in ``hello`` or ``start``), e.g. "kitchen"."""


@dataclass(kw_only=True)
class StreamDone(Event):
    """A stream ended after ``stop``: every event of its audio was sent before this one."""

    type: ClassVar[str] = "done"
    audio_seconds: float
    dropped_frames: int = 0


@dataclass(kw_only=True)
class ReplyAudio(Event):
    """Reply audio follows as binary messages totalling ``bytes`` (mono PCM in ``encoding`` at ``rate``)."""

    type: ClassVar[str] = "reply_audio"
    id: int
    rate: int
    samples: int
    bytes: int
    encoding: str = "pcm_s16le"


@dataclass(kw_only=True)
class ReplyAudioStop(Event):
    """Stop playing reply ``id`` now (barge-in): the pipeline interrupted its own speech."""

    type: ClassVar[str] = "reply_audio_stop"
    id: int


@dataclass(kw_only=True)
class HubEvent(Event):
    """An event of some device's stream on the server, for clients that watch the hub (``{"type": "watch"}``).

    ``event`` is that stream's event exactly as its own client got it (its ``t`` on that stream's clock);
    this event's ``t`` is on the hub's clock, shared by every stream. ``device`` is the device the stream
    is heard as (named in ``hello`` or ``start``, else one of its own, ``connection-...``).
    """

    type: ClassVar[str] = "hub"
    session: str
    device: str
    area: str | None = None
    event: dict[str, Any] = field(default_factory=dict)


@dataclass(kw_only=True)
class DeviceStatus(Event):
    """What one device is doing, for clients that watch the hub: sent for every known device when watching
    starts, and again whenever it connects or leaves, opens or ends a stream, changes area, sets or loses a
    timer, or an alarm starts or stops ringing on it. ``t`` is on the hub's clock.

    ``state``: ``offline`` (not connected), ``idle`` (connected, no stream open: a satellite waiting for its
    own wake word), else its stream's latest ``state`` (listening, capturing, understanding, speaking).
    ``timers``: ``{"id", "label", "plugin", "left" (seconds from ``t``), "alarm"}`` each, soonest first
    (cancel one with ``{"type": "cancel", "device": ..., "timer": id}``); ``alarms``: the texts ringing now
    (stop them with ``{"type": "cancel", "device": ..., "alarm": true}``). ``forgotten``: the server let
    the device go (idle too long, or a connection that named no device closed): drop it.
    """

    type: ClassVar[str] = "device_status"
    device: str
    area: str | None = None
    state: str = "offline"
    streams: list[str] = field(default_factory=list)
    """The sessions of its streams open now."""
    timers: list[dict[str, Any]] = field(default_factory=list)
    alarms: list[str] = field(default_factory=list)
    forgotten: bool = False


@dataclass(kw_only=True)
class Watching(Event):
    """The hub's devices and recent events were replayed (as ``device_status`` and ``hub`` events) and live
    ones follow; ``t`` is the hub's clock now."""

    type: ClassVar[str] = "watching"
    devices: int
