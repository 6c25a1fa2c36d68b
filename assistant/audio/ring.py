"""A fixed-capacity ring of recent samples.

The wake detector fires a few frames after the wake word ends; whatever the
user said in between lives only here. Capacity is fixed at construction so an
assistant running for days never grows.
"""

from __future__ import annotations

import numpy as np


class RingBuffer:
    def __init__(self, capacity: int, dtype: type = np.int16, *, start: int = 0) -> None:
        """``start``: the stream position of the first sample that will be written."""
        if capacity <= 0:
            raise ValueError(f"ring capacity must be positive, got {capacity}")
        self.capacity = capacity
        self._buf = np.zeros(capacity, dtype=dtype)
        self._end = start  # stream position just past the newest sample
        self._count = 0

    @property
    def total(self) -> int:
        """The stream position just past the newest sample."""
        return self._end

    def __len__(self) -> int:
        return self._count

    def write(self, samples: np.ndarray) -> None:
        n = len(samples)
        if n > self.capacity:  # only the newest `capacity` samples can be kept
            self._end += n - self.capacity
            samples = samples[-self.capacity :]
            n = self.capacity
        start = self._end % self.capacity
        first = min(n, self.capacity - start)
        self._buf[start : start + first] = samples[:first]
        self._buf[: n - first] = samples[first:]
        self._end += n
        self._count = min(self.capacity, self._count + n)

    def since(self, position: int) -> np.ndarray:
        """Samples from absolute stream ``position`` to now (clamped to what is still held)."""
        oldest = self._end - self._count
        position = max(position, oldest)
        n = self._end - position
        if n <= 0:
            return np.zeros(0, dtype=self._buf.dtype)
        start = position % self.capacity
        if start + n <= self.capacity:
            return self._buf[start : start + n].copy()
        return np.concatenate((self._buf[start:], self._buf[: n - (self.capacity - start)]))

    def last(self, n: int) -> np.ndarray:
        return self.since(self._end - n)

    def clear(self) -> None:
        self._count = 0
