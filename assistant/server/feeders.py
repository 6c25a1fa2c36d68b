"""A few threads that feed every live stream's audio to its pipeline, instead of one thread per stream.

Why: a live stream costs its wake model and VAD about 0.2 ms of CPU every 80 ms. With a thread per stream,
128 microphones were 128 threads waking 1,600 times a second, each taking Python's GIL for a moment: the
kernel time of handing the GIL around (40 % of the server's CPU), and the event loop (which receives every
client's audio and sends every event) waiting its turn behind them, made events seconds late while the
CPU was not full. Here a stream with audio waiting goes on one ready queue; the feeder threads take
streams from it in turn and feed what waits, so a busy second costs a few wake-ups, not thousands.

A stream is on the ready queue at most once (its :class:`~assistant.server.audio_in.ChunkQueue` knows),
so its chunks are fed in order by one thread at a time. A feeder takes at most :data:`BATCH` chunks of
a stream before the stream goes to the back of the queue: one that fell behind does not hold up the
others. A stream that gets no audio is looked at every :data:`~assistant.server.audio_in.IDLE_SECONDS`
(a finished turn to close, a typed command to serve), as a recording's own thread does.

Feeding never waits: a live pipeline's ``feed`` does not (its turns run on their own thread), so a few
threads serve any number of streams. What may wait, the end of a stream (it lets the turn in flight
complete), runs on a thread of its own.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable

import numpy as np

from assistant.config import Config
from assistant.server.audio_in import IDLE_SECONDS, QueueSource

_log = logging.getLogger(__name__)

BATCH = 4
"""Chunks (320 ms of audio) a feeder takes from one stream before the next stream's turn."""


def feeder_threads(config: Config) -> int:
    """``server.feeder_threads``, or what suits the wake engine (measured with ``bench/bench_server.py``).

    microWakeWord's models take ~0.1 ms a chunk: one feeder keeps 200 streams on time, and a second only
    adds GIL hand-offs (p95 event latency 32 ms with one thread, 1.3 s with two). openWakeWord's take
    ~2 ms of native code a chunk, outside the GIL, so a thread per core runs them side by side (40 streams:
    p95 21 ms with two threads, 1.4 s with one).
    """
    if config.server.feeder_threads is not None:
        return config.server.feeder_threads
    if config.wake.engine == "openwakeword":
        return os.cpu_count() or 1
    return 1


class Feed:
    """One live stream on the feeders: its source (which also says what to do when idle), what each chunk
    goes to, and what ends it.

    ``on_end(error)`` runs on a thread of its own once the source is over (``error`` None) or feeding
    raised (the exception): the stream finishes its pipeline there.
    """

    def __init__(
        self,
        feeders: Feeders,
        source: QueueSource,
        feed: Callable[[np.ndarray], None],
        on_end: Callable[[BaseException | None], None],
    ) -> None:
        self._feeders = feeders
        self.source = source
        self._feed = feed
        self._on_end = on_end
        self.last_fed = time.monotonic()

    def step(self) -> None:
        """On a feeder thread: feed what waits, then leave the ready queue or go back to its end."""
        try:
            fed = self.source.feed_waiting(self._feed, BATCH)
        except Exception as exc:  # a pipeline fault ends this stream with a reason, never a feeder
            self._end(exc)
            return
        if fed:
            self.last_fed = time.monotonic()
        if fed == BATCH:
            self._feeders.ready(self)
        elif self.source.over:
            self._end(None)
        elif self.source.settle():
            self._feeders.ready(self)

    def _end(self, error: BaseException | None) -> None:
        self._feeders.detach(self)
        threading.Thread(target=self._on_end, args=(error,), name="stream-end", daemon=True).start()


class Feeders:
    """The server's feeder threads (started with the first stream) and the ticker that looks at idle streams."""

    def __init__(self, threads: int) -> None:
        if threads < 1:
            raise ValueError(f"feeder threads must be at least 1, got {threads}")
        self.threads = threads
        self._ready: queue.SimpleQueue[Feed | None] = queue.SimpleQueue()
        self._feeds: set[Feed] = set()
        self._lock = threading.Lock()
        self._workers: list[threading.Thread] = []
        self._closed = threading.Event()

    def attach(
        self,
        source: QueueSource,
        feed: Callable[[np.ndarray], None],
        *,
        on_end: Callable[[BaseException | None], None],
    ) -> Feed:
        """Feed ``source``'s chunks to ``feed`` from now on, until the source is over."""
        item = Feed(self, source, feed, on_end)
        with self._lock:
            if self._closed.is_set():
                raise RuntimeError("the feeders were closed: the server is stopping")
            self._start()
            self._feeds.add(item)
        source.on_waiting(lambda: self.ready(item))
        return item

    def ready(self, item: Feed) -> None:
        self._ready.put(item)

    def detach(self, item: Feed) -> None:
        with self._lock:
            self._feeds.discard(item)

    def close(self) -> None:
        """Stop the threads (the server is stopping; its streams were aborted)."""
        with self._lock:
            self._closed.set()
            workers, self._workers = self._workers, []
        for _ in workers[: self.threads]:
            self._ready.put(None)
        for worker in workers:
            worker.join(5.0)

    def _start(self) -> None:
        if self._workers:
            return
        self._workers = [threading.Thread(target=self._work, name=f"feeder-{i}", daemon=True) for i in range(self.threads)]
        self._workers.append(threading.Thread(target=self._tick, name="feeder-ticker", daemon=True))
        for worker in self._workers:
            worker.start()

    def _work(self) -> None:
        while (item := self._ready.get()) is not None:
            try:
                item.step()
            except Exception:  # a bug in one stream's bookkeeping must not stop every stream's audio
                _log.exception("a feeder failed on a stream")

    def _tick(self) -> None:
        """Every idle interval, poke the streams that got no audio for that long (their ``on_idle`` then runs)."""
        while not self._closed.wait(IDLE_SECONDS):
            quiet_since = time.monotonic() - IDLE_SECONDS
            with self._lock:
                quiet = [item for item in self._feeds if item.last_fed <= quiet_since]
            for item in quiet:
                item.source.poke()
