"""Counters of what an input stage repaired or lost, reported as ``audio_stats`` events.

A full queue or a NaN from a driver is counted and reported, never silent; but
a hot microphone clipping on every block must not flood the event stream, so a
report goes out at most once per ``interval`` seconds, and always at the end.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

from assistant.audio.convert import RepairCounts
from assistant.events import AudioStats, EventSink


@dataclass
class InputStats:
    frames: int = 0
    overflows: int = 0
    dropped_frames: int = 0
    repairs: RepairCounts = field(default_factory=RepairCounts)
    _reported: tuple[int, int, int, int] = (0, 0, 0, 0)
    _last_report: float = 0.0

    def snapshot(self) -> AudioStats:
        return AudioStats(frames=self.frames, overflows=self.overflows, dropped_frames=self.dropped_frames, **asdict(self.repairs))

    def report(self, emit: EventSink | None, *, interval: float = 1.0, force: bool = False) -> None:
        """Emit an ``audio_stats`` event if a problem counter moved since the last report."""
        if emit is None:
            return
        key = (self.overflows, self.dropped_frames, self.repairs.nan_samples, self.repairs.clipped_samples)
        now = time.monotonic()
        changed = key != self._reported
        if (changed and now - self._last_report >= interval) or force:
            self._reported = key
            self._last_report = now
            emit(self.snapshot())
