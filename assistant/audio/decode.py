"""Decoding audio, in one place: files, uploads and streams.

Files (``assistant run --input``, ``wake``, ``transcribe``, ``eval``), uploads
(``POST /v1/transcribe``) and a browser's webm/ogg opus stream over the WebSocket
all decode here, so whatever one accepts the others accept too. Two decoders,
each for what it does best:

- libsndfile (soundfile) first for files: WAV, FLAC, OGG, MP3. It is exact about
  how long a file should be, so a file that ends early is noticed.
- FFmpeg (PyAV) for everything else (webm, mp4/m4a, ...), for live container
  streams (decoded packet by packet as they arrive), and for what libsndfile
  gives up on: a FLAC whose decoder "lost sync" stops libsndfile for good, while
  FFmpeg skips the broken frames and goes on. The file then continues with
  FFmpeg's reading of it, after the samples libsndfile already gave.

Audio still lost (a decoder failed, or the data ends before the header says) is
handed to the caller as a :class:`Loss`, never dropped silently; the caller
tells the user in its own terms (an ``error`` event, a ``warnings`` entry).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import soundfile as sf

from assistant.audio.convert import StreamConverter
from assistant.errors import AudioInputError

_log = logging.getLogger(__name__)

_READ_FRAMES = 4096
_SHORT_DATA = re.compile(r"^data\s*:\s*(\d+)\s*\(should be (\d+)\)", re.MULTILINE)
_UNKNOWN_WAV_BYTES = 0xFFFFFFFF
_UNKNOWN_FRAMES = 2**63 - 1
_LIVE_OPTIONS = {"probesize": "32", "analyzeduration": "0", "fflags": "nobuffer"}
"""A live stream names its codec in its header: probe no further, so audio flows as soon as its packets arrive."""

_DURATION_SLACK_SECONDS = 0.1
"""How far FFmpeg's decoded audio may fall short of a container's stated duration before it counts as lost: the
duration is a timestamp, and codec delay and padding (opus: 6.5 ms plus up to a frame) make the two differ."""


@dataclass(frozen=True)
class Loss:
    """Audio that could not be decoded.

    ``code`` is the ``error`` event's: ``audio_decode`` (a decoder failed
    part-way) or ``audio_truncated`` (the data ends before the header says it
    does); ``detail`` says how much and why, for the person who sent the audio.
    """

    code: str
    detail: str


LossSink = Callable[[Loss], None]


class _Stopped(Exception):
    """A decoder gave up part-way; the message is its reason."""


class AudioFile:
    """An audio file opened for decoding: by libsndfile if it reads it, else by FFmpeg.

    ``rate`` and ``channels`` are the file's own, known once it is open; a file
    that neither decoder can open raises :class:`AudioInputError` here, naming
    the file and both reasons.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        _check_path(path)
        self._sndfile: sf.SoundFile | None = None
        self._container: Any = None
        self._promised: int | None
        try:
            self._sndfile = sf.SoundFile(path)
        except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
            self._open_with_ffmpeg(_sndfile_reason(exc))
            return
        self.rate, self.channels = self._sndfile.samplerate, self._sndfile.channels
        if self.rate <= 0 or self.channels <= 0:
            self.close()
            raise AudioInputError(f"{path}: the header is invalid (rate {self.rate}, channels {self.channels})")
        self._promised = _promised_frames(self._sndfile)

    def _open_with_ffmpeg(self, sndfile_reason: str) -> None:
        try:
            self._container = _open_container(str(self.path))
            codec = self._container.streams.audio[0].codec_context
            if codec.sample_rate <= 0 or codec.layout.nb_channels <= 0:  # FFmpeg guessed a format from the name alone
                raise AudioInputError(f"no {self._container.format.name} audio in it")
        except AudioInputError as exc:
            self.close()
            raise AudioInputError(
                f"{self.path}: not a readable audio file (libsndfile: {sndfile_reason}; FFmpeg: {exc}); "
                "use WAV, FLAC, OGG, MP3, webm, m4a or another format FFmpeg reads"
            ) from None
        self.rate, self.channels = codec.sample_rate, codec.layout.nb_channels
        duration = self._container.duration  # microseconds; None when the container does not say (a live recording)
        self._promised = None if duration is None else duration * self.rate // 1_000_000

    def blocks(self, on_loss: LossSink) -> Iterator[np.ndarray]:
        """The file's audio as ``(frames, channels)`` blocks at :attr:`rate`; lost audio goes to ``on_loss``.

        Raises :class:`AudioInputError` when not one sample decodes.
        """
        try:
            if self._sndfile is not None:
                decoded = yield from self._sndfile_then_ffmpeg(self._sndfile, on_loss)
            else:
                decoded = yield from self._ffmpeg_only(on_loss)
        finally:
            self.close()
        if decoded == 0:
            raise AudioInputError(f"{self.path}: the file contains no audio samples")

    def close(self) -> None:
        if self._sndfile is not None:
            self._sndfile.close()
        if self._container is not None:
            self._container.close()

    def _sndfile_then_ffmpeg(self, f: sf.SoundFile, on_loss: LossSink) -> Generator[np.ndarray, None, int]:
        """libsndfile's blocks and, if it stops before the end the header promises, FFmpeg's after them; returns frames given."""
        got, failure = 0, None
        try:
            for block in _sndfile_blocks(f):
                got += len(block)
                yield block
        except _Stopped as exc:
            failure = str(exc)
        if failure is None and (self._promised is None or got >= self._promised):
            return got
        total, ffmpeg_failure = got, None
        try:
            for block in self._ffmpeg_after(got):
                total += len(block)
                yield block
        except (_Stopped, AudioInputError) as exc:
            ffmpeg_failure = str(exc)
        if total == 0:
            if failure is not None:
                raise AudioInputError(f"{self.path}: cannot decode audio: {failure} (FFmpeg: {ffmpeg_failure or 'no audio either'})")
            return 0  # a header promising audio that is not there: no samples at all
        loss = self._loss(got, total, failure, ffmpeg_failure)
        if loss is None:
            _log.info("%s: libsndfile stopped at %s (%s); FFmpeg decoded the rest, to %s", self.path, self._seconds(got), failure or "short read", self._seconds(total))
        else:
            on_loss(loss)
        return total

    def _loss(self, got: int, total: int, failure: str | None, ffmpeg_failure: str | None) -> Loss | None:
        """What is lost when libsndfile stopped at ``got`` (with ``failure``, or short of the promise) and FFmpeg reached ``total``."""
        promised = self._promised
        if failure is None:
            assert promised is not None  # without a failure, only a known length not reached leads here
            return None if total >= promised else Loss("audio_truncated", f"the header promises {self._seconds(promised)} but only {self._seconds(total)} are there")
        if total <= got:
            further = f" ({ffmpeg_failure})" if ffmpeg_failure else ""
            return Loss("audio_decode", f"decoding stopped at {self._seconds(got)}: {failure}; FFmpeg got no further{further}")
        if promised is None or total >= promised:
            return None
        lost = self._seconds(promised - total)
        return Loss("audio_decode", f"libsndfile stopped at {self._seconds(got)} ({failure}) and FFmpeg decoded on to {self._seconds(total)} of {self._seconds(promised)}: {lost} lost")

    def _ffmpeg_after(self, start: int) -> Iterator[np.ndarray]:
        """FFmpeg's decoding of the whole file without its first ``start`` frames (libsndfile gave those already).

        Both decoders are exact for the lossless formats libsndfile loses sync in;
        for a lossy one their priming may differ by some milliseconds at the seam.
        A frame that fails its checksum is dropped, not played: by default FFmpeg
        decodes it into noise and says so only in its log, so the loss would go
        unreported, and the noise costs the wake word more than the gap does
        (burst errors in the wake-dev recordings: "alexa" heard in 27 of 33
        against 21 of 33).
        """
        container = _open_container(str(self.path))
        container.streams.audio[0].codec_context.options = {"err_detect": "crccheck+explode"}
        try:
            position = 0
            for block in _ffmpeg_blocks(container):
                position += len(block)
                if position > start:
                    yield block[max(0, len(block) - (position - start)) :]
        finally:
            container.close()

    def _ffmpeg_only(self, on_loss: LossSink) -> Generator[np.ndarray, None, int]:
        """FFmpeg's blocks of a file libsndfile cannot open; returns frames given."""
        decoded = 0
        try:
            for block in _ffmpeg_blocks(self._container):
                decoded += len(block)
                yield block
        except _Stopped as exc:
            if decoded == 0:
                raise AudioInputError(f"{self.path}: cannot decode audio: {exc}") from None
            on_loss(Loss("audio_decode", f"decoding stopped at {self._seconds(decoded)}: {exc}"))
            return decoded
        if self._promised is not None and self._promised - decoded > _DURATION_SLACK_SECONDS * self.rate:
            on_loss(Loss("audio_truncated", f"the header promises {self._seconds(self._promised)} but only {self._seconds(decoded)} decoded"))
        return decoded

    def _seconds(self, frames: int) -> str:
        return f"{frames / self.rate:.2f} s"


def decode_stream(file: IO[bytes], container_format: str, on_loss: LossSink) -> Iterator[np.ndarray]:
    """A live container stream (a browser's webm or ogg opus) as 16 kHz mono int16 blocks, decoded as its packets arrive.

    Raises :class:`AudioInputError` when the data is not audio FFmpeg can decode
    or ends before any audio; a failure part-way goes to ``on_loss`` and ends the stream.
    """
    container = _open_container(file, container_format, _LIVE_OPTIONS)
    try:
        converter: StreamConverter | None = None
        decoded = 0
        try:
            for block in _ffmpeg_blocks(container):
                if converter is None:  # the decoder's rate, known for sure only once it decoded something
                    converter = StreamConverter(container.streams.audio[0].codec_context.sample_rate)
                decoded += len(block)
                yield converter.convert(block)
        except _Stopped as exc:
            if converter is None:
                raise AudioInputError(f"cannot decode the {container.streams.audio[0].codec_context.name} audio: {exc}") from None
            on_loss(Loss("audio_decode", f"decoding stopped at {decoded / converter.rate:.2f} s: {exc}"))
        if converter is None:
            raise AudioInputError("the stream ended before any audio was decoded")
        yield converter.convert(np.zeros((0, 1), np.float32), last=True)
    finally:
        container.close()


def _check_path(path: Path) -> None:
    if not path.exists():
        raise AudioInputError(f"{path}: no such file")
    if path.is_dir():
        raise AudioInputError(f"{path}: is a directory, not an audio file")
    if path.stat().st_size == 0:
        raise AudioInputError(f"{path}: the file is empty (0 bytes)")


def _sndfile_blocks(f: sf.SoundFile) -> Iterator[np.ndarray]:
    """Decode in blocks so a decoder error part-way keeps everything before it; raises :class:`_Stopped` at one."""
    while True:
        try:
            block = f.read(_READ_FRAMES, dtype="float32", always_2d=True)
        except (sf.LibsndfileError, RuntimeError) as exc:
            raise _Stopped(_sndfile_reason(exc)) from None
        if len(block):
            yield block
        if len(block) < _READ_FRAMES:
            return


def _promised_frames(f: sf.SoundFile) -> int | None:
    """Frames the header promises, None where it does not say.

    libsndfile quietly shrinks a truncated WAV's length to what is there and
    only notes it in its log ("data : 80000 (should be 40000)"), so read the
    promise there. A file written to a pipe cannot go back to write its length:
    a WAV then says 0xFFFFFFFF bytes and a FLAC 0 samples (SF_COUNT_MAX here).
    """
    if f.frames == _UNKNOWN_FRAMES:
        return None
    short = _SHORT_DATA.search(f.extra_info)
    if short and int(short.group(2)) > 0:
        if int(short.group(1)) == _UNKNOWN_WAV_BYTES:
            return None
        return f.frames * int(short.group(1)) // int(short.group(2))
    return f.frames


def _sndfile_reason(exc: Exception) -> str:
    text = str(exc).strip()
    if text.startswith("Error opening"):
        text = text.split(":", 1)[-1].strip()
    return text.removeprefix("Error :").strip().rstrip(".") or type(exc).__name__


def _av() -> Any:
    try:
        import av
    except ImportError:
        raise AudioInputError("decoding this needs PyAV (FFmpeg): pip install av") from None
    return av


def _open_container(file: IO[bytes] | str, container_format: str | None = None, options: dict[str, str] | None = None) -> Any:
    """An FFmpeg container with an audio track (its first is the one decoded)."""
    av = _av()
    try:
        container = av.open(file, mode="r", format=container_format, options=options or {})
    except (av.FFmpegError, ValueError, OSError) as exc:
        raise AudioInputError(f"not a {container_format or 'readable audio'} stream: {_ffmpeg_reason(exc)}") from None
    if not container.streams.audio:
        container.close()
        raise AudioInputError(f"the {container.format.name} data has no audio track")
    return container


def _ffmpeg_blocks(container: Any) -> Iterator[np.ndarray]:
    """The first audio track's frames as ``(frames, channels)`` arrays; raises :class:`_Stopped` if FFmpeg fails."""
    av = _av()
    stream = container.streams.audio[0]
    try:
        for packet in container.demux(stream):
            for frame in packet.decode():
                samples = frame.to_ndarray()
                yield samples.T if frame.format.is_planar else samples.reshape(-1, len(frame.layout.channels))
    except av.FFmpegError as exc:
        raise _Stopped(_ffmpeg_reason(exc)) from None


def _ffmpeg_reason(exc: Exception) -> str:
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
