"""The microphone as a source, built to run for days.

The PortAudio callback only copies the block into a preallocated slot and
queues the slot number: no allocation, no lock held for long, no model. When
the queue is full the block is dropped and counted. Conversion (resampling,
channel mixing) happens on the consumer side. If the device disappears (a USB
microphone unplugged) the source reports an ``error`` event and keeps trying
to reopen it every ``retry_seconds``, so the assistant comes back by itself.
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
from assistant.audio.source import CHUNK_SAMPLES, CHUNK_SECONDS
from assistant.audio.stats import InputStats
from assistant.errors import DeviceError
from assistant.events import Device, Error, EventSink

_log = logging.getLogger(__name__)

_STALL_SECONDS = 2.0
"""No block for this long from a running stream means the device is gone."""


class MicrophoneSource:
    def __init__(
        self,
        device: int | str | None = None,
        *,
        device_rate: int | None = None,
        channel: Channel = "mix",
        queue_seconds: float = 2.0,
        retry_seconds: float = 3.0,
        emit: EventSink | None = None,
    ) -> None:
        self._spec = device
        self.info = devices.resolve(device, "input")
        self.name = self.info.name
        self.stats = InputStats()
        self._device_rate = device_rate
        self._channel = channel
        self._queue_blocks = max(2, round(queue_seconds / CHUNK_SECONDS))
        self._retry_seconds = retry_seconds
        self._emit = emit
        self._closed = threading.Event()
        self._stream = None
        # slots outnumber the queue by two, so the slot being converted is never the one being written
        self._slots = np.zeros((0, 0, 0), dtype=np.int16)
        self._queue: queue.Queue[int] = queue.Queue(maxsize=self._queue_blocks)
        self._write = 0
        self._converter = StreamConverter(SAMPLE_RATE, channel)
        self._last_block = time.monotonic()

    # -- PortAudio side: runs on the audio thread ---------------------------------------------

    def _callback(self, indata: np.ndarray, frames: int, time_info: object, status) -> None:
        if status.input_overflow:
            self.stats.overflows += 1
        if self._queue.full():
            self.stats.dropped_frames += 1
            return
        slot = self._write
        np.copyto(self._slots[slot], indata)  # fixed blocksize: PortAudio always delivers a full slot
        self._write = (slot + 1) % len(self._slots)
        self._queue.put_nowait(slot)

    # -- consumer side -------------------------------------------------------------------------

    def frames(self) -> Iterator[np.ndarray]:
        chunker = Chunker(CHUNK_SAMPLES)
        while not self._closed.is_set():
            if self._stream is None and not self._open():
                self._closed.wait(self._retry_seconds)
                continue
            try:
                slot = self._queue.get(timeout=0.25)
            except queue.Empty:
                if self._stalled():
                    self._lost("the device stopped delivering audio")
                continue
            self._last_block = time.monotonic()
            block = self._slots[slot]
            for chunk in chunker.push(self._converter.convert(block)):
                self.stats.frames += 1
                yield chunk
            self.stats.report(self._emit)
        self._close_stream()
        self.stats.report(self._emit, force=True)

    def close(self) -> None:
        self._closed.set()

    def _open(self) -> bool:
        sd = devices._sd()
        try:
            if self._stream is None and self.stats.frames:  # reopening after a loss: see replugged devices
                devices.rescan()
                self.info = devices.resolve(self._spec, "input")
            rate = self._pick_rate(sd)
            channels = self._pick_channels()
            blocksize = round(rate * CHUNK_SECONDS)
            self._slots = np.zeros((self._queue_blocks + 2, blocksize, channels), dtype=np.int16)
            self._queue = queue.Queue(maxsize=self._queue_blocks)
            self._write = 0
            self._converter = StreamConverter(rate, self._channel)
            self.stats.repairs = self._converter.counts
            stream = sd.InputStream(
                device=self.info.index,
                samplerate=rate,
                channels=channels,
                dtype="int16",
                blocksize=blocksize,
                callback=self._callback,
            )
            stream.start()
        except (DeviceError, sd.PortAudioError, OSError, ValueError) as exc:
            message = f"cannot open input device {self._spec if self._spec is not None else 'default'!r}: {exc}; retrying every {self._retry_seconds:g} s"
            _log.warning("%s", message)
            if self._emit is not None:
                self._emit(Error(code="device_unavailable", message=message))
            return False
        self._stream = stream
        self._last_block = time.monotonic()
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

    def _stalled(self) -> bool:
        stream = self._stream
        if stream is None:
            return False
        return not stream.active or time.monotonic() - self._last_block > _STALL_SECONDS

    def _lost(self, why: str) -> None:
        message = f"input device {self.info.name!r} lost ({why}); retrying every {self._retry_seconds:g} s"
        _log.warning("%s", message)
        if self._emit is not None:
            self._emit(Error(code="device_lost", message=message))
        self._close_stream()

    def _close_stream(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.abort()
                stream.close()
            except Exception as exc:  # a vanished device can fail to close; it is gone either way
                _log.debug("closing the input stream failed: %s", exc)
