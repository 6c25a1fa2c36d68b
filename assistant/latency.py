"""Latency per stage, read off the event stream.

Every stage stamps its event with the pipeline clock, so a stage's latency is
the difference between two events of one turn; nothing in the stages measures
itself. ``end of speech → first audio`` is what the user waits through once they
stop talking: the endpointer's trailing silence (audio time, from ``speech_end``)
plus everything after it.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from assistant.events import Event, SpeechEnd

STAGES = (
    ("wake→speech_start", "wake", "speech_start"),
    ("speech_end→transcript", "speech_end", "transcript"),
    ("transcript→intent", "transcript", "intent"),
    ("intent→reply", "intent", "reply"),
    ("reply→first audio", "reply", "speak_start"),
)
END_TO_AUDIO = "end of speech→first audio"

_TURN_START = {"wake", "speech_start"}


@dataclass(frozen=True)
class StageStats:
    n: int
    p50: float
    p95: float
    p99: float


class LatencyTracker:
    """An event sink that pairs the events of each turn and keeps the last ``keep`` latencies per stage.

    ``on_latency(stage, seconds)`` is told each latency as it is measured (the server's metrics).
    """

    def __init__(self, keep: int = 10_000, on_latency: Callable[[str, float], None] | None = None) -> None:
        self._on_latency = on_latency
        self._turn: dict[str, Event] = {}
        self._values: dict[str, deque[float]] = {name: deque(maxlen=keep) for name, _, _ in STAGES}
        self._values[END_TO_AUDIO] = deque(maxlen=keep)
        self._lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        kind = "intent" if event.type == "no_intent" else event.type  # a rejection answers the intent stage too
        with self._lock:
            if kind in _TURN_START and "speech_end" in self._turn:
                self._turn = {}  # a new command: the previous turn is over
            if kind in self._turn:
                return  # only the first event of a kind counts within a turn
            self._turn[kind] = event
            for name, first, second in STAGES:
                if kind == second and first in self._turn:
                    self._record(name, event.t - self._turn[first].t)
            end = self._turn.get("speech_end")
            if kind == "speak_start" and isinstance(end, SpeechEnd):
                self._record(END_TO_AUDIO, event.t - end.t + end.endpoint_delay)

    def _record(self, stage: str, seconds: float) -> None:
        self._values[stage].append(seconds)
        if self._on_latency is not None:
            self._on_latency(stage, seconds)

    def summary(self) -> dict[str, StageStats]:
        with self._lock:
            values = {name: list(v) for name, v in self._values.items()}
        return {
            name: StageStats(len(v), *(float(np.percentile(v, q)) for q in (50, 95, 99)))
            for name, v in values.items()
            if v
        }

    def format(self) -> str:
        stats = self.summary()
        if not stats:
            return "latency: no complete turns yet"
        width = max(len(name) for name in stats)
        lines = [f"{'stage':<{width}}  {'n':>5}  {'p50 ms':>8}  {'p95 ms':>8}  {'p99 ms':>8}"]
        for name, s in stats.items():
            lines.append(f"{name:<{width}}  {s.n:>5}  {s.p50 * 1000:>8.0f}  {s.p95 * 1000:>8.0f}  {s.p99 * 1000:>8.0f}")
        return "\n".join(lines)
