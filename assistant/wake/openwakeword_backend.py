"""The openWakeWord engine (openWakeWord 0.6.0).

openWakeWord ships no models and its tflite path imports ``tflite_runtime``,
which is built against numpy 1. We load the pretrained ``.tflite`` files that
the ``pyopen-wakeword`` package carries and run them through ``ai-edge-litert``
(tflite-runtime's successor, which openWakeWord upstream moved to) by
registering it under the old module name before a model is built.

All wake models share one feature extractor (melspectrogram + embedding), the
expensive part, so three wake words cost little more than one. openWakeWord
seeds its feature buffer with random noise; we make that noise seeded so the
same audio always gives the same scores.

openWakeWord keeps a stream's buffers inside the same ``Model`` object as its
interpreters, so each detector loads its own interpreters (about 30 MB and
three open ``.tflite`` files); :meth:`OpenWakeWordDetector.close` releases them
at once. microWakeWord (``wake.engine: microwakeword``) shares its models.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from assistant.about import About, package_version
from assistant.errors import ModelError
from assistant.wake.base import Detection, Trigger, TriggerRule, check_names

_log = logging.getLogger(__name__)

PRETRAINED = ("alexa", "hey_jarvis", "hey_mycroft", "hey_rhasspy", "okay_nabu")
DEFAULT_THRESHOLD = 0.5
"""openWakeWord's own default: its models are trained so that 0.5 separates the word from the rest."""
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
    if path.suffix.lower() == ".json":
        raise ModelError(f"{spec} looks like a microWakeWord model (its JSON); openWakeWord models are .tflite/.onnx files: set wake.engine: microwakeword to use it")
    raise ModelError(f"unknown openWakeWord model {spec!r}: use one of {', '.join(PRETRAINED)} or a path to a .tflite/.onnx model")


def describe_model(spec: str) -> About:
    """The pretrained models are English; a model file of one's own says nothing about itself."""
    name, path = resolve_model(spec)
    phrase = name.replace("_", " ")
    pretrained = name in PRETRAINED
    return About(
        name=name,
        description=f'openWakeWord model for "{phrase}"',
        languages=("en",) if pretrained else (),
        version=package_version("pyopen-wakeword") if pretrained else None,
        author="openWakeWord (David Scripka)" if pretrained else "openWakeWord model",
        url="https://github.com/dscripka/openWakeWord" if pretrained else path.resolve().as_uri(),
        phrase=phrase,
    )


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


class OpenWakeWordDetector:
    """One stream's openWakeWord models: ``Model.predict`` scores each 80 ms chunk, :class:`Trigger` decides."""

    def __init__(
        self,
        models: list[str],
        *,
        threshold: float | None = None,
        thresholds: dict[str, float] | None = None,
        rule: TriggerRule = TriggerRule(),
    ) -> None:
        """``threshold`` None = :data:`DEFAULT_THRESHOLD`; ``thresholds`` per model override it."""
        resolved = [resolve_model(m) for m in models]
        self.names = [name for name, _ in resolved]
        check_names(self.names, {"wake.thresholds": thresholds or {}})
        default = DEFAULT_THRESHOLD if threshold is None else threshold
        self.thresholds = {n: (thresholds or {}).get(n, default) for n in self.names}
        self._trigger = Trigger(self.thresholds, rule)
        self._model = load_openwakeword([path for _, path in resolved])
        self.scores: dict[str, float] = dict.fromkeys(self.names, 0.0)
        _log.info("openWakeWord models loaded: %s", ", ".join(f"{n}>{self.thresholds[n]:g}" for n in self.names))

    def process(self, chunk: np.ndarray) -> Detection | None:
        raw = self._live().predict(chunk)
        self.scores = {name: float(raw[name]) for name in self.names}
        return self._trigger.step(self.scores, len(chunk))

    def reset(self) -> None:
        with _seeded_numpy():
            self._live().reset()
        self._trigger.reset()
        self.scores = dict.fromkeys(self.names, 0.0)

    def close(self) -> None:
        """Free the interpreters now: openWakeWord's feature extractor refers to itself through its
        predict closures, so without breaking that cycle they would wait for the garbage collector."""
        if self._model is None:
            return
        features = self._model.preprocessor
        features.melspec_model_predict = features.embedding_model_predict = None
        features.melspec_model = features.embedding_model = None
        self._model = None

    def _live(self):
        if self._model is None:
            raise RuntimeError("this wake detector was closed; build a new one for a new stream")
        return self._model
