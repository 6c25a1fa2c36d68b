"""Short chimes that tell the user the assistant heard the wake word, or that something failed.

Generated with numpy at 16 kHz (the pipeline's format, so they go through the
same :class:`~assistant.audio.playback.Player` as replies) instead of shipped
as files. Each note has raised-cosine fades, so no click at either end, and a
quiet octave partial that makes a plain sine sound less like a test tone.
Built once and cached; the arrays are read-only because every caller shares them.
"""

from __future__ import annotations

import functools
from typing import Literal

import numpy as np

from assistant.audio.convert import SAMPLE_RATE, float_to_int16

Chime = Literal["wake", "error", "alarm"]

LEVEL = 0.3
"""Peak amplitude (about -10 dBFS): audible over a room without startling anyone."""
FADE_SECONDS = 0.008


def _note(start_hz: float, end_hz: float, seconds: float) -> np.ndarray:
    """A tone gliding from ``start_hz`` to ``end_hz`` (exponentially, as pitch is heard), faded in and out."""
    n = round(seconds * SAMPLE_RATE)
    freq = start_hz * (end_hz / start_hz) ** (np.arange(n) / n)
    phase = 2 * np.pi * np.cumsum(freq) / SAMPLE_RATE
    tone = np.sin(phase) + 0.2 * np.sin(2 * phase)
    fade = round(FADE_SECONDS * SAMPLE_RATE)
    ramp = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, fade))
    tone[:fade] *= ramp
    tone[-fade:] *= ramp[::-1]
    return tone


def _finish(*notes: np.ndarray) -> np.ndarray:
    audio = np.concatenate(notes)
    samples = float_to_int16(LEVEL * audio / np.max(np.abs(audio)))
    samples.flags.writeable = False
    return samples


@functools.cache
def wake_chime() -> np.ndarray:
    """Two rising notes, A5 then E6 (a fifth up), 150 ms in all: "I'm listening"."""
    return _finish(_note(880.0, 880.0, 0.07), _note(1318.5, 1318.5, 0.08))


@functools.cache
def error_chime() -> np.ndarray:
    """One low tone falling from G4 to C4 over 300 ms: "that did not work"."""
    return _finish(_note(392.0, 261.6, 0.3))


@functools.cache
def alarm_chime() -> np.ndarray:
    """C6 E6 G6 C7 twice, bright and quick, 0.8 s: "your timer is done" (rung before each repeat of the announcement)."""
    run = [_note(hz, hz, 0.09) for hz in (1046.5, 1318.5, 1568.0, 2093.0)]
    pause = np.zeros(round(0.08 * SAMPLE_RATE))
    return _finish(*run, pause, *run)


def chime(kind: Chime) -> np.ndarray:
    """The chime for ``kind`` as 16 kHz mono int16 (shared, read-only)."""
    return {"wake": wake_chime, "error": error_chime, "alarm": alarm_chime}[kind]()
