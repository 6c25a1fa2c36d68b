"""The audio front end: noise suppression and automatic gain before wake word, VAD and recognizer.

Every source's audio enters the pipeline through ``Pipeline.feed``, and that is
where a processor runs: once per stream, on the 80 ms chunks, so the loop, the
server's connections, the satellites' streams (processed on the hub) and
``assistant eval`` all hear the same cleaned audio. A processor holds the state
of one stream (its noise estimate, its gain) and is built per pipeline.

WebRTC's audio processing (through ``webrtc-noise-gain``, the library Home
Assistant's satellites use) works on 10 ms frames: a high-pass filter, noise
suppression (levels 0-4) and, optionally, automatic gain control towards a
target level. README "In kitchen noise" has the measurements: it is off by
default because on coffee-dev it moved command acceptance by no more than the
noise of the set; it costs about 0.2 % of a core.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from assistant.audio.convert import SAMPLE_RATE
from assistant.config import ProcessingConfig
from assistant.errors import ConfigError

FRAME_SAMPLES = SAMPLE_RATE // 100
"""WebRTC processes 10 ms frames."""


@runtime_checkable
class AudioProcessor(Protocol):
    """Cleans one stream's audio: int16 chunks in, int16 chunks of the same length out."""

    def process(self, chunk: np.ndarray) -> np.ndarray:
        """A chunk of 16 kHz mono int16 audio, processed; the stream's state carries on to the next chunk."""
        ...

    def close(self) -> None:
        """Release the native state now (the stream ended)."""
        ...


class WebRtcProcessor:
    """WebRTC noise suppression (``noise_suppression`` 0-4) and automatic gain (``auto_gain``: the target
    level in -dBFS, 1-31; 0 = off), 10 ms at a time (the pipeline's 80 ms chunks are 8 frames; a stream's
    short last chunk is padded for WebRTC and cut back)."""

    def __init__(self, noise_suppression: int, auto_gain: int) -> None:
        try:
            from webrtc_noise_gain import AudioProcessor as WebRtc
        except ImportError:
            raise ConfigError("audio.processing needs webrtc-noise-gain: pip install webrtc-noise-gain (or set audio.processing.enabled: false)") from None
        self._native: WebRtc | None = WebRtc(auto_gain, noise_suppression)

    def process(self, chunk: np.ndarray) -> np.ndarray:
        if chunk.dtype != np.int16 or chunk.ndim != 1:
            raise ValueError(f"the audio front end takes mono int16 audio, got {chunk.dtype} of shape {chunk.shape}")
        if self._native is None:
            raise RuntimeError("the audio front end was closed")
        whole = len(chunk) - len(chunk) % FRAME_SAMPLES
        data = chunk[:whole].tobytes()
        step = 2 * FRAME_SAMPLES
        out = [self._native.Process10ms(data[i : i + step]).audio for i in range(0, len(data), step)]
        if whole < len(chunk):  # a stream's last, short chunk: its frame padded with silence, cut back
            frame = np.zeros(FRAME_SAMPLES, np.int16)
            frame[: len(chunk) - whole] = chunk[whole:]
            out.append(self._native.Process10ms(frame.tobytes()).audio[: 2 * (len(chunk) - whole)])
        return np.frombuffer(b"".join(out), dtype=np.int16)

    def close(self) -> None:
        self._native = None


def open_processor(config: ProcessingConfig) -> AudioProcessor | None:
    """A stream's front end as ``audio.processing`` configures it, or None when it is off."""
    if not config.enabled:
        return None
    return WebRtcProcessor(config.noise_suppression, config.auto_gain)
