"""The microWakeWord engine, on the TFLite runtime and feature frontend that pymicro-wakeword ships.

A microWakeWord model is a JSON file (wake word, ``probability_cutoff``,
``sliding_window_size``) next to a streaming ``.tflite`` model that keeps its
own state between calls. pymicro-wakeword's ``MicroWakeWord`` loads the model
file and its interpreter together, one pair per instance; here the split
follows the cost instead:

- :class:`MicroModel`, the model file (weights, opened and mapped once), is
  loaded once per process and shared by every stream;
- each :class:`MicroWakeWordDetector` owns only a stream's state: one feature
  frontend, and per model a TFLite interpreter (its tensor arena, some 20-40 kB,
  holds the model's streaming state), the features waiting for the model's
  stride and the window of recent probabilities. ``close()`` deletes them.

Scoring follows pymicro-wakeword: 40 features every 10 ms, the model called on
every ``stride`` (3) new feature rows, a model's score the mean of its last
``sliding_window_size`` probabilities (0 until the window is full). A chunk's
score is the highest mean reached inside it, so with ``trigger_frames: 1`` a
model fires in the chunk where pymicro-wakeword's ``process_streaming`` says
True. ``wake.thresholds`` and ``wake.sliding_windows`` override the JSON per model.
"""

from __future__ import annotations

import ctypes
import json
import logging
import threading
from collections import deque
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from assistant.about import About
from assistant.errors import ModelError
from assistant.wake.base import Detection, Trigger, TriggerRule, check_names

_log = logging.getLogger(__name__)

BUILTIN = ("alexa", "hey_jarvis", "hey_mycroft", "okay_nabu")
"""The models pymicro-wakeword 2.5 ships."""

STEP_SAMPLES = 160
"""The frontend makes one row of features per 10 ms."""
FEATURES = 40

_TFLITE_INT_TYPES = {3: np.uint8, 9: np.int8}
"""TfLiteType → numpy dtype, for the quantized input and output tensors microWakeWord models have."""


def _package_dir() -> Path:
    try:
        import pymicro_wakeword
    except ImportError:
        raise ModelError("microWakeWord needs the pymicro-wakeword package: pip install pymicro-wakeword") from None
    return Path(pymicro_wakeword.__file__).parent


@cache
def _tflite() -> ctypes.CDLL:
    """pymicro-wakeword's TFLite C library, with its function signatures declared (once per process)."""
    from pymicro_wakeword.wakeword import TfLiteWakeWord

    library = next(iter(sorted((_package_dir() / "lib").glob("*tensorflowlite_c.*"))), None)
    if library is None:
        raise ModelError("pymicro-wakeword has no TFLite library for this platform; reinstall it from a wheel for this machine")
    return TfLiteWakeWord(library).lib


def resolve_model(spec: str) -> tuple[str, Path]:
    """A built-in name (``hey_jarvis``, ``hey jarvis``) or the path of a model's JSON → (name, JSON path)."""
    name = spec.strip().lower().replace(" ", "_").replace("-", "_")
    if name in BUILTIN:
        return name, _package_dir() / "models" / f"{name}.json"
    path = Path(spec).expanduser()
    suffix = path.suffix.lower()
    if suffix == ".json":
        if not path.is_file():
            raise ModelError(f"wake model file {path} does not exist")
        return path.stem, path
    if suffix in (".tflite", ".onnx"):
        raise ModelError(
            f"{spec}: a microWakeWord model is named by its JSON file (which gives the .tflite, the probability cutoff and "
            f"the sliding window), not by the {suffix} itself; for an openWakeWord model set wake.engine: openwakeword"
        )
    hint = " (an openWakeWord model: set wake.engine: openwakeword)" if name == "hey_rhasspy" else ""
    raise ModelError(f"unknown microWakeWord model {spec!r}{hint}: use one of {', '.join(BUILTIN)} or the path of a model's .json")


def describe_model(spec: str) -> About:
    """A model's JSON says what to say, in which languages, its version and its author."""
    name, path = resolve_model(spec)
    config = _read_json(path)
    phrase = str(config.get("wake_word", name.replace("_", " ")))
    languages = config.get("trained_languages")
    return About(
        name=name,
        description=f'microWakeWord model for "{phrase}"',
        languages=tuple(str(x) for x in languages) if isinstance(languages, list) else (),
        version=str(config["version"]) if "version" in config else None,
        author=str(config.get("author") or "microWakeWord"),
        url=str(config.get("website") or "https://github.com/kahrendt/microWakeWord"),
        phrase=phrase,
    )


@dataclass(frozen=True)
class MicroModel:
    """One loaded microWakeWord model: read-only, shared by every stream, kept for the life of the process."""

    name: str
    wake_word: str
    probability_cutoff: float
    sliding_window: int
    handle: int
    """The ``TfLiteModel*`` every stream's interpreter is built from."""
    stride: int
    """Feature rows per model call."""
    input_scale: float
    input_zero_point: int
    input_dtype: type[np.integer]
    output_scale: float
    output_zero_point: int
    output_dtype: type[np.integer]

    def interpreter(self) -> int:
        """A new interpreter with fresh streaming state (``TfLiteInterpreter*``); the caller deletes it."""
        lib = _tflite()
        handle = lib.TfLiteInterpreterCreate(self.handle, None)
        if not handle or lib.TfLiteInterpreterAllocateTensors(handle) != 0:
            if handle:
                lib.TfLiteInterpreterDelete(handle)
            raise ModelError(f"the TFLite runtime cannot run the wake model {self.name}")
        return handle


_loaded: dict[tuple[str, Path], MicroModel] = {}
_loading = threading.Lock()


def load_model(spec: str) -> MicroModel:
    """The shared model for a name or JSON path, loaded on first use."""
    name, path = resolve_model(spec)
    key = (name, path.resolve())
    with _loading:
        if key not in _loaded:
            _loaded[key] = _load(name, path)
        return _loaded[key]


def _load(name: str, path: Path) -> MicroModel:
    config = _read_json(path)
    tflite = path.parent / config["model"]
    if not tflite.is_file():
        raise ModelError(f"the wake model {path} names the model file {tflite}, which does not exist")
    lib = _tflite()
    handle = lib.TfLiteModelCreateFromFile(str(tflite.resolve()).encode())
    if not handle:
        raise ModelError(f"{tflite} is not a TFLite model (the model file a microWakeWord JSON names)")
    probe = lib.TfLiteInterpreterCreate(handle, None)
    try:
        if not probe or lib.TfLiteInterpreterAllocateTensors(probe) != 0:
            raise ModelError(f"{tflite} cannot run on pymicro-wakeword's TFLite runtime (is it a microWakeWord streaming model?)")
        tensors = lib.TfLiteInterpreterGetInputTensor(probe, 0), lib.TfLiteInterpreterGetOutputTensor(probe, 0)
        (input_q, output_q) = (lib.TfLiteTensorQuantizationParams(t) for t in tensors)
        dtypes = [_TFLITE_INT_TYPES.get(lib.TfLiteTensorType(t)) for t in tensors]
        if None in dtypes or lib.TfLiteTensorDim(tensors[0], 2) != FEATURES:
            raise ModelError(f"{tflite} is not a quantized microWakeWord model (int8/uint8 tensors over {FEATURES} features)")
        stride = lib.TfLiteTensorDim(tensors[0], 1)
    except ModelError:
        lib.TfLiteModelDelete(handle)
        raise
    finally:
        if probe:
            lib.TfLiteInterpreterDelete(probe)
    micro = config["micro"]
    model = MicroModel(
        name=name,
        wake_word=str(config.get("wake_word", name)),
        probability_cutoff=float(micro["probability_cutoff"]),
        sliding_window=int(micro["sliding_window_size"]),
        handle=handle,
        stride=stride,
        input_scale=input_q.scale,
        input_zero_point=input_q.zero_point,
        input_dtype=dtypes[0],
        output_scale=output_q.scale,
        output_zero_point=output_q.zero_point,
        output_dtype=dtypes[1],
    )
    _log.info("microWakeWord model %s loaded from %s (cutoff %g, window %d)", name, tflite, model.probability_cutoff, model.sliding_window)
    return model


def _read_json(path: Path) -> dict[str, Any]:
    what = 'a microWakeWord model JSON needs "model" (its .tflite) and "micro": {"probability_cutoff", "sliding_window_size"}'
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path} is not a microWakeWord model: {exc}; {what}") from None
    micro = config.get("micro") if isinstance(config, dict) else None
    valid = (
        isinstance(micro, dict)
        and isinstance(config.get("model"), str)
        and isinstance(micro.get("probability_cutoff"), int | float)
        and isinstance(micro.get("sliding_window_size"), int)
        and 0 < micro["probability_cutoff"] < 1
        and micro["sliding_window_size"] >= 1
    )
    if not valid:
        raise ModelError(f"{path} is not a microWakeWord model: {what}")
    return config


class _Head:
    """One model's state in one stream: its interpreter, the features waiting for its stride, its window."""

    def __init__(self, model: MicroModel, window: int) -> None:
        self.model = model
        self.window: deque[float] = deque(maxlen=window)
        self.pending = np.empty((0, FEATURES), model.input_dtype)
        self._output = np.empty(1, model.output_dtype)
        info = np.iinfo(model.input_dtype)
        self._range = (info.min, info.max)
        self._lib = _tflite()
        self.interpreter = 0
        self.restart()

    def restart(self) -> None:
        """Fresh streaming state: a new interpreter (the model's variables live in it) and empty buffers."""
        self.release()
        self.interpreter = self.model.interpreter()
        self._input_tensor = self._lib.TfLiteInterpreterGetInputTensor(self.interpreter, 0)
        self._output_tensor = self._lib.TfLiteInterpreterGetOutputTensor(self.interpreter, 0)
        self.window.clear()
        self.pending = self.pending[:0]

    def release(self) -> None:
        if self.interpreter:
            self._lib.TfLiteInterpreterDelete(self.interpreter)
            self.interpreter = 0

    def score(self, features: np.ndarray) -> float:
        """Feed this chunk's feature rows; the highest window mean reached (0 before the window fills)."""
        m = self.model
        quantized = np.clip(np.round(features / m.input_scale + m.input_zero_point), *self._range).astype(m.input_dtype)
        rows = np.concatenate((self.pending, quantized)) if len(self.pending) else quantized
        calls = len(rows) // m.stride
        best = 0.0
        for i in range(calls):
            self.window.append(self._invoke(rows[i * m.stride : (i + 1) * m.stride]))
            if len(self.window) == self.window.maxlen:
                best = max(best, sum(self.window) / len(self.window))
        self.pending = rows[calls * m.stride :]
        return best

    def _invoke(self, rows: np.ndarray) -> float:
        lib = self._lib
        block = np.ascontiguousarray(rows)
        lib.TfLiteTensorCopyFromBuffer(self._input_tensor, block.ctypes.data, block.nbytes)
        if lib.TfLiteInterpreterInvoke(self.interpreter) != 0:
            raise ModelError(f"the wake model {self.model.name} failed to run")
        lib.TfLiteTensorCopyToBuffer(self._output_tensor, self._output.ctypes.data, self._output.nbytes)
        return (float(self._output[0]) - self.model.output_zero_point) * self.model.output_scale


class MicroWakeWordDetector:
    """One stream's microWakeWord detector over the process's shared models."""

    def __init__(
        self,
        models: list[str],
        *,
        threshold: float | None = None,
        thresholds: dict[str, float] | None = None,
        sliding_windows: dict[str, int] | None = None,
        rule: TriggerRule = TriggerRule(),
    ) -> None:
        """``threshold`` None = each model's ``probability_cutoff``; ``thresholds`` and
        ``sliding_windows`` per model override the threshold and the JSON."""
        from pymicro_features import MicroFrontend

        self._heads: list[_Head] = []
        self._frontend: MicroFrontend | None = None
        loaded = [load_model(m) for m in models]
        self.names = [m.name for m in loaded]
        check_names(self.names, {"wake.thresholds": thresholds or {}, "wake.sliding_windows": sliding_windows or {}})
        self.thresholds = {m.name: (thresholds or {}).get(m.name, m.probability_cutoff if threshold is None else threshold) for m in loaded}
        self._frontend = MicroFrontend()
        try:
            for m in loaded:
                self._heads.append(_Head(m, (sliding_windows or {}).get(m.name, m.sliding_window)))
        except ModelError:
            self.close()
            raise
        self._remainder = np.empty(0, np.int16)
        self._trigger = Trigger(self.thresholds, rule)
        self.scores: dict[str, float] = dict.fromkeys(self.names, 0.0)

    def process(self, chunk: np.ndarray) -> Detection | None:
        features = self._features(chunk)
        self.scores = {head.model.name: head.score(features) for head in self._heads}
        return self._trigger.step(self.scores, len(chunk))

    def reset(self) -> None:
        self._live().reset()
        for head in self._heads:
            head.restart()
        self._remainder = self._remainder[:0]
        self._trigger.reset()
        self.scores = dict.fromkeys(self.names, 0.0)

    def close(self) -> None:
        for head in self._heads:
            head.release()
        self._heads = []
        self._frontend = None

    def __del__(self) -> None:
        # a detector dropped without close() (a caller's bug) must not leak native interpreters for ever
        self.close()

    def _features(self, chunk: np.ndarray) -> np.ndarray:
        """The feature rows of this chunk (plus the part of a step left from the last one), as floats."""
        frontend = self._live()
        audio = np.concatenate((self._remainder, chunk)) if len(self._remainder) else chunk
        data = audio.astype("<i2", copy=False).tobytes()
        rows: list[list[float]] = []
        start = 0
        while start + 2 * STEP_SAMPLES <= len(data):  # the frontend takes one 10 ms step per call
            result = frontend.process_samples(data[start : start + 2 * STEP_SAMPLES])
            start += 2 * result.samples_read
            if result.features:
                rows.append(result.features)
        self._remainder = audio[start // 2 :]
        return np.array(rows, dtype=np.float64).reshape(-1, FEATURES)

    def _live(self):
        if self._frontend is None:
            raise RuntimeError("this wake detector was closed; build a new one for a new stream")
        return self._frontend
