"""Mix background noise into speech at a signal-to-noise ratio.

SNR here is the speech clip's mean power over the mean power of the noise
added to it, both over the whole clip (silences included). Picovoice's
speech-to-intent benchmark instead compares the loudest 2048-sample frame of
each (``peak``); on the coffee-dev clips and kitchen noise that puts the noise
a few dB louder at the same nominal figure, so both are offered and every
report names the one used.

Each clip takes its noise from a random offset of the noise recording, drawn
from a generator seeded by (seed, clip key): a clip gets the same noise
whatever order or subset of clips is run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from assistant.errors import AssistantError

SnrMeasure = Literal["mean", "peak"]
PEAK_FRAME = 2048
INT16_MAX = 32767.0


def power(samples: np.ndarray, measure: SnrMeasure = "mean") -> float:
    """Mean power over the clip, or the power of its loudest ``PEAK_FRAME`` (whole frames only, as Picovoice)."""
    x = samples.astype(np.float64)
    if measure == "mean":
        return float(np.mean(x * x)) if len(x) else 0.0
    frames = len(x) // PEAK_FRAME
    if frames == 0:
        return float(np.mean(x * x)) if len(x) else 0.0
    blocks = x[: frames * PEAK_FRAME].reshape(frames, PEAK_FRAME)
    return float((blocks * blocks).mean(axis=1).max())


def mix_at_snr(
    speech: np.ndarray, noise: np.ndarray, snr_db: float, rng: np.random.Generator, measure: SnrMeasure = "mean", *, context: int = 0
) -> np.ndarray:
    """``speech`` (int16) plus a random stretch of ``noise`` scaled to ``snr_db``; int16 out.

    ``context`` samples of the same, continuing noise come before and after the
    speech (the ratio is still measured over the speech's span): a microphone that
    listens all the time hears the kitchen before the word, and a wake engine or a
    noise suppressor settles on it as it would live.

    The noise repeats if it is shorter than the speech. A mix that would clip
    is scaled down whole, which keeps the ratio. Digital silence has no power
    to measure a ratio against and comes back unchanged.
    """
    if len(noise) == 0:
        raise ValueError("the noise is empty")
    if context < 0:
        raise ValueError(f"context is a number of samples, not {context}")
    signal = power(speech, measure)
    if signal == 0.0 or len(speech) == 0:
        return speech.copy()
    offset = int(rng.integers(0, len(noise)))
    segment = np.take(noise, np.arange(offset - context, offset + len(speech) + context), mode="wrap").astype(np.float64)
    noise_power = power(segment[context : context + len(speech)], measure)
    if noise_power == 0.0:
        raise ValueError("the noise is digital silence where it was taken")
    gain = np.sqrt(signal / (noise_power * 10 ** (snr_db / 10)))
    mixed = gain * segment
    mixed[context : context + len(speech)] += speech
    peak = float(np.abs(mixed).max())
    if peak > INT16_MAX:
        mixed *= INT16_MAX / peak
    return np.rint(mixed).astype(np.int16)


@dataclass
class NoiseMixer:
    """A noise recording, a ratio and a seed: what ``--noise FILE --snr DB`` asks for."""

    noise: np.ndarray
    snr_db: float
    seed: int = 0
    measure: SnrMeasure = "mean"
    name: str = "noise"

    @classmethod
    def from_file(cls, path: Path | str, snr_db: float, *, seed: int = 0, measure: SnrMeasure = "mean") -> NoiseMixer:
        from assistant.evaluate.audio import load_audio

        noise = load_audio(Path(path))
        if not np.any(noise):
            raise AssistantError(f"{path}: the noise file is silent; pick a recording of the noise to mix in")
        return cls(noise, snr_db, seed, measure, Path(path).name)

    def mix(self, speech: np.ndarray, key: int) -> np.ndarray:
        """``key`` identifies the clip (its manifest line), so its noise does not depend on the others."""
        return mix_at_snr(speech, self.noise, self.snr_db, np.random.default_rng([self.seed, key]), self.measure)

    def describe(self) -> str:
        return f"{self.name} at {self.snr_db:g} dB SNR ({self.measure} power, seed {self.seed})"
