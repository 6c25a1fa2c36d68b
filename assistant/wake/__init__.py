"""Wake-word detection: one protocol (:mod:`assistant.wake.base`), two engines.

- ``openwakeword``: openWakeWord 0.6 models (alexa, hey_jarvis, hey_mycroft,
  hey_rhasspy, okay_nabu from pyopen-wakeword, or any ``.tflite``/``.onnx``);
- ``microwakeword``: microWakeWord models (alexa, hey_jarvis, hey_mycroft,
  okay_nabu from pymicro-wakeword, or any model's ``.json``).

The engine modules import their libraries only when a detector is built, so
naming the engines here costs nothing.
"""

from __future__ import annotations

from assistant.about import About
from assistant.config import WakeEngine as Engine
from assistant.wake import microwakeword_backend, openwakeword_backend
from assistant.wake.base import Detection, TriggerRule, WakeDetector
from assistant.wake.framed import FramedDetector
from assistant.wake.scan import ScanResult, scan

BUILTIN: dict[str, tuple[str, ...]] = {
    "openwakeword": openwakeword_backend.PRETRAINED,
    "microwakeword": microwakeword_backend.BUILTIN,
}
"""Each engine's models by name."""


def model_name(engine: Engine, spec: str) -> str:
    """The name a model is reported under (``hey jarvis`` → ``hey_jarvis``, ``/x/my_word.json`` → ``my_word``)."""
    return _backend(engine).resolve_model(spec)[0]


def describe(engine: Engine, spec: str) -> About:
    """A wake model: its name, phrase, languages, version and author."""
    return _backend(engine).describe_model(spec)


def _backend(engine: Engine):
    return microwakeword_backend if engine == "microwakeword" else openwakeword_backend


def open_detector(
    engine: Engine,
    models: list[str],
    *,
    threshold: float | None = None,
    thresholds: dict[str, float] | None = None,
    sliding_windows: dict[str, int] | None = None,
    rule: TriggerRule = TriggerRule(),
) -> WakeDetector:
    """A new detector for one stream, fed blocks of any length (:mod:`assistant.wake.framed`); the engine's
    models are loaded on first use."""
    if engine == "microwakeword":
        return FramedDetector(microwakeword_backend.MicroWakeWordDetector(models, threshold=threshold, thresholds=thresholds, sliding_windows=sliding_windows, rule=rule))
    if sliding_windows:
        from assistant.errors import ConfigError

        raise ConfigError(f"wake.sliding_windows {sorted(sliding_windows)}: only microWakeWord models have a sliding window (wake.engine: microwakeword)")
    return FramedDetector(openwakeword_backend.OpenWakeWordDetector(models, threshold=threshold, thresholds=thresholds, rule=rule))


__all__ = ["BUILTIN", "Detection", "Engine", "ScanResult", "TriggerRule", "WakeDetector", "describe", "model_name", "open_detector", "scan"]
