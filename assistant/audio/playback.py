"""Play pipeline audio on a speaker (or into a WAV file) and know when it really starts and ends.

The pipeline mutes its own ears while the assistant talks and measures "end
of the user's speech → first reply audio", so :meth:`Player.play` returns at
once with a :class:`Playback` handle whose ``started`` fires when the first
sample of the reply is handed to the device and ``finished`` when the stream
has drained (or was stopped for a barge-in).

One output stream per reply, opened by a worker thread: the device is free
between replies (ALSA ``hw:`` devices on a Raspberry Pi are exclusive) and a
replugged speaker works on the next reply. Replies queued while one plays
follow it in order. The PortAudio callback only copies from a buffer prepared
by :meth:`~Player.play` (resampled, padded) and flips flags.

Padding, measured on PortAudio → ALSA → PulseAudio (``bench/bench_playback.py``):
without it every stream lost up to 150 ms at its end and most lost ~25 ms at
its start; a silent lead-in and tail make those losses fall on silence (none
lost in the same runs). ``start_time`` is stamped for the first *real* sample,
not the padding; the sink received it 30 ms later.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import soxr

from assistant.audio import devices
from assistant.audio.convert import SAMPLE_RATE, float_to_int16, to_float32
from assistant.errors import DeviceError

_log = logging.getLogger(__name__)

LEAD_IN_SECONDS = 0.05
TAIL_SECONDS = 0.2
STALL_SECONDS = 2.0
"""A stream that has not finished this long after its audio should have ended is treated as a lost device."""


@dataclass(eq=False)
class Playback:
    """One :meth:`play` call. Times are ``time.monotonic()`` seconds; ``None`` until they happen."""

    duration: float
    """Seconds of audio (without padding)."""
    started: threading.Event = field(default_factory=threading.Event, repr=False)
    finished: threading.Event = field(default_factory=threading.Event, repr=False)
    start_time: float | None = None
    """When the first sample was handed to the device (heard ~``latency`` or less later: 30 ms on PulseAudio)."""
    end_time: float | None = None
    """``start_time + duration`` when played whole (the device clock, not the bursty callbacks); when stopped, the moment it was cut."""
    latency: float = 0.0
    """The output latency PortAudio reported for the stream (seconds)."""
    interrupted: bool = False
    """:meth:`stop` ended it before all of it was played (or before it began)."""
    error: str | None = None
    """Why it could not be played (device missing or lost); ``finished`` is set anyway."""

    def wait(self, timeout: float | None = None) -> bool:
        """Block until finished; False if ``timeout`` passed first."""
        return self.finished.wait(timeout)


class AudioOutput(Protocol):
    """Where replies go: a speaker (:class:`Player`) or a file (:class:`WavWriter`)."""

    def play(self, audio: np.ndarray, rate: int = SAMPLE_RATE) -> Playback: ...

    def stop(self) -> None: ...

    def close(self) -> None: ...


def _to_int16(audio: np.ndarray, rate: int, target_rate: int) -> np.ndarray:
    samples = np.asarray(audio)
    if samples.ndim != 1:
        raise ValueError(f"play() takes mono audio (one dimension), got shape {samples.shape}")
    if rate != target_rate:
        return float_to_int16(soxr.resample(to_float32(samples), rate, target_rate, quality="HQ"))
    return samples if samples.dtype == np.int16 else float_to_int16(to_float32(samples))


class _Job:
    """A playback in flight: its padded buffer and where the callback is in it."""

    __slots__ = ("playback", "buffer", "first", "last", "pos", "stop", "wake")

    def __init__(self, playback: Playback, samples: np.ndarray, rate: int) -> None:
        lead, tail = round(LEAD_IN_SECONDS * rate), round(TAIL_SECONDS * rate)
        self.buffer = np.zeros((lead + len(samples) + tail, 1), dtype=np.int16)
        self.buffer[lead : lead + len(samples), 0] = samples
        self.first = lead
        self.last = lead + len(samples)
        self.pos = 0
        self.playback = playback
        self.stop = False
        self.wake = threading.Event()
        """Set when the stream finished or :meth:`Player.stop` asks the worker to abort it."""


class Player:
    """Plays on one output device: ``device`` is an index, a name substring or None for the default.

    ``play`` and ``stop`` may be called from any thread. ``latency`` is the
    output latency asked of PortAudio: lower answers sooner but underruns
    (clicks, lost audio) when the CPU is busy with models.
    """

    def __init__(self, device: int | str | None = None, *, latency: float = 0.1, block_seconds: float = 0.02) -> None:
        self._sd = devices._sd()
        self.info = devices.resolve(device, "output")
        self.name = self.info.name
        self.latency = latency
        self.rate, self.channels = self._pick_format()
        self.blocksize = round(self.rate * block_seconds)
        self.underflows = 0
        self._jobs: collections.deque[_Job] = collections.deque()
        self._cond = threading.Condition()
        self._closed = False
        self._probe()
        self._thread = threading.Thread(target=self._run, name=f"player:{self.name}", daemon=True)
        self._thread.start()

    # -- caller side ------------------------------------------------------------------------

    def play(self, audio: np.ndarray, rate: int = SAMPLE_RATE) -> Playback:
        """Queue ``audio`` (mono, int16 or float) and return at once."""
        samples = _to_int16(audio, rate, self.rate)
        playback = Playback(duration=len(samples) / self.rate)
        if not len(samples):
            playback.finished.set()
            return playback
        job = _Job(playback, samples, self.rate)
        with self._cond:
            if self._closed:
                raise RuntimeError("play() on a closed Player")
            self._jobs.append(job)
            self._cond.notify()
        return playback

    def stop(self) -> None:
        """Barge-in: cut the current reply now and drop the queued ones (all marked ``interrupted`` at once, so
        a caller with more to play knows; one that had already played to its end is unmarked when it ends)."""
        with self._cond:
            for job in self._jobs:
                job.stop = True
                job.playback.interrupted = True
                job.wake.set()

    @property
    def playing(self) -> bool:
        with self._cond:
            return bool(self._jobs)

    def close(self) -> None:
        self.stop()
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join(timeout=STALL_SECONDS + 1)

    # -- device format ----------------------------------------------------------------------

    def _pick_format(self) -> tuple[int, int]:
        """16 kHz mono when the device takes it (no resampling); else its own rate, mono or stereo."""
        sd = self._sd
        candidates = [(SAMPLE_RATE, 1), (int(self.info.default_samplerate), 1), (int(self.info.default_samplerate), 2)]
        for rate, channels in candidates:
            if channels > self.info.max_output_channels:
                continue
            try:
                sd.check_output_settings(device=self.info.index, samplerate=rate, channels=channels, dtype="int16")
                return rate, channels
            except (sd.PortAudioError, ValueError):
                continue
        raise DeviceError(f"output device {self.name!r} accepts neither 16 kHz nor {self.info.default_samplerate:g} Hz 16-bit audio; pick another with audio.output_device (`assistant devices`)")

    def _open(self, callback=None, finished_callback=None):
        return self._sd.OutputStream(
            device=self.info.index,
            samplerate=self.rate,
            channels=self.channels,
            dtype="int16",
            blocksize=self.blocksize,
            latency=self.latency,
            callback=callback,
            finished_callback=finished_callback,
        )

    def _probe(self) -> None:
        """Open and close the device once, so a speaker that cannot work fails at start, not at the first reply."""
        sd = self._sd
        try:
            self._open().close()
        except (sd.PortAudioError, OSError, ValueError) as exc:
            raise DeviceError(f"cannot open output device {self.name!r}: {exc}. Check that a speaker is connected (`assistant devices`), or write replies to a file with --output") from None

    # -- worker side ------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._jobs and not self._closed:
                    self._cond.wait()
                if not self._jobs:
                    return
                job = self._jobs[0]
            if not job.stop:
                self._stream(job)
            with self._cond:
                self._jobs.popleft()
            playback = job.playback
            playback.interrupted = job.stop and job.pos < job.last
            if playback.started.is_set():
                cut = playback.interrupted or playback.error is not None
                playback.end_time = time.monotonic() if cut else playback.start_time + playback.duration
            playback.finished.set()

    def _stream(self, job: _Job) -> None:
        sd = self._sd
        playback = job.playback
        try:
            stream = self._open(lambda *args: self._fill(job, *args), job.wake.set)
            stream.start()
        except (sd.PortAudioError, OSError, ValueError) as exc:
            playback.error = f"cannot open output device {self.name!r}: {exc}"
            _log.warning("%s", playback.error)
            return
        playback.latency = stream.latency
        finished = job.wake.wait(len(job.buffer) / self.rate + STALL_SECONDS)
        if not finished or (not job.stop and job.pos < len(job.buffer)):  # stalled, or PortAudio gave up early
            playback.error = f"output device {self.name!r} stopped playing"
            _log.warning("%s", playback.error)
        try:
            if job.stop or playback.error:
                stream.abort()
            stream.close()
        except sd.PortAudioError as exc:  # a vanished device can fail to close; it is gone either way
            _log.debug("closing the output stream failed: %s", exc)

    def _fill(self, job: _Job, outdata: np.ndarray, frames: int, time_info, status) -> None:
        """PortAudio callback: copy the next block; stamp the moment the first real sample goes out."""
        if status.output_underflow:
            self.underflows += 1
        if job.stop:
            raise self._sd.CallbackAbort
        pos = job.pos
        end = min(pos + frames, len(job.buffer))
        outdata[: end - pos] = job.buffer[pos:end]
        outdata[end - pos :] = 0
        job.pos = end
        playback = job.playback
        if playback.start_time is None and end > job.first:
            playback.start_time = time.monotonic() + max(0, job.first - pos) / self.rate
            playback.started.set()
        if end == len(job.buffer):
            raise self._sd.CallbackStop


class WavWriter:
    """Writes what would be played to an audio file, replies one after another (``--output reply.wav``).

    The format follows the extension (.wav, .flac, ...). The file is flushed
    after each reply, so it is complete even while the assistant still runs.
    A reply is written whole at once: its ``start_time`` and ``end_time`` are that moment.
    """

    def __init__(self, path: str | Path, rate: int = SAMPLE_RATE) -> None:
        import soundfile as sf

        self.path = Path(path)
        self.rate = rate
        self.duration = 0.0
        self._lock = threading.Lock()
        try:
            self._file = sf.SoundFile(str(self.path), "w", samplerate=rate, channels=1)
        except (sf.LibsndfileError, OSError, TypeError, ValueError) as exc:
            raise DeviceError(f"cannot write replies to {str(self.path)!r}: {exc}") from None

    def play(self, audio: np.ndarray, rate: int = SAMPLE_RATE) -> Playback:
        samples = _to_int16(audio, rate, self.rate)
        playback = Playback(duration=len(samples) / self.rate)
        with self._lock:
            if len(samples):
                self._file.write(samples)
                self._file.flush()
                self.duration += playback.duration
                playback.start_time = playback.end_time = time.monotonic()
                playback.started.set()
        playback.finished.set()
        return playback

    def stop(self) -> None:
        """Nothing is ever in flight: each reply is written whole by :meth:`play`."""

    def close(self) -> None:
        with self._lock:
            if not self._file.closed:
                self._file.close()
