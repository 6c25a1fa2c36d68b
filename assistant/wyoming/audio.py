"""A request's audio stream (``audio-start`` … ``audio-chunk`` … ``audio-stop``) as pipeline audio.

Home Assistant sends 16 kHz 16-bit mono, but the protocol lets a client send
any rate, width and channel count; every chunk says its format. It is
converted once, here, to 16 kHz mono int16 (:class:`~assistant.audio.raw.PcmDecoder`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from assistant.audio.convert import SAMPLE_RATE
from assistant.audio.raw import PcmDecoder
from assistant.server.protocol import MAX_CHANNELS, MAX_RATE, MIN_RATE
from assistant.server.untrusted import shown
from assistant.wyoming.errors import ClientError

WIDTHS = {1: np.dtype("u1"), 2: np.dtype("<i2"), 4: np.dtype("<i4")}
"""Sample width in bytes → sample type: 8-bit unsigned, 16- and 32-bit signed little-endian (as WAV has them)."""


@dataclass(frozen=True)
class AudioFormat:
    rate: int
    width: int
    channels: int

    @classmethod
    def parse(cls, kind: str, data: dict[str, Any]) -> AudioFormat:
        """The format an ``audio-start`` or ``audio-chunk`` declares, or :class:`ClientError` saying what is allowed."""
        rate, width, channels = data.get("rate"), data.get("width"), data.get("channels")
        if not _integer(rate) or not MIN_RATE <= rate <= MAX_RATE:
            raise ClientError("bad_audio", f"{kind}: rate must be a whole number of Hz from {MIN_RATE} to {MAX_RATE}, got {shown(rate)}")
        if not _integer(width) or width not in WIDTHS:
            raise ClientError("bad_audio", f"{kind}: width must be {', '.join(map(str, WIDTHS))} (bytes per sample), got {shown(width)}")
        if not _integer(channels) or not 1 <= channels <= MAX_CHANNELS:
            raise ClientError("bad_audio", f"{kind}: channels must be from 1 to {MAX_CHANNELS}, got {shown(channels)}")
        return cls(rate, width, channels)


class AudioIn:
    """One request's audio: each chunk converted to 16 kHz mono int16, at most ``max_seconds`` of it
    (None: no limit, for wake-word streams, which hold no audio).

    Past ``max_seconds`` chunks are dropped and counted (``dropped_seconds``), so a client that never
    stops cannot grow a transcription without bound.
    """

    def __init__(self, fmt: AudioFormat, max_seconds: float | None = None) -> None:
        self.format = fmt
        self._decoder = PcmDecoder(fmt.rate, WIDTHS[fmt.width], fmt.channels)
        self._room = None if max_seconds is None else int(max_seconds * SAMPLE_RATE)
        self.samples = 0
        """Pipeline samples produced so far."""
        self.dropped_seconds = 0.0

    @property
    def seconds(self) -> float:
        return self.samples / SAMPLE_RATE

    def chunk(self, data: dict[str, Any], payload: bytes | None) -> np.ndarray:
        """An ``audio-chunk``'s samples as pipeline audio; its format must be the stream's."""
        fmt = AudioFormat.parse("audio-chunk", data)
        if fmt != self.format:
            raise ClientError(
                "bad_audio",
                f"audio-chunk is {fmt.rate} Hz, {fmt.width} bytes, {fmt.channels} channel(s) but its audio-start said "
                f"{self.format.rate} Hz, {self.format.width} bytes, {self.format.channels} channel(s); send a new audio-start to change format",
            )
        return self._keep(self._decoder.decode(payload or b""))

    def finish(self) -> np.ndarray:
        """``audio-stop``: what the resampler still holds."""
        return self._keep(self._decoder.finish())

    def _keep(self, audio: np.ndarray) -> np.ndarray:
        room = len(audio) if self._room is None else self._room - self.samples
        if len(audio) > room:
            self.dropped_seconds += (len(audio) - max(room, 0)) / SAMPLE_RATE
            audio = audio[: max(room, 0)]
        self.samples += len(audio)
        return audio


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
