"""Build the configured recognizer engine: resolve the model, load it once, warm it up."""

from __future__ import annotations

import logging
import threading
import time

import numpy as np

from assistant.asr.base import AsrEngine
from assistant.asr.model_store import ModelStore
from assistant.audio.convert import SAMPLE_RATE
from assistant.config import Config
from assistant.vocabulary import Vocabulary

_log = logging.getLogger(__name__)

_WARMUP_SECONDS = 0.5
_engines: dict[tuple, AsrEngine] = {}
_lock = threading.Lock()


def load_engine(config: Config, *, vocabulary_hint: Vocabulary | None = None, store: ModelStore | None = None) -> AsrEngine:
    """The engine for ``config.asr``, loaded once per process and shared by every caller.

    ``vocabulary_hint`` (the intents' vocabulary) is compiled and run on a
    moment of silence here, so the first command is not slowed by first-use
    costs. Raises :class:`ModelError` with the command that fetches a missing
    model (or fetches it itself when ``asr.auto_download`` is on).
    """
    asr = config.asr
    store = store or ModelStore(base_url=asr.model_url)
    path = store.resolve(asr.engine, asr.model, auto_download=asr.auto_download)
    # every setting but where the model came from: a new asr option is part of the key without being listed here
    key = (str(path.resolve()), *sorted(asr.model_dump(exclude={"model", "auto_download", "model_url"}).items()))
    with _lock:
        engine = _engines.get(key)
        built = engine is None
        if engine is None:
            began = time.perf_counter()
            engine = _build(config, path)
            _engines[key] = engine
            _log.info("loaded %s model %s in %.2f s", asr.engine, path, time.perf_counter() - began)
    if built or vocabulary_hint is not None:
        _warm(engine, vocabulary_hint)
    return engine


def _build(config: Config, path) -> AsrEngine:
    asr = config.asr
    if asr.engine == "whisper":
        from assistant.asr.whisper_backend import WhisperEngine

        return WhisperEngine(
            path, compute_type=asr.compute_type, beam_size=asr.beam_size, cpu_threads=asr.cpu_threads, workers=asr.workers, window=asr.window, greedy_first=asr.greedy_first, rescore=asr.rescore
        )
    from assistant.asr.vosk_backend import VoskEngine

    return VoskEngine(path, grammar=asr.grammar)


def _warm(engine: AsrEngine, vocabulary: Vocabulary | None) -> None:
    recognizer = engine.recognizer(vocabulary)
    recognizer.start()
    recognizer.feed(np.zeros(int(_WARMUP_SECONDS * SAMPLE_RATE), np.int16))
    recognizer.finish()
