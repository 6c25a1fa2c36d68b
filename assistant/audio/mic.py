"""The microphone as a source, built to run for days.

A capture thread reads the device with PortAudio's blocking API and queues
each block: it never waits for the consumer, never runs a model, and when the
queue is full the block is dropped and counted. Conversion (resampling,
channel mixing) happens on the consumer side.

Why blocking reads and not a PortAudio callback: when the sound server dies
under a callback stream (PulseAudio restarted, the ALSA "pulse" device gone),
PortAudio's callback thread spins printing "Expression 'self->capture.ready ||
self->playback.ready' failed" to stderr as fast as it can, and ``abort()``
never returns (measured: gigabytes of stderr per minute, the consumer hung for
good). A blocking read instead raises at once and the stream closes in a
millisecond.

If the device disappears the source reports an ``error`` event and keeps
trying to reopen it every ``retry_seconds``, so the assistant comes back by itself.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterator

import numpy as np

from assistant.audio import devices
from assistant.audio.chunker import Chunker
from assistant.audio.convert import SAMPLE_RATE, Channel, StreamConverter
from assistant.audio.source import CHUNK_SAMPLES
from assistant.audio.stats import InputStats
from assistant.errors import DeviceError
from assistant.events import Device, Error, EventSink

_log = logging.getLogger(__name__)

_STALL_SECONDS = 2.0
"""No block for this long from an open stream means the device is gone."""
_LOST = None
"""Queued by the capture thread when the device failed."""


class MicrophoneSource:
    def __init__(
        self,
        device: int | str | None = None,
        *,
        device_rate: int | None = None,
        channel: Channel = "mix",
        queue_seconds: float = 2.0,
        retry_seconds: float = 3.0,
        block_samples: int = CHUNK_SAMPLES,
        emit: EventSink | None = None,
    ) -> None:
        self._spec = device
        self.info = devices.resolve(device, "input")
        self.name = self.info.name
        self.stats = InputStats()
        self._device_rate = device_rate
        self._channel = channel
        self._block = block_samples
        """Samples per block delivered (at 16 kHz): 80 ms by default, the pipeline's chunk; ``assistant run`` asks
        for less (``audio.block_ms``), so the end of a command is seen sooner."""
        self._queue_blocks = max(2, round(queue_seconds * SAMPLE_RATE / block_samples))
        self._retry_seconds = retry_seconds
        self._emit = emit
        self._closed = threading.Event()
        self._capture: _Capture | None = None
        self._converter = StreamConverter(SAMPLE_RATE, channel)

    def frames(self) -> Iterator[np.ndarray]:
        chunker = Chunker(self._block)
        while not self._closed.is_set():
            if self._capture is None and not self._open():
                self._closed.wait(self._retry_seconds)
                continue
            capture = self._capture
            try:
                block = capture.queue.get(timeout=0.25)
            except queue.Empty:
                if time.monotonic() - capture.last_block > _STALL_SECONDS:
                    self._lost("the device stopped delivering audio")
                continue
            if block is _LOST:
                self._lost(capture.error or "the device failed")
                continue
            capture.last_block = time.monotonic()
            for chunk in chunker.push(self._converter.convert(block)):
                self.stats.frames += 1
                yield chunk
            self.stats.report(self._emit)
        self._close_capture()
        self.stats.report(self._emit, force=True)

    def close(self) -> None:
        self._closed.set()

    def _open(self) -> bool:
        sd = devices._sd()
        try:
            if self.stats.frames:  # reopening after a loss: see replugged devices
                devices.rescan()
                self.info = devices.resolve(self._spec, "input")
            rate = self._pick_rate(sd)
            channels = self._pick_channels()
            stream = sd.InputStream(device=self.info.index, samplerate=rate, channels=channels, dtype="int16", blocksize=round(rate * self._block / SAMPLE_RATE))
            stream.start()
        except (DeviceError, sd.PortAudioError, OSError, ValueError) as exc:
            message = f"cannot open input device {self._spec if self._spec is not None else 'default'!r}: {exc}; retrying every {self._retry_seconds:g} s"
            _log.warning("%s", message)
            if self._emit is not None:
                self._emit(Error(code="device_unavailable", message=message))
            return False
        self._converter = StreamConverter(rate, self._channel)
        self.stats.repairs = self._converter.counts
        self._capture = _Capture(stream, self._queue_blocks, self.stats)
        _log.info("opened input device %r at %d Hz, %d channel(s)", self.info.name, rate, channels)
        if self._emit is not None:
            self._emit(Device(name=self.info.name, rate=rate, channels=channels))
        return True

    def _pick_rate(self, sd) -> int:
        if self._device_rate:
            return self._device_rate
        try:
            sd.check_input_settings(device=self.info.index, samplerate=SAMPLE_RATE, channels=1, dtype="int16")
            return SAMPLE_RATE
        except (sd.PortAudioError, ValueError):
            return int(self.info.default_samplerate)

    def _pick_channels(self) -> int:
        if self._channel == "mix":
            return max(1, min(self.info.max_input_channels, 2))
        if self._channel >= self.info.max_input_channels:
            raise DeviceError(f"channel {self._channel} does not exist on {self.info.name!r} ({self.info.max_input_channels} channels)")
        return self._channel + 1

    def _lost(self, why: str) -> None:
        message = f"input device {self.info.name!r} lost ({why}); retrying every {self._retry_seconds:g} s"
        _log.warning("%s", message)
        if self._emit is not None:
            self._emit(Error(code="device_lost", message=message))
        self._close_capture()

    def _close_capture(self) -> None:
        capture, self._capture = self._capture, None
        if capture is not None:
            capture.stop()


class _Capture:
    """One open input stream and the thread that reads it."""

    def __init__(self, stream, queue_blocks: int, stats: InputStats) -> None:
        self.stream = stream
        self.stats = stats
        self.queue: queue.Queue[np.ndarray | None] = queue.Queue(maxsize=queue_blocks)
        self.error: str | None = None
        self.last_block = time.monotonic()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="capture", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._stopping.is_set():
                try:
                    block, overflowed = self.stream.read(self.stream.blocksize)
                except Exception as exc:  # PortAudio reports a vanished device as an untyped host error
                    if not self._stopping.is_set():
                        self.error = str(exc) or type(exc).__name__
                        self.queue.put(_LOST)
                    return
                if overflowed:
                    self.stats.overflows += 1
                try:
                    self.queue.put_nowait(block)
                except queue.Full:
                    self.stats.dropped_frames += 1
        finally:
            # closed here, never from another thread: closing a stream under a blocked read segfaults
            try:
                self.stream.close(ignore_errors=True)
            except Exception as exc:  # a vanished device can fail to close; it is gone either way
                _log.debug("closing the input stream failed: %s", exc)

    def stop(self) -> None:
        """Ends within one block; a read that never returns (a hung driver) is abandoned, not forced."""
        self._stopping.set()
        self._thread.join(timeout=2.0)
        if self._thread.is_alive():
            _log.warning("the input stream did not stop within 2 s; abandoning it")
