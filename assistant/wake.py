"""Wake-word detection on openWakeWord 0.6.0.

openWakeWord ships no models and its tflite path imports ``tflite_runtime``,
which is built against numpy 1. We load the pretrained ``.tflite`` files that
the ``pyopen-wakeword`` package carries and run them through ``ai-edge-litert``
(tflite-runtime's successor, which openWakeWord upstream moved to) by
registering it under the old module name before a model is built.

All wake models share one feature extractor (melspectrogram + embedding), the
expensive part, so three wake words cost little more than one. openWakeWord
seeds its feature buffer with random noise; we make that noise seeded so the
same audio always gives the same scores.
"""

from __future__ import annotations

import itertools
import logging
import sys
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from assistant.audio.convert import SAMPLE_RATE
from assistant.errors import ModelError

_log = logging.getLogger(__name__)

PRETRAINED = ("alexa", "hey_jarvis", "hey_mycroft", "hey_rhasspy", "okay_nabu")
_FEATURE_SEED = 1234
_IMPORT_LOCK = threading.Lock()
"""openWakeWord's package imports its own submodule first: two threads importing it at once (a server's
first streams) can deadlock in the import system, which hands one of them the half-built package."""


def pretrained_dir() -> Path:
    try:
        import pyopen_wakeword
    except ImportError:
        raise ModelError("the pretrained wake-word models come with the pyopen-wakeword package: pip install pyopen-wakeword") from None
    return Path(pyopen_wakeword.__file__).parent / "models"


def resolve_model(spec: str) -> tuple[str, Path]:
    """A pretrained name (``hey_jarvis``, ``hey jarvis``) or a path to a ``.tflite``/``.onnx`` model → (name, path)."""
    name = spec.strip().lower().replace(" ", "_").replace("-", "_")
    if name in PRETRAINED:
        return name, pretrained_dir() / f"{name}.tflite"
    path = Path(spec).expanduser()
    if path.suffix.lower() in (".tflite", ".onnx"):
        if not path.is_file():
            raise ModelError(f"wake model file {path} does not exist")
        return path.stem, path
    raise ModelError(f"unknown wake model {spec!r}: use one of {', '.join(PRETRAINED)} or a path to a .tflite/.onnx model")


def _use_litert() -> None:
    """Make openWakeWord's ``import tflite_runtime.interpreter`` load ai-edge-litert."""
    try:
        from ai_edge_litert import interpreter
    except ImportError:
        raise ModelError("ai-edge-litert is needed to run wake-word models: pip install ai-edge-litert") from None
    package = type(sys)("tflite_runtime")
    package.interpreter = interpreter  # type: ignore[attr-defined]
    sys.modules["tflite_runtime"] = package
    sys.modules["tflite_runtime.interpreter"] = interpreter


@contextmanager
def _seeded_numpy() -> Iterator[None]:
    """openWakeWord fills its buffers from numpy's global RNG; seed it, then put the caller's state back."""
    state = np.random.get_state()
    np.random.seed(_FEATURE_SEED)
    try:
        yield
    finally:
        np.random.set_state(state)


def load_openwakeword(paths: list[Path]):
    """Build one openWakeWord ``Model`` for these wake models over the shared tflite feature extractor."""
    with _IMPORT_LOCK:
        _use_litert()
        from openwakeword.model import Model

    features = pretrained_dir()
    tflite = [str(p) for p in paths if p.suffix.lower() == ".tflite"]
    with _seeded_numpy():
        model = Model(
            wakeword_models=tflite,
            inference_framework="tflite",
            melspec_model_path=str(features / "melspectrogram.tflite"),
            embedding_model_path=str(features / "embedding_model.tflite"),
        )
    for path in paths:
        if path.suffix.lower() == ".onnx":
            _add_onnx_head(model, path)
    return model


def _add_onnx_head(model, path: Path) -> None:
    """Run an ONNX wake model on the shared tflite features.

    openWakeWord picks one framework per ``Model`` and the onnx feature models
    are not packaged anywhere reachable, so an ONNX classifier is attached as
    one more head: the same hook ``Model.__init__`` fills for its own models.
    """
    try:
        import onnxruntime as ort
    except ImportError:
        raise ModelError("onnxruntime is needed for .onnx wake models: pip install onnxruntime") from None
    options = ort.SessionOptions()
    options.inter_op_num_threads = 1
    options.intra_op_num_threads = 1
    try:
        session = ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own untyped errors for bad files
        raise ModelError(f"{path} is not a loadable ONNX wake model: {exc}") from None
    name = path.stem
    input_name = session.get_inputs()[0].name
    model.models[name] = session
    model.model_inputs[name] = session.get_inputs()[0].shape[1]
    model.model_outputs[name] = session.get_outputs()[0].shape[1]
    model.model_prediction_function[name] = lambda x: session.run(None, {input_name: x})
    model.class_mapping[name] = {"0": name}


@dataclass(frozen=True)
class Detection:
    model: str
    score: float
    onset_samples_ago: int
    """How far before the end of the firing chunk the score first crossed the threshold.

    That crossing is roughly where the wake word ended, so the caller replays its
    ring buffer from there and the start of the command is not lost.
    """


class WakeDetector:
    """Scores 80 ms chunks with every wake model and decides when one fires.

    A model fires when its score stays at or above its threshold for
    ``trigger_frames`` consecutive frames; after firing it is deaf for
    ``refractory_seconds`` so one utterance fires once.
    """

    def __init__(
        self,
        models: list[str],
        *,
        threshold: float = 0.5,
        thresholds: dict[str, float] | None = None,
        trigger_frames: int = 1,
        refractory_seconds: float = 2.0,
    ) -> None:
        resolved = [resolve_model(m) for m in models]
        names = [name for name, _ in resolved]
        if len(set(names)) != len(names):
            raise ModelError(f"wake models must have distinct names, got {names}")
        unknown = set(thresholds or {}) - set(names)
        if unknown:
            raise ModelError(f"thresholds given for wake models that are not loaded: {sorted(unknown)}; loaded: {names}")
        self.names = names
        self.thresholds = {n: (thresholds or {}).get(n, threshold) for n in names}
        self.trigger_frames = trigger_frames
        self.refractory_samples = int(refractory_seconds * SAMPLE_RATE)
        self._model = load_openwakeword([path for _, path in resolved])
        self._fed = 0  # samples ever scored; only refractory timing uses it
        self._above = dict.fromkeys(names, 0)
        self._onset = dict.fromkeys(names, 0)
        self._deaf_until = dict.fromkeys(names, 0)
        self.scores: dict[str, float] = dict.fromkeys(names, 0.0)
        _log.info("wake models loaded: %s", ", ".join(f"{n}>={self.thresholds[n]:g}" for n in names))

    def process(self, chunk: np.ndarray) -> Detection | None:
        """Score one chunk (80 ms, int16); return the strongest model that fires on it, if any."""
        raw = self._model.predict(chunk)
        self._fed += len(chunk)
        fired: list[Detection] = []
        for name in self.names:
            score = float(raw[name])
            self.scores[name] = score
            if score < self.thresholds[name]:
                self._above[name] = 0
                continue
            if self._above[name] == 0:
                self._onset[name] = self._fed - len(chunk)
            self._above[name] += 1
            if self._above[name] >= self.trigger_frames and self._fed >= self._deaf_until[name]:
                self._deaf_until[name] = self._fed + self.refractory_samples
                fired.append(Detection(name, score, self._fed - self._onset[name]))
        return max(fired, key=lambda d: d.score, default=None)

    def reset(self) -> None:
        """Forget all audio (between files, or after our own speech); deterministic like a fresh model."""
        with _seeded_numpy():
            self._model.reset()
        self._above = dict.fromkeys(self.names, 0)
        self._deaf_until = dict.fromkeys(self.names, 0)
        self.scores = dict.fromkeys(self.names, 0.0)


@dataclass
class ScanResult:
    detections: list[dict] = field(default_factory=list)
    """``{"model", "t", "score"}`` per firing, ``t`` in seconds from the start of the clip."""
    max_score: dict[str, float] = field(default_factory=dict)


def scan(detector: WakeDetector, chunks: Iterable[np.ndarray], pad_seconds: float = 1.0) -> ScanResult:
    """Score a whole clip from a fresh state, padded with silence on both sides.

    openWakeWord's own clip scoring pads the same way: a model needs context
    before the word and fires a little after it, so a wake word at the very
    start or end of a short clip is still seen whole.
    """
    from assistant.audio.source import CHUNK_SAMPLES

    pad = np.zeros((int(pad_seconds * SAMPLE_RATE) // CHUNK_SAMPLES, CHUNK_SAMPLES), np.int16)
    detector.reset()
    result = ScanResult(max_score=dict.fromkeys(detector.names, 0.0))
    position = -pad.size

    def score(chunk: np.ndarray) -> None:
        nonlocal position
        hit = detector.process(chunk)
        position += len(chunk)
        for name, value in detector.scores.items():
            result.max_score[name] = max(result.max_score[name], value)
        if hit is not None:
            result.detections.append({"model": hit.model, "t": round(max(position, 0) / SAMPLE_RATE, 3), "score": round(hit.score, 4)})

    for chunk in itertools.chain(pad, chunks, pad):
        score(chunk)
    result.max_score = {k: round(v, 4) for k, v in result.max_score.items()}
    return result
