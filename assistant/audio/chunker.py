"""Fixed-size framing of a stream of variable-size blocks.

Devices and sockets deliver blocks of any length; the wake model wants 80 ms,
webrtcvad 10/20/30 ms. The chunker keeps one preallocated buffer and hands out
views-turned-copies of exactly ``size`` samples, with no per-sample Python loop.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np


class Chunker:
    def __init__(self, size: int, dtype: type = np.int16) -> None:
        if size <= 0:
            raise ValueError(f"chunk size must be positive, got {size}")
        self.size = size
        self._buf = np.zeros(size, dtype=dtype)
        self._fill = 0

    @property
    def pending(self) -> int:
        """Samples waiting for the next full chunk."""
        return self._fill

    def push(self, block: np.ndarray) -> Iterator[np.ndarray]:
        """Yield every full chunk that ``block`` completes; keep the remainder."""
        pos = 0
        n = len(block)
        if self._fill:
            take = min(self.size - self._fill, n)
            self._buf[self._fill : self._fill + take] = block[:take]
            self._fill += take
            pos = take
            if self._fill < self.size:
                return
            yield self._buf.copy()
            self._fill = 0
        full = (n - pos) // self.size
        if full:
            yield from block[pos : pos + full * self.size].reshape(full, self.size).copy()
            pos += full * self.size
        rest = n - pos
        if rest:
            self._buf[:rest] = block[pos:]
            self._fill = rest

    def flush(self) -> np.ndarray | None:
        """The last partial chunk, zero-padded to full size (None when nothing is pending)."""
        if not self._fill:
            return None
        out = self._buf.copy()
        out[self._fill :] = 0
        self._fill = 0
        return out
