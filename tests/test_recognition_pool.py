"""The process's recognition workers: a stream keeps hearing while its command waits for a reading.

Real whisper (tiny.en), real speech, the real pipeline and pool. "Every worker is busy" is arranged by
giving the pool's one worker a job that holds it until the test lets go: it stands in for another
stream's decode, whose length could not be controlled on a shared machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from assistant.asr import Transcription
from assistant.asr.pool import RecognitionPool
from assistant.assembly import Resources, make_pipeline
from assistant.config import Config
from assistant.events import EventEmitter
from tests.helpers import REPO, piper, silence, trim
from tests.test_asr_whisper import tiny_en_path

CHUNK = 1280


@pytest.fixture(scope="module")
def config() -> Config:
    return Config.model_validate(
        {"asr": {"engine": "whisper", "model": tiny_en_path(), "workers": 1}, "wake": {"enabled": False}, "tts": {"engine": "none"}}
    )


@pytest.fixture(scope="module")
def resources(config):
    loaded = Resources.load(config, speak=False)
    yield loaded
    loaded.close()


def hold(pool: RecognitionPool) -> threading.Event:
    """Take the pool's workers until the returned event is set. The pool is shared by the module's tests: an
    earlier test's reading still counts as pending until its worker has given the memory back (the trim runs
    after the test already has its transcript), and one it dropped may still be decoding; wait for both, or
    this test's count of waiting readings would include them."""
    deadline = time.monotonic() + 60
    while pool.pending and time.monotonic() < deadline:
        time.sleep(0.01)
    assert pool.pending == 0, "a reading of an earlier test is still running after 60 s"
    release = threading.Event()
    for _ in range(pool.workers):
        pool.submit(lambda: (release.wait(60), Transcription("", None))[1])
    return release


def chunks(audio: np.ndarray) -> np.ndarray:
    return np.concatenate([audio, np.zeros(-len(audio) % CHUNK, np.int16)]).reshape(-1, CHUNK)


def test_a_stream_goes_on_listening_while_its_command_waits_for_a_busy_recognizer(config, resources):
    """With every worker busy, the command still ends, the client is told its reading waits (``overload``),
    and all the audio after it is consumed at once; when a worker is free the command is read and answered."""
    events: list = []
    pipeline = make_pipeline(config, EventEmitter([events.append]), resources)
    audio = np.concatenate([silence(0.5), trim(piper("what time is it")), silence(2.5)])
    release = hold(resources.recognition)
    try:
        with ThreadPoolExecutor(1) as feeder:
            fed = feeder.submit(lambda: [pipeline.feed(chunk) for chunk in chunks(audio)])
            fed.result(timeout=60)  # a feed waiting for the held reading would never return
        kinds = [e.type for e in events]
        assert "speech_end" in kinds and "transcript" not in kinds
        assert [e.recognitions_waiting for e in events if e.type == "overload"] == [1]
        release.set()
        pipeline.finish()
    finally:
        release.set()
        pipeline.close()
    transcripts = [e.text for e in events if e.type == "transcript"]
    assert transcripts == ["what time is it"]
    assert [e.name for e in events if e.type == "intent"] == ["HassGetCurrentTime"]
    assert [e.type for e in events].index("transcript") > [e.type for e in events].index("speech_end")


def test_no_reading_is_started_on_speculation_while_every_worker_is_busy(config, resources):
    """A pause in speech normally starts a speculative reading; with the pool saturated it would only queue
    ahead of other streams' final readings, so none is started: the command is read once, when it ends."""
    pool = resources.recognition
    events: list = []
    pipeline = make_pipeline(config, EventEmitter([events.append]), resources)
    audio = np.concatenate([silence(0.5), trim(piper("what time is it")), silence(2.5)])
    release = hold(pool)
    readings = []
    try:
        for chunk in chunks(audio):
            pipeline.feed(chunk)
            readings.append((any(e.type == "speech_end" for e in events), pool.pending - pool.workers))
    finally:
        release.set()
        pipeline.finish()
        pipeline.close()
    assert {ended: waiting for ended, waiting in readings} == {False: 0, True: 1}
    assert [e.text for e in events if e.type == "transcript"] == ["what time is it"]


def test_speculation_runs_on_the_pool_when_a_worker_is_free(config, resources):
    """The other side of the rule above: with a free worker the pause starts the reading before the command
    ends, and that reading is the final transcript (one reading, not two)."""
    pool = resources.recognition
    events: list = []
    pipeline = make_pipeline(config, EventEmitter([events.append]), resources)
    audio = np.concatenate([silence(0.5), trim(piper("what time is it")), silence(2.5)])
    started = []
    try:
        for chunk in chunks(audio):
            pipeline.feed(chunk)
            if not any(e.type == "speech_end" for e in events):
                started.append(pool.pending)
        pipeline.finish()
    finally:
        pipeline.close()
    assert max(started) == 1  # read during the pause, while the command had not yet ended
    assert [e.text for e in events if e.type == "transcript"] == ["what time is it"]



def _resident_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def frees_64_mb(pinned: list[bytearray]) -> Transcription:
    """What a decode leaves behind, made measurable: 64 MB of buffers below malloc's mmap threshold (so they
    come from this thread's arena), freed, each with a small buffer kept after it (what outlives a decode:
    so the freed space is holes, not the arena's top, which glibc would return by itself). A real decode's
    leftovers vary with what ran before it; this is the same kind of memory in a known amount."""
    buffers = []
    for _ in range(640):
        buffers.append(bytearray(100 * 1024))
        pinned.append(bytearray(1024))
    del buffers
    return Transcription(text="", confidence=None, words=[])


def kept_mb(on_pool: bool) -> float:
    """Resident memory left after one such reading, on the pool's worker or on a plain thread."""
    pinned: list[bytearray] = []
    before = _resident_mb()
    if on_pool:
        pool = RecognitionPool(1)
        pool.submit(lambda: frees_64_mb(pinned))[0].result()
        deadline = time.monotonic() + 10
        while pool.pending and time.monotonic() < deadline:  # the worker trims before it counts itself free
            time.sleep(0.01)
        pool.close()
    else:
        with ThreadPoolExecutor(max_workers=1) as plain:
            plain.submit(frees_64_mb, pinned).result()
    return _resident_mb() - before


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="malloc_trim is glibc's")
def test_a_worker_gives_the_memory_a_reading_freed_back_to_the_system():
    """A server's resident memory must not keep what its decodes freed (issue 12: +6 MB per 100 turns in a
    soak without this, flat with it). Each side runs in a fresh process (a thread reuses the arena, and its
    holes, of one that ended before it); the same job on a plain thread keeps the memory: the control."""

    def measured(on_pool: bool) -> float:
        code = f"from tests.test_recognition_pool import kept_mb; print(kept_mb({on_pool}))"
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
        assert done.returncode == 0, done.stderr
        return float(done.stdout.split()[-1])

    kept_by_a_plain_thread, kept_by_the_pool = measured(False), measured(True)
    assert kept_by_a_plain_thread > 40, kept_by_a_plain_thread
    assert kept_by_the_pool < 10, (kept_by_the_pool, kept_by_a_plain_thread)
