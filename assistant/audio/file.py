"""Audio files (WAV, FLAC, OGG/Vorbis/Opus, ... whatever libsndfile reads) as a source.

Any rate, channel count and sample type is converted once. Damaged files are
the normal case for an assistant fed by users, so: a file that cannot be opened
or holds no audio raises :class:`AudioInputError` naming the file and the
reason; a file that breaks part-way (truncated, FLAC "lost sync") yields what
decoded and reports the damage as an ``error`` event.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import soundfile as sf

from assistant.audio.chunker import Chunker
from assistant.audio.convert import SAMPLE_RATE, Channel, StreamConverter
from assistant.audio.source import CHUNK_SAMPLES
from assistant.audio.stats import InputStats
from assistant.errors import AudioInputError
from assistant.events import Error, EventSink

_log = logging.getLogger(__name__)

_READ_FRAMES = 4096
_SHORT_DATA = re.compile(r"^data\s*:\s*(\d+)\s*\(should be (\d+)\)", re.MULTILINE)


class FileSource:
    def __init__(
        self,
        path: str | Path,
        *,
        realtime: bool = False,
        channel: Channel = "mix",
        chunk: int = CHUNK_SAMPLES,
        emit: EventSink | None = None,
    ) -> None:
        self.path = Path(path)
        self.name = str(path)
        self.realtime = realtime
        self.stats = InputStats()
        self._emit = emit
        self._chunk = chunk
        self._closed = False
        self._file = _open(self.path)
        self.rate = self._file.samplerate
        self.channels = self._file.channels
        self.duration = self._file.frames / self.rate if self._file.frames > 0 else None
        if channel != "mix" and channel >= self.channels:
            self._file.close()
            raise AudioInputError(f"{self.path}: channel {channel} does not exist (the file has {self.channels})")
        self._converter = StreamConverter(self.rate, channel)
        self.stats.repairs = self._converter.counts

    def frames(self) -> Iterator[np.ndarray]:
        chunker = Chunker(self._chunk)
        start = time.monotonic()
        produced = 0
        decoded = 0
        try:
            for block, last in self._blocks():
                decoded += len(block)
                for chunk in chunker.push(self._converter.convert(block, last=last)):
                    produced += len(chunk)
                    self.stats.frames += 1
                    if self.realtime:
                        _pace(start, produced)
                    yield chunk
                    if self._closed:
                        return
            if decoded == 0:
                raise AudioInputError(f"{self.path}: the file contains no audio samples")
            tail = chunker.flush()
            if tail is not None:
                self.stats.frames += 1
                yield tail
        finally:
            self._file.close()
            self.stats.report(self._emit, force=True)

    def close(self) -> None:
        self._closed = True

    def _blocks(self) -> Iterator[tuple[np.ndarray, bool]]:
        """Decode in blocks so a decoder error part-way keeps everything before it."""
        expected = _promised_frames(self._file)
        got = 0
        while True:
            try:
                block = self._file.read(_READ_FRAMES, dtype="float32", always_2d=True)
            except (sf.LibsndfileError, RuntimeError) as exc:
                if got == 0:
                    raise AudioInputError(f"{self.path}: cannot decode audio: {_reason(exc)}") from None
                self._damaged("audio_decode", f"decoding stopped at {got / self.rate:.2f} s: {_reason(exc)}")
                yield np.zeros((0, self.channels), np.float32), True
                return
            got += len(block)
            if len(block) < _READ_FRAMES:
                if 0 < got < expected:
                    self._damaged("audio_truncated", f"the header promises {expected / self.rate:.2f} s but only {got / self.rate:.2f} s are there")
                yield block, True
                return
            yield block, False

    def _damaged(self, code: str, detail: str) -> None:
        message = f"{self.path}: {detail}; continuing with the audio that decoded"
        _log.warning("%s", message)
        if self._emit is not None:
            self._emit(Error(code=code, message=message))


def _open(path: Path) -> sf.SoundFile:
    if not path.exists():
        raise AudioInputError(f"{path}: no such file")
    if path.is_dir():
        raise AudioInputError(f"{path}: is a directory, not an audio file")
    if path.stat().st_size == 0:
        raise AudioInputError(f"{path}: the file is empty (0 bytes)")
    try:
        f = sf.SoundFile(path)
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        raise AudioInputError(f"{path}: not a readable audio file ({_reason(exc)}); supported: WAV, FLAC, OGG, MP3 and other libsndfile formats") from None
    if f.samplerate <= 0 or f.channels <= 0:
        f.close()
        raise AudioInputError(f"{path}: the header is invalid (rate {f.samplerate}, channels {f.channels})")
    return f


def _promised_frames(f: sf.SoundFile) -> int:
    """Frames the header promises. libsndfile quietly shrinks a truncated WAV's length to what is
    there and only notes it in its log ("data : 80000 (should be 40000)"), so read the promise there."""
    short = _SHORT_DATA.search(f.extra_info)
    if short and int(short.group(2)) > 0:
        return f.frames * int(short.group(1)) // int(short.group(2))
    return f.frames


def _reason(exc: Exception) -> str:
    text = str(exc).strip()
    if text.startswith("Error opening"):
        text = text.split(":", 1)[-1].strip()
    return text.removeprefix("Error :").strip() or type(exc).__name__


def _pace(start: float, produced_samples: int) -> None:
    """Sleep until the wall clock catches up with the audio clock (real-time playback of a file)."""
    ahead = produced_samples / SAMPLE_RATE - (time.monotonic() - start)
    if ahead > 0:
        time.sleep(ahead)
