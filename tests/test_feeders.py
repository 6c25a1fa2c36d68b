"""Live streams are fed by a few shared threads: in order, one thread at a time per stream, none held up by another.

The first tests drive :class:`~assistant.server.feeders.Feeders` with real queues and plain functions as
the pipelines (what a pipeline does with a chunk is not the feeders' business); the last runs a real
server with real wake-word clips.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time

import numpy as np
import pytest

from assistant.server.audio_in import ChunkQueue, QueueSource
from assistant.server.feeders import Feeders
from tests.helpers import WAKE_DEV, read, trim
from tests.server_helpers import config, pcm, running_server, stream_audio, wait_until


class Recorder:
    """A stand-in pipeline: records the chunks fed to it, and fails if two threads feed it at once."""

    def __init__(self, name: str, fail_at: int | None = None) -> None:
        self.name = name
        self.fed: list[int] = []
        self.overlaps = 0
        self.idle = 0
        self.ended = threading.Event()
        self.error: BaseException | None = None
        self._busy = False
        self._fail_at = fail_at

    def feed(self, chunk: np.ndarray) -> None:
        if self._busy:
            self.overlaps += 1
        self._busy = True
        time.sleep(0.0002)  # some work, during which another feeder could wrongly take the same stream
        self.fed.append(int(chunk[0]))
        self._busy = False
        if self._fail_at is not None and len(self.fed) == self._fail_at:
            raise RuntimeError("the model broke")

    def on_idle(self) -> None:
        self.idle += 1

    def on_end(self, error: BaseException | None) -> None:
        self.error = error
        self.ended.set()


def attach(feeders: Feeders, recorder: Recorder, on_end=None) -> ChunkQueue:
    queue: ChunkQueue[np.ndarray] = ChunkQueue(1000)
    source = QueueSource(queue, recorder.name, on_idle=recorder.on_idle)
    feeders.attach(source, recorder.feed, on_end=on_end or recorder.on_end)
    return queue


def chunk(index: int) -> np.ndarray:
    return np.full(1280, index, np.int16)


@pytest.fixture
def feeders():
    f = Feeders(2)
    yield f
    f.close()


def test_every_stream_gets_all_its_chunks_in_order_and_never_from_two_threads_at_once(feeders: Feeders) -> None:
    streams = [Recorder(f"s{i}") for i in range(40)]
    queues = [attach(feeders, s) for s in streams]
    rng = random.Random(0)
    sent = [0] * len(queues)
    while any(n < 50 for n in sent):  # chunks arrive interleaved across streams, as from many clients
        i = rng.randrange(len(queues))
        if sent[i] < 50:
            queues[i].put(chunk(sent[i]))
            sent[i] += 1
    for q in queues:
        q.end()
    for s in streams:
        assert s.ended.wait(10), f"{s.name} never ended"
        assert s.fed == list(range(50)), s.name
        assert s.overlaps == 0, s.name
        assert s.error is None


def test_a_stream_whose_end_waits_or_whose_pipeline_breaks_holds_up_no_other(feeders: Feeders) -> None:
    release = threading.Event()
    slow, broken, healthy = Recorder("slow"), Recorder("broken", fail_at=3), Recorder("healthy")

    def slow_end(error: BaseException | None) -> None:
        release.wait(10)  # like a turn in flight that the end lets complete
        slow.on_end(error)

    slow_queue, broken_queue, healthy_queue = attach(feeders, slow, slow_end), attach(feeders, broken), attach(feeders, healthy)
    slow_queue.put(chunk(0))
    slow_queue.end()
    for i in range(5):
        broken_queue.put(chunk(i))
    assert broken.ended.wait(5)
    assert isinstance(broken.error, RuntimeError) and broken.fed == [0, 1, 2]
    for i in range(20):
        healthy_queue.put(chunk(i))
    assert wait_until(lambda: len(healthy.fed) == 20, 5), healthy.fed
    assert not slow.ended.is_set()
    release.set()
    assert slow.ended.wait(5) and slow.error is None


def test_a_stream_without_audio_is_looked_at_while_idle_and_at_once_when_poked(feeders: Feeders) -> None:
    quiet = Recorder("quiet")
    queue = attach(feeders, quiet)
    assert wait_until(lambda: quiet.idle >= 2, 2), "an idle stream must be looked at every idle interval"
    queue.put(chunk(0))
    assert wait_until(lambda: quiet.fed == [0], 2)
    before = quiet.idle
    queue.poke()  # a typed command waits
    assert wait_until(lambda: quiet.idle > before, 0.5)
    queue.abort()
    assert quiet.ended.wait(5)


def test_many_live_streams_each_hear_their_wake_word_without_a_thread_each() -> None:
    """12 real-time streams, each a real "alexa" recording: the server's threads do not grow with its streams."""
    clips = sorted(WAKE_DEV.glob("alexa_*.flac"))[:12]
    silence = np.zeros(16000, np.int16)
    audios = [pcm(np.concatenate([silence, trim(read(p)), silence])) for p in clips]
    with running_server(config(wake={"engine": "microwakeword", "models": ["alexa"]})) as server:
        baseline = {t.ident for t in threading.enumerate()}
        peak: list[str] = []
        streaming = threading.Event()

        def watch() -> None:
            nonlocal peak
            while not streaming.is_set():
                # the event loop's executor (bounded: it builds streams) and a stream's end (while its turn completes) come and go
                more = [t for t in threading.enumerate() if t.ident not in baseline and not t.name.startswith(("asyncio_", "uvloop_", "stream-end"))]
                if len(more) > len(peak):
                    peak = sorted(t.name for t in more)
                time.sleep(0.05)

        watcher = threading.Thread(target=watch, name="asyncio_watcher")
        watcher.start()

        async def all_streams():
            return await asyncio.gather(*(stream_audio(server.ws_url, a, realtime=True) for a in audios))

        try:
            results = asyncio.run(all_streams())
        finally:
            streaming.set()
            watcher.join()
    for events in results:
        kinds = [e["type"] for e in events]
        assert "wake" in kinds, kinds
        assert events[-1]["type"] == "done" and events[-1]["dropped_frames"] == 0
    assert len(peak) <= 2, f"{peak}: threads more for {len(audios)} streams (the feeder and its ticker expected)"
