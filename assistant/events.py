"""The pipeline's event vocabulary.

One dataclass per event type and one JSON shape everywhere: the CLI's ``--json``
lines, the WebSocket stream, logs and tests all use ``Event.to_dict()``.
``t`` is seconds on the emitting pipeline's monotonic clock, stamped by an
:class:`EventEmitter` when the event is emitted, so latency per stage is the
difference of two ``t`` values. Events derived from audio also carry
``audio_t``: the position in the input stream, which is what a test compares
against the ground truth of a recording.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

_log = logging.getLogger(__name__)
_REGISTRY: dict[str, type[Event]] = {}


@dataclass(kw_only=True)
class Event:
    """Base class: subclasses set ``type`` and add their payload fields."""

    type: ClassVar[str] = "event"
    t: float = 0.0

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "type" in cls.__dict__:
            _REGISTRY[cls.type] = cls

    def to_dict(self) -> dict[str, Any]:
        payload = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        payload["t"] = round(self.t, 4)
        return {"type": self.type, **payload}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, default=_json_default)


def _json_default(value: Any) -> Any:
    """numpy scalars and other number-likes leak into payloads; JSON wants plain types."""
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def event_from_dict(data: dict[str, Any]) -> Event:
    """Rebuild an event from its JSON form (clients, satellites and tests read the stream)."""
    try:
        cls = _REGISTRY[data["type"]]
    except KeyError as exc:
        raise ValueError(f"unknown event type {data.get('type')!r}; known: {sorted(_REGISTRY)}") from exc
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})


class Activity(enum.StrEnum):
    """What a pipeline is doing: the ``state`` a :class:`State` event says."""

    LISTENING = "listening"
    """For the wake word (or, without one, for a command)."""
    CAPTURING = "capturing"
    """A command is being said."""
    UNDERSTANDING = "understanding"
    """The command's words are in: its intent and handler run."""
    SPEAKING = "speaking"
    """The reply (or an announcement) plays."""


@dataclass(kw_only=True)
class State(Event):
    """The pipeline moved on to another :class:`Activity`."""

    type: ClassVar[str] = "state"
    state: Activity

    def __post_init__(self) -> None:
        self.state = Activity(self.state)  # a client's "speaking" is the same state as ours


@dataclass(kw_only=True)
class Device(Event):
    """An audio device was opened (also after it came back from being unplugged)."""

    type: ClassVar[str] = "device"
    name: str
    rate: int
    channels: int


@dataclass(kw_only=True)
class AudioStats(Event):
    """Counters of what the input stage had to repair or lose; emitted when they change."""

    type: ClassVar[str] = "audio_stats"
    frames: int = 0
    overflows: int = 0
    dropped_frames: int = 0
    nan_samples: int = 0
    clipped_samples: int = 0


@dataclass(kw_only=True)
class Wake(Event):
    type: ClassVar[str] = "wake"
    model: str
    score: float
    audio_t: float


@dataclass(kw_only=True)
class WakeScores(Event):
    """How close each wake model came to firing, for a client that asked (``wake_scores`` in ``start``).

    ``scores``: each model's highest score over the audio since the previous report (about every
    :data:`~assistant.server.wake_scores.REPORT_SECONDS` of audio, while the pipeline listens for the wake
    word); ``thresholds``: the score each model must pass to fire, so a graph can draw the line.
    """

    type: ClassVar[str] = "wake_scores"
    audio_t: float
    scores: dict[str, float]
    thresholds: dict[str, float]


@dataclass(kw_only=True)
class SpeechStart(Event):
    type: ClassVar[str] = "speech_start"
    audio_t: float


@dataclass(kw_only=True)
class SpeechEnd(Event):
    """End of a command; ``reason`` is silence, max_length or end_of_input.

    ``endpoint_delay``: seconds of audio between the end of speech and this event
    (the trailing silence the endpointer waited for): part of what the user waits.
    """

    type: ClassVar[str] = "speech_end"
    audio_t: float
    reason: str = "silence"
    endpoint_delay: float = 0.0


@dataclass(kw_only=True)
class NoSpeech(Event):
    """The wake word fired but nobody spoke within the timeout."""

    type: ClassVar[str] = "no_speech"
    audio_t: float


@dataclass(kw_only=True)
class Partial(Event):
    type: ClassVar[str] = "partial"
    text: str


@dataclass(kw_only=True)
class Transcript(Event):
    type: ClassVar[str] = "transcript"
    text: str
    confidence: float | None = None
    words: list[dict[str, Any]] | None = None


@dataclass(kw_only=True)
class Intent(Event):
    type: ClassVar[str] = "intent"
    name: str
    slots: dict[str, Any] = field(default_factory=dict)
    confidence: float = 1.0
    text: str = ""


@dataclass(kw_only=True)
class NoIntent(Event):
    """The utterance was out of scope: nothing acted on it."""

    type: ClassVar[str] = "no_intent"
    text: str
    confidence: float = 0.0


@dataclass(kw_only=True)
class Replied(Event):
    """What the assistant answers (the text it speaks; a plugin's data for programs)."""

    type: ClassVar[str] = "reply"
    text: str
    data: dict[str, Any] | None = None


@dataclass(kw_only=True)
class SpeakStart(Event):
    """The first sample of reply audio reached the output."""

    type: ClassVar[str] = "speak_start"
    text: str = ""


@dataclass(kw_only=True)
class SpeakEnd(Event):
    type: ClassVar[str] = "speak_end"
    interrupted: bool = False


@dataclass(kw_only=True)
class AlarmState(Event):
    """An alarm (a finished timer) started or stopped ringing on this device: while it rings, "stop" works
    without the wake word (a satellite that listens for its own wake word streams to the hub meanwhile)."""

    type: ClassVar[str] = "alarm"
    ringing: bool
    text: str = ""


@dataclass(kw_only=True)
class Stopped(Event):
    """ "Stop" was heard without the wake word: ``what`` was cut (``alarm`` or ``reply``)."""

    type: ClassVar[str] = "stopped"
    what: str


@dataclass(kw_only=True)
class Listen(Event):
    """The server asked this device a question (``/v1/converse``): send one command, no wake word needed."""

    type: ClassVar[str] = "listen"


@dataclass(kw_only=True)
class Command(Event):
    """A command for a plugin this device carries out itself (its ``skills``); answer with ``command_done``."""

    type: ClassVar[str] = "command"
    id: int
    intent: str
    slots: dict[str, Any] = field(default_factory=dict)
    text: str = ""


@dataclass(kw_only=True)
class Error(Event):
    """Something failed; ``code`` is stable and greppable, ``message`` tells the user what to do."""

    type: ClassVar[str] = "error"
    code: str
    message: str


@dataclass(kw_only=True)
class Overload(Event):
    """The machine is behind: a bounded audio queue was full and frames were dropped instead of letting
    memory grow, or every recognition worker was busy and a command's transcript waits its turn."""

    type: ClassVar[str] = "overload"
    dropped_frames: int = 0
    queued_frames: int = 0
    recognitions_waiting: int = 0
    """Readings of other commands this command's transcript waits behind (see :mod:`assistant.asr.pool`)."""


EventSink = Callable[[Event], None]


class EventEmitter:
    """Stamps events with the pipeline clock and hands them to every sink.

    Thread-safe: the capture thread, the model worker and handler threads all emit.
    A sink that raises is logged by the caller's logger, never allowed to stop the loop.
    """

    def __init__(self, sinks: list[EventSink] | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self._sinks: list[EventSink] = list(sinks or [])
        self._clock = clock
        self._origin = clock()
        self._lock = threading.Lock()

    def now(self) -> float:
        return self._clock() - self._origin

    def add_sink(self, sink: EventSink) -> None:
        with self._lock:
            self._sinks.append(sink)

    def remove_sink(self, sink: EventSink) -> None:
        with self._lock:
            if sink in self._sinks:
                self._sinks.remove(sink)

    def emit(self, event: Event) -> Event:
        event.t = self.now()
        with self._lock:
            sinks = list(self._sinks)
        for sink in sinks:
            try:
                sink(event)
            except Exception:  # a broken sink (closed socket, full pipe) must not stop the pipeline
                _log.exception("event sink %r failed on %s", sink, event.type)
        return event

