"""The default speaker: pyttsx3 driving espeak-ng, in a worker process of its own.

pyttsx3 is the portable way to reach espeak-ng, but inside the assistant's
process it is fragile (see :mod:`assistant.tts.espeak_worker` for what was
measured). So one long-lived worker runs one engine; each reply is a JSON line
to it and raw PCM back. A reply that takes longer than the deadline or a worker
that dies costs that one reply (:class:`SpeechSynthesisError`) and the worker
is started again for the next one. The round trip adds about a millisecond.
"""

from __future__ import annotations

import difflib
import json
import logging
import os
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from assistant.about import About, package_version
from assistant.audio.convert import StreamConverter
from assistant.errors import ConfigError, ModelError, SpeechSynthesisError

_log = logging.getLogger(__name__)

_WORKER_SCRIPT = Path(__file__).with_name("espeak_worker.py")
_START_SECONDS = 20.0
_CHARS_PER_SECOND = 200.0
"""Deadline slack per character: espeak-ng synthesises thousands of characters per second."""


class _WorkerGone(Exception):
    """The worker missed its deadline or exited; it has to be replaced."""


class _Worker:
    """One worker process and a deadline-aware reader for its reply pipe."""

    def __init__(self, settings: dict) -> None:
        # the parent owns the worker's scratch folder: a killed worker cannot clean up after itself
        self.workdir = tempfile.mkdtemp(prefix="assistant-tts-")
        self.proc = subprocess.Popen(
            # -P: do not put this package's directory on the worker's sys.path
            [sys.executable, "-P", str(_WORKER_SCRIPT), json.dumps(settings), self.workdir],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self._fd = self.proc.stdout.fileno()
        self._buffer = bytearray()

    def read_header(self, deadline: float) -> dict:
        while b"\n" not in self._buffer:
            self._fill(deadline)
        line, _, rest = self._buffer.partition(b"\n")
        self._buffer = bytearray(rest)
        return json.loads(line)

    def read_bytes(self, size: int, deadline: float) -> bytes:
        while len(self._buffer) < size:
            self._fill(deadline)
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def request(self, text: str, deadline: float) -> dict:
        try:
            self.proc.stdin.write(json.dumps({"text": text}).encode("utf-8") + b"\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise _WorkerGone(f"exited with code {self.proc.poll()}") from None
        return self.read_header(deadline)

    def _fill(self, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([self._fd], [], [], remaining)[0]:
            raise _WorkerGone("did not answer in time")
        chunk = os.read(self._fd, 1 << 16)
        if not chunk:
            raise _WorkerGone(f"exited with code {self.proc.wait()}")
        self._buffer += chunk

    def close(self, grace: float = 1.0) -> None:
        try:
            self.proc.stdin.close()  # the worker's request loop ends at end of input
            self.proc.wait(grace)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        shutil.rmtree(self.workdir, ignore_errors=True)


class Pyttsx3Speaker:
    """espeak-ng through pyttsx3. ``voice`` is an espeak-ng voice (``en-us``, ``gmw/en-us``, ``English (America)``)."""

    name = "pyttsx3"

    def __init__(self, voice: str | None = None, rate: int = 175, volume: float = 1.0, *, timeout: float = 10.0) -> None:
        self._settings = {"voice": voice, "rate": rate, "volume": volume}
        self.timeout = timeout
        self.voice: str | None = None
        self._lock = threading.Lock()
        self._worker: _Worker | None = self._start()

    def synthesize(self, text: str) -> np.ndarray:
        text = " ".join(text.split())
        if not text:
            return np.zeros(0, dtype=np.int16)
        with self._lock:
            if self._worker is None:
                try:
                    self._worker = self._start()
                except (ConfigError, ModelError) as exc:
                    raise SpeechSynthesisError(f"the speech engine could not be restarted: {exc}") from None
            deadline = time.monotonic() + self.timeout + len(text) / _CHARS_PER_SECOND
            try:
                header = self._worker.request(text, deadline)
                pcm = self._worker.read_bytes(header["bytes"], deadline) if header["ok"] else b""
            except _WorkerGone as exc:
                self._discard_worker()
                raise SpeechSynthesisError(f"espeak-ng (pyttsx3) {exc} while speaking {_excerpt(text)}; it will be restarted for the next reply") from None
        if not header["ok"]:
            raise SpeechSynthesisError(f"espeak-ng (pyttsx3) could not speak {_excerpt(text)}: {header['error']}")
        samples = np.frombuffer(pcm, dtype="<i2").astype(np.int16)
        return StreamConverter(header["rate"]).convert(samples, last=True)

    def describe(self) -> About:
        voice = self.voice or "default"
        return About(
            name=voice,
            description=f"espeak-ng voice {voice} through pyttsx3, {self._settings['rate']} words per minute",
            languages=(voice.rsplit("/", 1)[-1],) if self.voice else (),
            version=package_version("pyttsx3"),
            author="eSpeak NG",
            url="https://github.com/espeak-ng/espeak-ng",
        )

    def close(self) -> None:
        with self._lock:
            self._discard_worker()

    @property
    def worker_pid(self) -> int | None:
        """The worker's process id (for diagnostics: `ps`, profilers, fault-injection tests)."""
        worker = self._worker
        return worker.proc.pid if worker is not None else None

    def _discard_worker(self) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.close(grace=0.2)

    def _start(self) -> _Worker:
        started = time.monotonic()
        worker = _Worker(self._settings)
        try:
            hello = worker.read_header(started + _START_SECONDS)
        except _WorkerGone as exc:
            worker.close(grace=0)
            raise ModelError(f"the espeak-ng speech engine (pyttsx3) did not start: it {exc}. {_INSTALL_HINT}") from None
        if not hello["ok"]:
            worker.close(grace=0)
            raise self._start_error(hello)
        self.voice = hello["voice"]
        _log.info("pyttsx3/espeak-ng ready in %.2f s (voice %s, rate %s, worker pid %d)", time.monotonic() - started, self.voice, hello["rate"], worker.proc.pid)
        return worker

    def _start_error(self, hello: dict) -> Exception:
        voice = self._settings["voice"]
        if voice and hello["voices"]:  # the engine ran, so the configured voice is what failed
            _log.debug("setting the espeak-ng voice %r failed: %s", voice, hello["error"])
            return ConfigError(f"tts.voice = {voice!r} is not an espeak-ng voice.\n{_suggest_voices(voice, hello['voices'])}")
        return ModelError(f"the espeak-ng speech engine (pyttsx3) cannot start: {hello['error']}. {_INSTALL_HINT}")


_INSTALL_HINT = "Install it with `sudo apt install espeak-ng` and `pip install pyttsx3`, or set tts.engine to piper or none."


def _suggest_voices(wanted: str, voices: list[str]) -> str:
    """Close matches first, then the English voices: the list a user needs to pick a valid value."""
    ids = [v.split(" ", 1)[0] for v in voices]
    close = difflib.get_close_matches(wanted.lower(), ids + [i.rsplit("/", 1)[-1] for i in ids], n=5, cutoff=0.6)
    english = [v for v in voices if v.split(" ", 1)[0].rsplit("/", 1)[-1].startswith("en")]
    lines = [f"Did you mean: {', '.join(dict.fromkeys(close))}?"] if close else []
    lines.append("English voices: " + ", ".join(english))
    lines.append(f"({len(voices)} voices in all: `espeak-ng --voices`)")
    return "\n".join(lines)


def _excerpt(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")
