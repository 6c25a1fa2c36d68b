"""The process's recognition workers: every stream's whisper readings run here, never on its audio path.

A server holds many streams and one loaded model. Before this pool each stream decoded on threads of
its own (a speculative reading on one, the final reading on the thread that feeds it audio), so a
decode stalled that stream's wake word and VAD, and any number of decodes competed for the cores
unbounded. Here ``asr.workers`` threads (as many as the model has replicas) take readings in the
order they come; a stream that has to wait is told (an ``overload`` event), and while every worker is
busy no reading is started on speculation (:meth:`RecognitionPool.saturated`): under load the pool
does only the work whose transcript someone waits for.

The queue is bounded by the streams themselves: a stream has at most one final reading and one
speculative reading submitted at a time, and the server admits at most ``server.max_connections``.

After each reading its worker hands the freed memory back to the system (glibc's ``malloc_trim``): a
decode's buffers (features, encoder output, CTranslate2's scratch) are freed into the malloc arena of
the thread that freed them, and glibc returns only the top of an arena, so without it a server's
resident memory crept up with the worst overlap of concurrent decodes so far (a 12-minute soak, 4
clients: +6.0 MB per 100 turns and 390 MB, against 285 MB flat with the trim; it costs ~5 ms of the
worker's time after the transcript is delivered; README "Running it for days").
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from assistant.asr.base import Recognizer, Transcription


def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``; None where the C library has none (musl, macOS)."""
    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None


_TRIM = _malloc_trim()
_THREAD_NAME = "recognize"


class RecognitionPool:
    """``workers`` recognition threads shared by every pipeline of the process; thread-safe."""

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ValueError("a recognition pool needs at least one worker")
        self.workers = workers
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=_THREAD_NAME)
        self._lock = threading.Lock()
        self._pending = 0

    @property
    def pending(self) -> int:
        """Readings submitted and not finished: running, or waiting for a worker."""
        return self._pending

    def saturated(self) -> bool:
        """Every worker is taken: a reading submitted now waits."""
        return self._pending >= self.workers

    def submit(self, job: Callable[[], Transcription]) -> tuple[Future[Transcription], int]:
        """Run ``job`` on a worker; returns its future and how many readings it waits behind (0: it starts now).

        A future cancelled before it started never runs (a speculation made stale by more speech).
        """
        with self._lock:
            ahead = max(0, self._pending - self.workers + 1)
            self._pending += 1
        future = self._executor.submit(job)
        future.add_done_callback(self._finished)
        return future, ahead

    def close(self) -> None:
        """Stop taking readings; those waiting are cancelled, those running finish."""
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _finished(self, _: Future[Transcription]) -> None:
        # only on a worker: a future cancelled, or done before its callback was added, calls back on the
        # submitting stream's thread, whose audio must not wait
        if _TRIM is not None and threading.current_thread().name.startswith(_THREAD_NAME):
            _TRIM(0)
        with self._lock:
            self._pending -= 1


def completed(result: Transcription) -> Future[Transcription]:
    """A reading that is already done (read at once, or nothing to read)."""
    future: Future[Transcription] = Future()
    future.set_result(result)
    return future


def read_utterance(recognizer: Recognizer, pool: RecognitionPool | None, on_wait: Callable[[int], None] | None = None) -> Future[Transcription]:
    """End the utterance fed to ``recognizer`` so far and read it: on ``pool`` when the reading is a decode of its own
    (whisper), at once when it is cheap (a streaming recognizer has decoded as audio came) or there is no pool
    (files). ``on_wait`` hears how many readings it waits behind, if any. The recognizer is ready for the next one."""
    if recognizer.incremental:
        return completed(recognizer.finish())
    reading = recognizer.snapshot()
    recognizer.start()
    if pool is None:
        return completed(reading())
    future, ahead = pool.submit(reading)
    if ahead and on_wait is not None:
        on_wait(ahead)
    return future
