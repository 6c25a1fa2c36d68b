"""Measured quality: score the intents on text and the whole loop on recorded speech.

- :func:`read_manifest` parses a labelled JSONL manifest (text or audio lines).
- :func:`evaluate_text` scores the intent engine alone.
- :class:`AudioEvaluator` runs each clip through the pipeline `assistant run --input`
  uses, optionally with noise mixed in at a signal-to-noise ratio (:class:`NoiseMixer`).
- :class:`Report` holds the outcomes: command acceptance (intent and every slot
  right), intent accuracy, rejection, word error rate, wake detection, false
  accepts per hour.
"""

from assistant.evaluate.audio import AudioEvaluator, load_audio
from assistant.evaluate.manifest import Case, is_audio, read_manifest
from assistant.evaluate.noise import NoiseMixer, mix_at_snr
from assistant.evaluate.report import Outcome, Report
from assistant.evaluate.text import evaluate_text
from assistant.evaluate.wer import word_error_rate, word_errors

__all__ = [
    "AudioEvaluator",
    "Case",
    "NoiseMixer",
    "Outcome",
    "Report",
    "evaluate_text",
    "is_audio",
    "load_audio",
    "mix_at_snr",
    "read_manifest",
    "word_error_rate",
    "word_errors",
]
