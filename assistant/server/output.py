"""Reply audio for a WebSocket stream: the pipeline's :class:`AudioOutput` sends it to the client.

Framing: a ``reply_audio`` event (``id``, ``rate``, ``samples``, ``bytes``,
``encoding: "pcm_s16le"``) followed by binary messages of up to
:data:`CHUNK_BYTES` that together hold exactly ``bytes`` bytes of mono
little-endian int16 PCM. Nothing else is interleaved inside one reply (the
link is one FIFO). ``reply_audio_stop`` with the ``id`` means: stop playing it
(barge-in).

The client plays the reply when it has all of it, so the :class:`Playback`
handle's ``started`` is set when the last byte was handed to the socket, and
``finished`` the reply's duration later (replies sent while another still
plays are timed after it, as the page and the satellite queue them). A
``stop()`` ends them at once, marked ``interrupted``.

One output per connection, shared by its streams' pipelines and by the
announcements spoken between streams: a reply's header and chunks are queued
in one go, so two replies never interleave on the socket.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable

import numpy as np

from assistant.audio.convert import SAMPLE_RATE, float_to_int16, to_float32
from assistant.audio.playback import Playback
from assistant.events import EventEmitter
from assistant.server.link import ClientLink
from assistant.server.messages import ReplyAudio, ReplyAudioStop

CHUNK_BYTES = 32_000
"""One second of 16 kHz int16 per binary message: small enough for any client's message limit."""


class WebSocketOutput:
    def __init__(self, link: ClientLink, emitter: EventEmitter, clock: Callable[[], float] = time.monotonic) -> None:
        self._link = link
        self._emitter = emitter
        self._clock = clock
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._active: dict[int, tuple[Playback, list[threading.Timer]]] = {}
        self._busy_until = 0.0
        self._sending = threading.Lock()

    def play(self, audio: np.ndarray, rate: int = SAMPLE_RATE) -> Playback:
        samples = np.asarray(audio)
        if samples.ndim != 1:
            raise ValueError(f"play() takes mono audio (one dimension), got shape {samples.shape}")
        if samples.dtype != np.int16:
            samples = float_to_int16(to_float32(samples))
        playback = Playback(duration=len(samples) / rate)
        if not len(samples):
            playback.finished.set()
            return playback
        reply = next(self._ids)
        data = samples.astype("<i2", copy=False).tobytes()
        with self._lock:
            self._active[reply] = (playback, [])
        last = (len(data) - 1) // CHUNK_BYTES * CHUNK_BYTES
        with self._sending:
            self._emitter.emit(ReplyAudio(id=reply, rate=rate, samples=len(samples), bytes=len(data)))
            for offset in range(0, len(data), CHUNK_BYTES):
                on_sent = (lambda: self._sent(reply)) if offset == last else None
                self._link.send_bytes(data[offset : offset + CHUNK_BYTES], on_sent)
        return playback

    def _sent(self, reply: int) -> None:
        """All of reply ``reply`` reached the socket: the client starts playing it (after any still playing)."""
        with self._lock:
            entry = self._active.get(reply)
            if entry is None:
                return
            playback, timers = entry
            now = self._clock()
            start = max(now, self._busy_until)
            self._busy_until = start + playback.duration
            timers.append(_timer(start - now, lambda: self._started(playback, start)))
            timers.append(_timer(start - now + playback.duration, lambda: self._finished(reply)))

    @staticmethod
    def _started(playback: Playback, at: float) -> None:
        playback.start_time = at
        playback.started.set()

    def _finished(self, reply: int) -> None:
        with self._lock:
            entry = self._active.pop(reply, None)
        if entry is not None:
            playback = entry[0]
            playback.end_time = self._clock()
            playback.finished.set()

    def stop(self) -> None:
        """Barge-in: every reply still playing (or still being sent) ends now and the client is told."""
        with self._lock:
            entries, self._active = self._active, {}
            self._busy_until = 0.0
        now = self._clock()
        for reply, (playback, timers) in entries.items():
            for timer in timers:
                timer.cancel()
            playback.interrupted = True
            playback.end_time = now
            playback.finished.set()
            self._emitter.emit(ReplyAudioStop(id=reply))

    def close(self) -> None:
        self.stop()


def _timer(delay: float, action: Callable[[], None]) -> threading.Timer:
    timer = threading.Timer(max(0.0, delay), action)
    timer.daemon = True
    timer.start()
    return timer
