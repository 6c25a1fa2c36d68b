"""Later actions (a timer going off) on one background thread.

Actions run on that thread, so they must return at once: the dispatcher's only
hand a plugin's due action to a thread of its own, so no plugin can hold up
another's timer.

The thread starts with the first job and sleeps on a condition variable until
the next job is due, so it costs nothing while no timer runs. The clock is
injectable: tests that would otherwise wait minutes move a fake clock and call
:meth:`JobThread.poke` to make the thread look again.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable

_log = logging.getLogger(__name__)

MAX_SLEEP_SECONDS = 60.0
"""Even with nothing due, look again this often (guards against a clock that jumps)."""


class Job:
    """One scheduled action; cancel it, or ask how long until it runs."""

    def __init__(self, scheduler: JobThread, ident: int, due: float, action: Callable[[], object]) -> None:
        self.id = ident
        """Unique in its scheduler (the page's hub view cancels a timer by it)."""
        self.due = due
        self.action = action
        self._scheduler = scheduler
        self.cancelled = False
        self.done = False

    def cancel(self) -> bool:
        """Stop the job from running; False if it already ran."""
        with self._scheduler._cond:  # the scheduler thread marks jobs done under the same lock
            if self.done:
                return False
            self.cancelled = True
            return True

    def remaining(self) -> float:
        return max(0.0, self.due - self._scheduler.now())

    @property
    def active(self) -> bool:
        return not (self.cancelled or self.done)


class JobThread:
    """Runs each :class:`Job` when it is due; every plugin's ``req.scheduler`` hands its actions to the one thread."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, name: str = "scheduler") -> None:
        self.now = clock
        self._name = name
        self._heap: list[tuple[float, int, Job]] = []
        self._counter = itertools.count(1)
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False

    def call_later(self, seconds: float, action: Callable[[], object]) -> Job:
        """Run ``action`` on the scheduler thread ``seconds`` from now."""
        with self._cond:
            if self._closed:
                raise RuntimeError("the scheduler is closed")
            job = Job(self, next(self._counter), self.now() + max(0.0, seconds), action)
            heapq.heappush(self._heap, (job.due, job.id, job))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            self._cond.notify()
        return job

    def poke(self) -> None:
        """Look for due jobs now (after a fake clock moved)."""
        with self._cond:
            self._cond.notify()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._heap.clear()
            self._cond.notify()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2.0)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._closed:
                    while self._heap and not self._heap[0][2].active:
                        heapq.heappop(self._heap)
                    if self._heap and self._heap[0][0] <= self.now():
                        break
                    wait = self._heap[0][0] - self.now() if self._heap else MAX_SLEEP_SECONDS
                    self._cond.wait(timeout=min(wait, MAX_SLEEP_SECONDS))
                if self._closed:
                    return
                _, _, job = heapq.heappop(self._heap)
                job.done = True
            try:
                job.action()
            except Exception:  # one failing action must not stop later timers
                _log.exception("scheduled action %r failed", job.action)
