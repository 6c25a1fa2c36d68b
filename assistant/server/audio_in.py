"""Audio arriving over the network, turned into pipeline chunks behind a bounded queue.

The event loop receives messages; the server's feeders (a recording's own
thread) run the pipeline. Between them sits a :class:`ChunkQueue` of 80 ms
chunks (16 kHz mono int16), bounded in seconds of audio. A client sending
faster than the pipeline keeps up either loses the newest chunks (counted,
reported as ``overload``) or, when it asked for ``backpressure``, is simply
not read until there is room again (TCP slows it down). Either way memory
stays bounded.

PCM is converted on the event loop (a frombuffer and, for other rates, a
streaming soxr resample: microseconds). Compressed container streams from a
browser's MediaRecorder (webm/opus, ogg/opus) are decoded incrementally by
:func:`~assistant.audio.decode.decode_stream` in a decoder thread that reads
the container's bytes from a second :class:`ChunkQueue`, bounded in bytes.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Generic, Protocol, TypeVar

import numpy as np

from assistant.audio.chunker import Chunker
from assistant.audio.decode import Loss, decode_stream
from assistant.audio.raw import PCM_FORMATS, PcmDecoder
from assistant.audio.source import CHUNK_SAMPLES
from assistant.audio.stats import InputStats
from assistant.errors import AudioInputError
from assistant.events import Error, EventSink
from assistant.server.protocol import StartRequest

_log = logging.getLogger(__name__)


_Item = TypeVar("_Item", np.ndarray, bytes)


class ChunkQueue(Generic[_Item]):
    """Thread-safe FIFO of ``(item, arrival time)``; ``offer`` refuses when full, ``put`` never does.

    One bounded buffer for both hand-overs between the event loop and a
    stream's threads: audio chunks to the pipeline (``size`` 1 each: the
    capacity counts chunks) and a container's bytes to its decoder (``size``
    ``len``: the capacity counts bytes). ``put`` is for producers that bound
    themselves (they wait for :meth:`has_room` before taking more input), so
    the queue may exceed ``capacity`` by at most one message.
    """

    def __init__(self, capacity: int, size: Callable[[_Item], int] = lambda item: 1) -> None:
        if capacity < 1:
            raise ValueError(f"queue capacity must be at least 1, got {capacity}")
        self.capacity = capacity
        self.dropped = 0
        self.peak = 0
        self._size_of = size
        self._size = 0
        self._items: collections.deque[tuple[_Item, float]] = collections.deque()
        self._cond = threading.Condition()
        self._ended = False
        self._aborted = False
        self._poked = False
        self._on_waiting: Callable[[], None] | None = None
        self._waiting_told = False

    def __len__(self) -> int:
        return len(self._items)

    def has_room(self) -> bool:
        return self._size < self.capacity or self._aborted

    def offer(self, item: _Item) -> bool:
        """Queue ``item`` unless the queue is full; a refused item is counted in ``dropped``."""
        with self._cond:
            if self._size >= self.capacity:
                self.dropped += 1
                return False
            self._append(item)
        return True

    def put(self, item: _Item) -> None:
        with self._cond:
            self._append(item)

    def put_wait(self, item: _Item) -> None:
        """Block until there is room (for producer threads); returns at once after :meth:`abort`."""
        with self._cond:
            while self._size >= self.capacity and not self._aborted:
                self._cond.wait()
            self._append(item)

    def _append(self, item: _Item) -> None:
        if self._aborted or self._ended:
            return
        self._items.append((item, time.monotonic()))
        self._size += self._size_of(item)
        self.peak = max(self.peak, len(self._items))
        self._wake()

    def _wake(self) -> None:
        """Under the lock: something changed for the consumer (an item, a poke, the end)."""
        self._cond.notify_all()
        if self._on_waiting is not None and not self._waiting_told:
            self._waiting_told = True
            self._on_waiting()

    def on_waiting(self, callback: Callable[[], None]) -> None:
        """A consumer without a thread of its own (the feeders): ``callback`` is called, under the queue's lock,
        when there is something to take, once, until it settles (:meth:`settle`); it must not block."""
        with self._cond:
            self._on_waiting = callback
            if self._pending():
                self._wake()

    def take(self) -> tuple[_Item, float] | None:
        """The next item and when it arrived, or None at once if none waits; clears a poke."""
        with self._cond:
            return self._pop()

    def settle(self) -> bool:
        """The consumer took what it wanted: True if something waits still (it must come back for it),
        else the next arrival calls the ``on_waiting`` callback again."""
        with self._cond:
            if self._pending():
                return True
            self._waiting_told = False
            return False

    def get(self, timeout: float | None = None) -> tuple[_Item, float] | None:
        """The next item and when it arrived; None once the input ended and everything was taken, at once after
        abort, or, with no item to take, after ``timeout`` seconds or a :meth:`poke` (then :attr:`over` is False)."""
        with self._cond:
            self._cond.wait_for(self._pending, timeout)
            return self._pop()

    def _pending(self) -> bool:
        """Under the lock: something for the consumer (an item, a poke, the end, an abort)."""
        return bool(self._items) or self._ended or self._aborted or self._poked

    def _pop(self) -> tuple[_Item, float] | None:
        """Under the lock: the next item (a poke is cleared), or None."""
        self._poked = False
        if self._aborted or not self._items:
            return None
        item = self._items.popleft()
        self._size -= self._size_of(item[0])
        self._cond.notify_all()
        return item

    @property
    def over(self) -> bool:
        """Nothing more will come: the input ended and everything was taken, or it was aborted."""
        with self._cond:
            return self._aborted or (self._ended and not self._items)

    def poke(self) -> None:
        """Wake the consumer without a chunk: something else waits for it (a typed command)."""
        with self._cond:
            self._poked = True
            self._wake()

    def end(self) -> None:
        """No more input: the consumer gets what is queued, then None."""
        with self._cond:
            self._ended = True
            self._wake()

    def abort(self) -> None:
        """The client is gone: drop what is queued and wake everyone."""
        with self._cond:
            self._aborted = True
            self._items.clear()
            self._size = 0
            self._wake()


IDLE_SECONDS = 0.1
"""With no audio coming, how often the consumer looks at what else waits (a turn that ended, a typed command)."""


class QueueSource:
    """The :class:`~assistant.audio.source.AudioSource` a stream's pipeline runs on: pulled by a thread of its
    own (:meth:`frames`, a recording's stream) or fed by the server's feeders (:meth:`feed_waiting`, a live one).

    ``on_processed(seconds)`` is called after the pipeline handled each chunk with
    the time since that chunk arrived: the server-side delay of anything the chunk
    triggers. ``on_idle()`` is called, on the same thread, when no chunk came for
    :data:`IDLE_SECONDS` or the queue was poked: a client that only types sends no audio.
    """

    def __init__(
        self,
        queue: ChunkQueue[np.ndarray],
        name: str,
        *,
        emit: EventSink | None = None,
        on_processed: Callable[[float], None] | None = None,
        on_idle: Callable[[], None] | None = None,
    ) -> None:
        self.name = name
        self.stats = InputStats()
        self._queue = queue
        self._emit = emit
        self._on_processed = on_processed
        self._on_idle = on_idle

    def frames(self) -> Iterator[np.ndarray]:
        try:
            while True:
                item = self._queue.get(IDLE_SECONDS if self._on_idle is not None else None)
                if item is None:
                    if self._queue.over:
                        break
                    if self._on_idle is not None:
                        self._on_idle()
                    continue
                chunk, arrived = item
                self.stats.frames += 1
                yield chunk
                if self._on_processed is not None:
                    self._on_processed(time.monotonic() - arrived)
        finally:
            self.report_end()

    def feed_waiting(self, feed: Callable[[np.ndarray], None], limit: int) -> int:
        """Feed up to ``limit`` chunks that already wait, without waiting for more; how many were fed.
        With none to feed (poked, or looked at after :data:`IDLE_SECONDS` without audio), ``on_idle`` runs."""
        fed = 0
        while fed < limit and (item := self._queue.take()) is not None:
            chunk, arrived = item
            self.stats.frames += 1
            feed(chunk)
            fed += 1
            if self._on_processed is not None:
                self._on_processed(time.monotonic() - arrived)
        if not fed and self._on_idle is not None and not self._queue.over:
            self._on_idle()
        return fed

    def on_waiting(self, callback: Callable[[], None]) -> None:
        """See :meth:`ChunkQueue.on_waiting`."""
        self._queue.on_waiting(callback)

    def settle(self) -> bool:
        """See :meth:`ChunkQueue.settle`."""
        return self._queue.settle()

    def poke(self) -> None:
        self._queue.poke()

    @property
    def over(self) -> bool:
        return self._queue.over

    def report_end(self) -> None:
        """The stream's last ``audio_stats``, with the frames the queue dropped."""
        self.stats.dropped_frames = self._queue.dropped
        self.stats.report(self._emit, force=True)

    def close(self) -> None:
        self._queue.abort()


class StreamInput(Protocol):
    """What the connection does with a stream's binary messages (on the event loop; never blocks)."""

    def push(self, data: bytes) -> None: ...

    def has_room(self) -> bool:
        """False while the client should not be read (backpressure streams only)."""
        ...

    def end(self) -> None:
        """The client sent ``stop``: convert what is left, then end the queue."""
        ...

    def abort(self) -> None: ...


class _Delivery:
    """Hands converted chunks to the queue: waiting (backpressure) or dropping and reporting."""

    def __init__(self, queue: ChunkQueue[np.ndarray], backpressure: bool, on_drop: Callable[[], None]) -> None:
        self.queue = queue
        self.backpressure = backpressure
        self.on_drop = on_drop
        self.chunker = Chunker(CHUNK_SAMPLES)

    def send(self, audio: np.ndarray, *, blocking: bool = False) -> None:
        for chunk in self.chunker.push(audio):
            if self.backpressure:
                (self.queue.put_wait if blocking else self.queue.put)(chunk)
            elif not self.queue.offer(chunk):
                self.on_drop()

    def finish(self) -> None:
        tail = self.chunker.flush()
        if tail is not None:
            self.queue.put(tail)
        self.queue.end()


class PcmInput:
    """Raw interleaved PCM (s16le or f32le) at any rate; a sample split across messages is carried over."""

    def __init__(self, request: StartRequest, queue: ChunkQueue[np.ndarray], source: QueueSource, on_drop: Callable[[], None]) -> None:
        assert request.pcm_format is not None and request.rate is not None
        self._decoder = PcmDecoder(request.rate, PCM_FORMATS[request.pcm_format], request.channels)
        source.stats.repairs = self._decoder.counts
        self._delivery = _Delivery(queue, request.backpressure, on_drop)

    def push(self, data: bytes) -> None:
        audio = self._decoder.decode(data)
        if len(audio):
            self._delivery.send(audio)

    def has_room(self) -> bool:
        """A live stream (no backpressure) is always read: what does not fit is dropped, not delayed."""
        return not self._delivery.backpressure or self._delivery.queue.has_room()

    def end(self) -> None:
        self._delivery.send(self._decoder.finish())
        self._delivery.finish()

    def abort(self) -> None:
        self._delivery.queue.abort()


class _QueueReader:
    """The file FFmpeg reads a container stream from: blocks until bytes arrive, returns at most ``n`` of them
    (FFmpeg copes with short reads), and ``b""`` (end of file) once the queue is over."""

    def __init__(self, queue: ChunkQueue[bytes]) -> None:
        self._queue = queue
        self._rest = b""

    def read(self, n: int = -1) -> bytes:
        if not self._rest:
            item = self._queue.get()
            if item is None:
                return b""
            self._rest = item[0]
        if 0 <= n < len(self._rest):
            head, self._rest = self._rest[:n], self._rest[n:]
            return head
        head, self._rest = self._rest, b""
        return head


class ContainerInput:
    """A compressed container stream, decoded incrementally by a decoder thread.

    Dropping happens after decoding, on whole chunks: dropping bytes of a
    container would corrupt everything after them.
    """

    def __init__(self, request: StartRequest, queue: ChunkQueue[np.ndarray], on_drop: Callable[[], None], emit: EventSink, capacity_bytes: int) -> None:
        assert request.container is not None
        self._format = request.container
        self._encoding = request.encoding
        self._bytes: ChunkQueue[bytes] = ChunkQueue(capacity_bytes, len)
        self._delivery = _Delivery(queue, request.backpressure, on_drop)
        self._emit = emit
        self._thread = threading.Thread(target=self._decode, name=f"decode-{self._format}", daemon=True)
        self._thread.start()

    def push(self, data: bytes) -> None:
        self._bytes.put(data)

    def has_room(self) -> bool:
        """Bytes waiting for the decoder are bounded either way: it is fast, and drops (if at all) after decoding."""
        return self._bytes.has_room()

    def end(self) -> None:
        self._bytes.end()

    def abort(self) -> None:
        self._bytes.abort()
        self._delivery.queue.abort()

    def _decode(self) -> None:
        try:
            for block in decode_stream(_QueueReader(self._bytes), self._format, self._lost):
                self._delivery.send(block, blocking=True)
        except AudioInputError as exc:
            self._report("audio_decode", f"{exc}; the stream ends here")
        except Exception as exc:  # a decoder crash must end this stream, not leave its pipeline waiting forever
            _log.exception("decoder thread failed")
            self._emit(Error(code="audio_decode", message=f"{self._encoding}: decoding failed: {exc}"))
        finally:
            self._bytes.abort()
            self._delivery.finish()

    def _lost(self, loss: Loss) -> None:
        self._report(loss.code, f"{loss.detail}; the stream ends here")

    def _report(self, code: str, detail: str) -> None:
        message = f"{self._encoding}: {detail}"
        _log.warning("%s", message)
        self._emit(Error(code=code, message=message))
