"""Audio arriving over the network, turned into pipeline chunks behind a bounded queue.

The event loop receives messages; a stream's worker thread runs the pipeline.
Between them sits a :class:`ChunkQueue` of 80 ms chunks (16 kHz mono int16),
bounded in seconds of audio. A client sending faster than the pipeline keeps
up either loses the newest chunks (counted, reported as ``overload``) or, when
it asked for ``backpressure``, is simply not read until there is room again
(TCP slows it down). Either way memory stays bounded.

PCM is converted on the event loop (a frombuffer and, for other rates, a
streaming soxr resample: microseconds). Compressed container streams from a
browser's MediaRecorder (webm/opus, ogg/opus) are demuxed and decoded
incrementally by FFmpeg (PyAV) in a decoder thread that reads from a
:class:`BytePipe`.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Protocol

import numpy as np

from assistant.audio.chunker import Chunker
from assistant.audio.convert import StreamConverter
from assistant.audio.file import FileSource
from assistant.audio.raw import PCM_FORMATS, PcmDecoder
from assistant.audio.source import CHUNK_SAMPLES
from assistant.audio.stats import InputStats
from assistant.errors import AudioInputError
from assistant.events import Error, EventSink
from assistant.server.protocol import StartRequest

_log = logging.getLogger(__name__)


class ChunkQueue:
    """Thread-safe FIFO of ``(chunk, arrival time)``; ``offer`` refuses when full, ``put`` never does.

    ``put`` is for producers that bound themselves (they wait for :meth:`has_room`
    before taking more input), so the queue may exceed ``capacity`` by at most
    one message worth of chunks.
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"queue capacity must be at least one chunk, got {capacity}")
        self.capacity = capacity
        self.dropped = 0
        self.peak = 0
        self._items: collections.deque[tuple[np.ndarray, float]] = collections.deque()
        self._cond = threading.Condition()
        self._ended = False
        self._aborted = False
        self._poked = False

    def __len__(self) -> int:
        return len(self._items)

    def has_room(self) -> bool:
        return len(self._items) < self.capacity or self._aborted

    def offer(self, chunk: np.ndarray) -> bool:
        """Queue ``chunk`` unless the queue is full; a refused chunk is counted in ``dropped``."""
        with self._cond:
            if len(self._items) >= self.capacity:
                self.dropped += 1
                return False
            self._append(chunk)
        return True

    def put(self, chunk: np.ndarray) -> None:
        with self._cond:
            self._append(chunk)

    def put_wait(self, chunk: np.ndarray) -> None:
        """Block until there is room (for producer threads); returns at once after :meth:`abort`."""
        with self._cond:
            while len(self._items) >= self.capacity and not self._aborted:
                self._cond.wait()
            self._append(chunk)

    def _append(self, chunk: np.ndarray) -> None:
        if self._aborted or self._ended:
            return
        self._items.append((chunk, time.monotonic()))
        self.peak = max(self.peak, len(self._items))
        self._cond.notify_all()

    def get(self, timeout: float | None = None) -> tuple[np.ndarray, float] | None:
        """The next chunk and when it arrived; None once the input ended and everything was taken, at once after
        abort, or, with no chunk to take, after ``timeout`` seconds or a :meth:`poke` (then :attr:`over` is False)."""
        with self._cond:
            self._cond.wait_for(lambda: self._items or self._ended or self._aborted or self._poked, timeout)
            self._poked = False
            if self._aborted or not self._items:
                return None
            item = self._items.popleft()
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
            self._cond.notify_all()

    def end(self) -> None:
        """No more input: the consumer gets what is queued, then None."""
        with self._cond:
            self._ended = True
            self._cond.notify_all()

    def abort(self) -> None:
        """The client is gone: drop what is queued and wake everyone."""
        with self._cond:
            self._aborted = True
            self._items.clear()
            self._cond.notify_all()


IDLE_SECONDS = 0.1
"""With no audio coming, how often the consumer looks at what else waits (a turn that ended, a typed command)."""


class QueueSource:
    """The :class:`~assistant.audio.source.AudioSource` a stream's pipeline runs on.

    ``on_processed(seconds)`` is called after the pipeline handled each chunk with
    the time since that chunk arrived: the server-side delay of anything the chunk
    triggers. ``on_idle()`` is called, on the same thread, when no chunk came for
    :data:`IDLE_SECONDS` or the queue was poked: a client that only types sends no audio.
    """

    def __init__(
        self,
        queue: ChunkQueue,
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

    def __init__(self, queue: ChunkQueue, backpressure: bool, on_drop: Callable[[], None]) -> None:
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

    def __init__(self, request: StartRequest, queue: ChunkQueue, source: QueueSource, on_drop: Callable[[], None]) -> None:
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


class BytePipe:
    """A file-like byte channel from the event loop (``write``) to a decoder thread (``read``).

    ``read`` blocks until data arrives and returns what is there (FFmpeg copes
    with short reads); it returns ``b""`` (end of file) after :meth:`close` once
    drained, or at once after :meth:`abort`.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._chunks: collections.deque[bytes] = collections.deque()
        self._size = 0
        self._cond = threading.Condition()
        self._closed = False
        self._aborted = False

    def write(self, data: bytes) -> None:
        with self._cond:
            if self._closed or self._aborted:
                return
            self._chunks.append(bytes(data))
            self._size += len(data)
            self._cond.notify_all()

    def has_room(self) -> bool:
        return self._size < self.capacity or self._aborted

    def read(self, n: int = -1) -> bytes:
        with self._cond:
            while not self._chunks and not self._closed and not self._aborted:
                self._cond.wait()
            if self._aborted or not self._chunks:
                return b""
            head = self._chunks.popleft()
            if 0 <= n < len(head):
                self._chunks.appendleft(head[n:])
                head = head[:n]
            self._size -= len(head)
            return head

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def abort(self) -> None:
        with self._cond:
            self._aborted = True
            self._chunks.clear()
            self._size = 0
            self._cond.notify_all()


def _av():
    try:
        import av
    except ImportError:
        raise AudioInputError("compressed audio needs PyAV: pip install 'assistant[server]'") from None
    return av


def decode_container(file: IO[bytes] | str | Path, container_format: str | None = None) -> Iterator[np.ndarray]:
    """Decode the first audio track of a container (webm, ogg, mp4, mp3, ...) to 16 kHz mono int16 blocks.

    Packets are decoded as they are demuxed, so a live stream yields audio as
    soon as its clusters arrive. Probing is kept minimal for the same reason:
    the live formats name their codec in the header. Raises
    :class:`AudioInputError` when the data is not audio FFmpeg can decode.
    """
    av = _av()
    live = container_format is not None
    options = {"probesize": "32", "analyzeduration": "0", "fflags": "nobuffer"} if live else {}
    try:
        container = av.open(file, mode="r", format=container_format, options=options)
    except (av.FFmpegError, ValueError, OSError) as exc:
        raise AudioInputError(f"not a {container_format or 'readable audio'} stream: {_reason(exc)}") from None
    try:
        if not container.streams.audio:
            raise AudioInputError(f"the {container.format.name} data has no audio track")
        stream = container.streams.audio[0]
        converter: StreamConverter | None = None
        try:
            for packet in container.demux(stream):
                for frame in packet.decode():
                    samples = frame.to_ndarray()
                    channels = len(frame.layout.channels)
                    block = samples.T if frame.format.is_planar else samples.reshape(-1, channels)
                    if converter is None:
                        converter = StreamConverter(frame.sample_rate)
                    yield converter.convert(block)
        except av.FFmpegError as exc:
            if converter is None:
                raise AudioInputError(f"cannot decode the {stream.codec_context.name} audio: {_reason(exc)}") from None
            _log.warning("decoding stopped part-way: %s", _reason(exc))
        if converter is None:
            raise AudioInputError("the stream ended before any audio was decoded")
        yield converter.convert(np.zeros((0, 1), np.float32), last=True)
    finally:
        container.close()


def _reason(exc: Exception) -> str:
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


class ContainerInput:
    """A compressed container stream, decoded incrementally by a decoder thread.

    Dropping happens after decoding, on whole chunks: dropping bytes of a
    container would corrupt everything after them.
    """

    def __init__(self, request: StartRequest, queue: ChunkQueue, on_drop: Callable[[], None], emit: EventSink, capacity_bytes: int) -> None:
        assert request.container is not None
        self._format = request.container
        self._encoding = request.encoding
        self._pipe = BytePipe(capacity_bytes)
        self._delivery = _Delivery(queue, request.backpressure, on_drop)
        self._emit = emit
        self._thread = threading.Thread(target=self._decode, name=f"decode-{self._format}", daemon=True)
        self._thread.start()

    def push(self, data: bytes) -> None:
        self._pipe.write(data)

    def has_room(self) -> bool:
        """Bytes waiting for the decoder are bounded either way: it is fast, and drops (if at all) after decoding."""
        return self._pipe.has_room()

    def end(self) -> None:
        self._pipe.close()

    def abort(self) -> None:
        self._pipe.abort()
        self._delivery.queue.abort()

    def _decode(self) -> None:
        try:
            for block in decode_container(self._pipe, self._format):
                self._delivery.send(block, blocking=True)
        except AudioInputError as exc:
            message = f"{self._encoding}: {exc}; the stream ends here"
            _log.warning("%s", message)
            self._emit(Error(code="audio_decode", message=message))
        except Exception as exc:  # a decoder crash must end this stream, not leave its pipeline waiting forever
            _log.exception("decoder thread failed")
            self._emit(Error(code="audio_decode", message=f"{self._encoding}: decoding failed: {exc}"))
        finally:
            self._pipe.abort()
            self._delivery.finish()


def decode_upload(path: Path) -> Iterator[np.ndarray]:
    """An uploaded file as pipeline chunks: libsndfile formats first (WAV, FLAC, OGG, MP3), then FFmpeg (webm, m4a, ...)."""
    try:
        source = FileSource(path)
    except AudioInputError as sndfile_error:
        try:
            blocks = decode_container(str(path))
            first = next(blocks)
        except AudioInputError as ffmpeg_error:
            raise AudioInputError(f"not an audio file: {_strip_path(sndfile_error, path)}; FFmpeg: {ffmpeg_error}") from None
        return _chunked(first, blocks)
    return source.frames()


def _chunked(first: np.ndarray, rest: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
    chunker = Chunker(CHUNK_SAMPLES)
    yield from chunker.push(first)
    for block in rest:
        yield from chunker.push(block)
    tail = chunker.flush()
    if tail is not None:
        yield tail


def _strip_path(exc: Exception, path: Path) -> str:
    """Uploads live in a temp file whose name means nothing to the client."""
    return str(exc).replace(f"{path}: ", "")
