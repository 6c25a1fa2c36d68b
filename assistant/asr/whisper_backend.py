"""faster-whisper (CTranslate2) recognition: one final transcript at the end of speech.

Whisper decodes a whole utterance at once, so ``feed`` only buffers and
``finish`` runs the model; there are no partials and no word timings (see
``transcribe``). int8 weights on CPU: the fastest choice on a Raspberry Pi and
on desktops without a GPU. The intents' vocabulary goes in as hotwords, the
decoder's "previous text": it steers spelling without restricting what can be
said (coffee-dev, tiny.en: 4.5 % word errors without, 0.9 % with).

Commands fit in one 30-second window, so those are decoded here directly on
CTranslate2 rather than through faster-whisper's long-form loop: beam search
then hands back every beam (an n-best list the intent engine can rescore
against its templates), and the number of tokens is capped by the audio's
length, so a hallucinated repetition ("all all all ...") stops after a
fraction of a second instead of running to whisper's 448-token limit.
"""

from __future__ import annotations

import math
import os
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from assistant.about import About, model_name, package_version
from assistant.asr.base import Alternative, Transcription
from assistant.asr.catalog import find
from assistant.asr.spoken_form import spoken_form
from assistant.audio.convert import INT16_SCALE, SAMPLE_RATE
from assistant.errors import ModelError
from assistant.vocabulary import Candidates, Understood, Vocabulary

HOTWORDS_CHARS = 600
"""About 150 tokens: whisper allows half its 448-token context for the prompt; more only slows decoding.
Shorter costs accuracy: the prompt is about a third of a decode's time on a CPU, but with 300 characters of
the rarest words coffee-dev acceptance fell from 62/62 to 60/62 clean and from 61/62 to 54/62 at 6 dB, and
dropping the common words at 600 characters gained nothing (62/62, 60/62)."""

MIN_SECONDS = 0.1
"""Less audio than this is no utterance; whisper would hallucinate on it."""

WINDOW_SECONDS = 30
"""Whisper's input window: longer audio goes through faster-whisper's own long-form loop."""

WINDOWS = ("cascade", "short", "full")
"""``asr.window`` for commands: ``full`` pads every utterance to whisper's 30 s (what it was trained on, and
what its encoder takes 0.4-0.5 s for on a 2-core CPU); ``short`` encodes ``SHORT_WINDOW_SECONDS`` (about 4x
faster, but its readings are less often right); ``cascade`` takes the short window's reading when the intents
act on it and decodes the full window otherwise. bench/README: the table that chose the default."""

SHORT_WINDOW_SECONDS = 10
"""The short window: a command fits (the endpointer cuts at ``vad.max_command_seconds``, 10 s by default)."""

SHORT_PADDING_SECONDS = 1.0
"""Silence after the utterance in the short window, so it never ends on the last word."""

TOKENS_PER_SECOND = 8
"""Cap on decoded tokens per second of audio: fast speech is about 4 (5 words/s at 1.3 tokens a word)."""


def is_whisper_model(path: Path) -> bool:
    return (path / "model.bin").is_file() and (path / "config.json").is_file()


class WhisperEngine:
    name = "whisper"

    def __init__(
        self,
        model: Path | str,
        *,
        compute_type: str = "int8",
        beam_size: int = 5,
        cpu_threads: int | None = 1,
        workers: int = 1,
        window: str = "cascade",
        greedy_first: bool = True,
        rescore: bool = False,
    ) -> None:
        try:
            from faster_whisper import WhisperModel
        except ImportError:
            raise ModelError("faster-whisper is not installed: pip install 'assistant[whisper]'") from None
        path = Path(model)
        if path.is_dir() and not is_whisper_model(path):
            raise ModelError(f"{path} is not a faster-whisper model (expected model.bin and config.json, a CTranslate2 conversion)")
        try:
            # a replica per recognition worker (assistant.asr.pool), shared by every pipeline
            # None: one per core (CTranslate2 would take 4 even on a 2-core machine)
            threads = cpu_threads or min(4, os.cpu_count() or 1)
            self._model = WhisperModel(str(model), device="cpu", compute_type=compute_type, cpu_threads=threads, num_workers=workers)
        except (RuntimeError, ValueError, OSError) as exc:
            raise ModelError(f"cannot load the whisper model {model}: {exc}") from None
        if window not in WINDOWS:
            raise ValueError(f"window must be one of {WINDOWS}, not {window!r}")
        self.model = str(model)
        self.beam_size = beam_size
        self.window = window
        self.greedy_first = greedy_first
        """Before the beam search, a greedy reading of the same short window, kept when whisper is sure of it and a
        template matches it word for word, free-text slots aside (``asr.greedy_first``): most commands are read at
        the cost of one beam (README "Speed"). A timer's name takes any words, so a reading that only matches by
        giving it some ("set up it's a timer for twelve minutes") is no evidence: the beams read those."""
        self.rescore = rescore
        """Score the templates' nearest sentences on the audio when no reading matches one (``asr.rescore``)."""
        self.stats = {"decodes": 0, "decode_seconds": 0.0, "rescored": 0, "rescore_seconds": 0.0}
        """Readings (decoder runs) and the time of encoding and reading, and how many of them the grammar rescored
        and what that added (seconds, wall clock): ``bench/bench_accuracy.py`` reports the cost from them."""
        self.language = "en" if not self._model.model.is_multilingual else None
        self._decoders: dict[str, tuple[object, list[int]]] = {}
        """Per language: the tokenizer and the tokens never to emit (built on first use, reused)."""

    def describe(self) -> About:
        entry = find(Path(self.model).name)
        return About(
            name=entry.name if entry is not None else model_name(self.model),
            description=f"whisper on faster-whisper ({self.beam_size} beams), the loaded intents' words as hotwords",
            languages=tuple(self._model.supported_languages),
            version=package_version("faster-whisper"),
            author="OpenAI (Whisper), converted for faster-whisper (SYSTRAN)",
            url="https://github.com/openai/whisper",
        )

    def recognizer(self, vocabulary: Vocabulary | None = None) -> WhisperRecognizer:
        if vocabulary is None:
            return WhisperRecognizer(self, None, None)
        return WhisperRecognizer(self, hotwords(vocabulary), vocabulary.understood, vocabulary.candidates if self.rescore else None)

    def transcribe(
        self, samples: np.ndarray, hotwords: str | None, understood: Understood | None = None, candidates: Candidates | None = None
    ) -> Transcription:
        """``understood``: whether the intents act on a reading; without it the cascade decodes the full window.
        ``candidates``: the templates' sentences nearest to a reading (see :meth:`_prefer_grammar`)."""
        if len(samples) < MIN_SECONDS * SAMPLE_RATE:
            return Transcription(text="", confidence=None, words=[])
        audio = samples.astype(np.float32) / INT16_SCALE
        if len(samples) > WINDOW_SECONDS * SAMPLE_RATE:
            return self._transcribe_long(audio, hotwords)
        from faster_whisper.audio import pad_or_trim

        features = self._model.feature_extractor(audio)
        if self.window == "full" or (self.window == "cascade" and understood is None):
            return self._decode_window(pad_or_trim(features), hotwords, len(audio), candidates)
        encoded = self._encode(_short_window(features))
        if self.greedy_first and understood is not None and self.beam_size > 1:
            # without the vocabulary prompt: its ~190 tokens cost the one-beam reading about as much as the reading
            # itself, and with it more readings match a template that are not what was said (README "Speed")
            glance = self._read(encoded, None, len(audio), None, beams=1)
            if _sure(glance) and understood(glance.text, [], free_text=False):
                return glance
        quick = self._read(encoded, hotwords, len(audio), candidates if self.window == "short" else None)
        if self.window == "short" or (_sure(quick) and understood(quick.text, [a.text for a in quick.alternatives])):
            return quick
        return self._decode_window(pad_or_trim(features), hotwords, len(audio), candidates)

    def _decode_window(self, features: np.ndarray, hotwords: str | None, samples: int, candidates: Candidates | None = None) -> Transcription:
        """One window of log-mel ``features`` for ``samples`` of audio, encoded and read with every beam kept."""
        return self._read(self._encode(features), hotwords, samples, candidates)

    def _encode(self, features: np.ndarray):
        started = time.perf_counter()
        try:
            return self._model.encode(features)
        finally:
            self.stats["decode_seconds"] += time.perf_counter() - started

    def _read(self, encoded, hotwords: str | None, samples: int, candidates: Candidates | None, beams: int | None = None) -> Transcription:
        """The text of an encoded window, every beam kept: the best is the transcript, the others its
        alternatives; with ``candidates``, the grammar's sentence whisper finds likeliest on this audio is the
        first alternative when no reading matches a template. ``beams``: the beam width (default ``beam_size``)."""
        started = time.perf_counter()
        try:
            return self._generate(encoded, hotwords, samples, candidates, beams or self.beam_size)
        finally:
            self.stats["decodes"] += 1
            self.stats["decode_seconds"] += time.perf_counter() - started

    def _generate(self, encoded, hotwords: str | None, samples: int, candidates: Candidates | None, beams: int) -> Transcription:
        model = self._model
        language = self.language or model.model.detect_language(encoded)[0][0][0][2:-2]
        tokenizer, suppressed = self._decoder(language)
        prompt = model.get_prompt(tokenizer, [], without_timestamps=True, hotwords=hotwords)
        result = model.model.generate(
            encoded,
            [prompt],
            beam_size=beams,
            num_hypotheses=beams,
            return_scores=True,
            return_no_speech_prob=True,
            max_length=min(model.max_length, len(prompt) + 4 + int(TOKENS_PER_SECOND * samples / SAMPLE_RATE)),
            suppress_blank=True,
            suppress_tokens=suppressed,
        )[0]
        hypotheses: list[Alternative] = []
        for tokens, score in zip(result.sequences_ids, result.scores, strict=True):
            text = spoken_form(tokenizer.decode(tokens))
            if text and _compression_ratio(text) <= MAX_COMPRESSION_RATIO and text not in {h.text for h in hypotheses}:
                hypotheses.append(Alternative(text, round(float(score), 4)))
        if not hypotheses or (result.no_speech_prob > NO_SPEECH_PROBABILITY and hypotheses[0].score < MIN_LOG_PROBABILITY):
            return Transcription(text="", confidence=None, words=[])
        best = hypotheses[0]
        heard = Transcription(text=best.text, confidence=round(math.exp(best.score), 4), words=[], alternatives=hypotheses[1:])
        if candidates is None:
            return heard
        started = time.perf_counter()
        try:
            return self._prefer_grammar(heard, candidates, encoded, tokenizer, samples)
        finally:
            self.stats["rescore_seconds"] += time.perf_counter() - started

    def _prefer_grammar(self, heard: Transcription, candidates: Candidates, encoded, tokenizer, samples: int) -> Transcription:
        """Grammar-aware recognition: when no reading matches a template, whisper scores the templates' nearest
        sentences (``candidates``: the fuzzy matcher's repair of each reading and its neighbours) on the same
        encoded audio, and the likeliest goes first among the alternatives, so the intent engine acts on it
        instead of the repair nearest in letters ("a large mocha with sweet milk" → with sweetener, not with
        sweetener and milk).

        Forced decoding (CTranslate2's ``align``) without the hotwords prompt, on the encoded frames that hold
        the audio (and a second after), to keep it cheap (not measured against scoring with them). Off by default
        (``asr.rescore``): README "In kitchen noise" has the measurements."""
        sentences = candidates([heard.text, *(a.text for a in heard.alternatives)])
        if len(sentences) < 2:
            return heard  # nothing to choose between: the engine repairs as it would
        self.stats["rescored"] += 1
        frames = min(encoded.shape[1], samples // (2 * MEL_HOP) + FORCED_MARGIN_FRAMES)
        kept = np.ascontiguousarray(np.asarray(encoded)[:, :frames])
        tokens = [tokenizer.encode(" " + _written(text)) + [tokenizer.eot] for text in sentences]
        import ctranslate2

        batch = ctranslate2.StorageView.from_array(np.repeat(kept, len(tokens), axis=0))
        results = self._model.model.align(batch, list(tokenizer.sot_sequence) + [tokenizer.no_timestamps], tokens, [samples // MEL_HOP] * len(tokens))
        # per token, as whisper ranks its own beams (a sum would favour the shorter sentence: "a little bit of
        # milk" over "a little bit of skim milk" whatever the audio says)
        scores = [float(np.log(np.maximum(r.text_token_probs, 1e-12)).mean()) for r in results]
        best = max(range(len(sentences)), key=scores.__getitem__)
        chosen = Alternative(sentences[best], round(scores[best], 4))
        return Transcription(text=heard.text, confidence=heard.confidence, words=heard.words, alternatives=[chosen, *heard.alternatives])

    def _decoder(self, language: str) -> tuple[object, list[int]]:
        from faster_whisper.tokenizer import Tokenizer
        from faster_whisper.transcribe import get_suppressed_tokens

        if language not in self._decoders:
            tokenizer = Tokenizer(self._model.hf_tokenizer, self._model.model.is_multilingual, task="transcribe", language=language)
            suppressed = set(get_suppressed_tokens(tokenizer, [-1])) | _punctuation_tokens(tokenizer)
            self._decoders[language] = (tokenizer, sorted(suppressed))
        return self._decoders[language]

    def _transcribe_long(self, audio: np.ndarray, hotwords: str | None) -> Transcription:
        segments, _info = self._model.transcribe(
            audio,
            language=self.language,
            beam_size=self.beam_size,
            hotwords=hotwords,
            # word timings re-run the decoder over prompt + text for alignment: with the hotwords
            # that measured 2.2x the time of the transcription itself, so whisper gives none
            word_timestamps=False,
            condition_on_previous_text=False,
            vad_filter=False,  # our endpointer already cut the utterance
        )
        texts: list[str] = []
        scores: list[float] = []
        for segment in segments:
            texts.append(segment.text)
            scores.append(math.exp(segment.avg_logprob))  # mean token probability (geometric)
        text = spoken_form(" ".join(texts))
        if not text:
            return Transcription(text="", confidence=None, words=[])
        return Transcription(text=text, confidence=round(sum(scores) / len(scores), 4), words=[])


SUPPRESSED_PUNCTUATION = frozenset(",?!;")
"""Never decoded: with the vocabulary as a comma-separated prompt, whisper writes commas between words, and
the beams then differ only in punctuation, which the spoken form drops, leaving no other readings (the n-best
repair silently off). Forbidden, the beams must differ in words. The full stop stays (decimals, "p.m.").
coffee-dev, beam 5, faster-whisper 1.2.1 / CTranslate2 4.8.5, kitchen noise at 6 dB (mean SNR): 58/62 orders
accepted with punctuation allowed, 61/62 without; clean 61/62 → 62/62."""


def _punctuation_tokens(tokenizer) -> set[int]:
    """Every token that is only suppressed punctuation (with or without a leading space)."""
    found = set()
    for token in range(tokenizer.eot):
        text = tokenizer.decode([token]).strip()
        if text and set(text) <= SUPPRESSED_PUNCTUATION:
            found.add(token)
    return found


NO_SPEECH_PROBABILITY = 0.6
MIN_LOG_PROBABILITY = -1.0
"""faster-whisper's silence rule: the model thinks nobody spoke and is unsure of the words it found ("you")."""

MAX_COMPRESSION_RATIO = 2.4
"""faster-whisper's threshold: text that compresses better than this is a hallucinated loop, not speech."""


def _compression_ratio(text: str) -> float:
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data))


CASCADE_MIN_CONFIDENCE = 0.45
"""The short window's reading is kept only when whisper is this sure of it (geometric mean token probability).
On a short window whisper makes words of noise more readily, and "mocha" alone is a whole coffee order.
coffee-dev at 6 dB (kitchen noise), 87 utterances the endpointer cut (orders and noise bursts): every noise
burst read as a matching word scored 0.17-0.34, every order 0.52 or more."""


def _sure(reading: Transcription) -> bool:
    return bool(reading.text) and (reading.confidence or 0.0) >= CASCADE_MIN_CONFIDENCE


MEL_HOP = 160
"""Samples per log-mel frame (10 ms); the encoder halves the frames."""

FORCED_MARGIN_FRAMES = 50
"""Encoded frames (1 s) kept after the audio when the grammar's sentences are scored."""


def _written(text: str) -> str:
    """A sentence as whisper writes one ("i'd like a latte" → "I'd like a latte"): forced decoding of text in
    a form whisper never writes scores the form, not the words."""
    words = [("I" + w[1:]) if w == "i" or w.startswith("i'") else w for w in text.split()]
    sentence = " ".join(words)
    return sentence[:1].upper() + sentence[1:]


def _short_window(features: np.ndarray) -> np.ndarray:
    """The utterance's log-mel features padded to the short window (longer ones to their length and a
    second) with what digital silence gives whisper's features: their floor, 8 decades below the peak
    (faster-whisper's padding to 30 s fills zeros instead, which read as a faint sound)."""
    frames = features.shape[-1]
    per_second = 100  # whisper's features: a 10 ms hop
    target = max(frames + int(SHORT_PADDING_SECONDS * per_second), SHORT_WINDOW_SECONDS * per_second)
    target = min(target + target % 2, WINDOW_SECONDS * per_second)  # the encoder halves the frames
    padded = np.full((features.shape[0], target), features.max() - 2.0, dtype=features.dtype)
    padded[:, :frames] = features[:, :target]
    return padded


class WhisperRecognizer:
    incremental = False

    def __init__(self, engine: WhisperEngine, hotwords: str | None, understood: Understood | None, candidates: Candidates | None = None) -> None:
        self._engine = engine
        self.hotwords = hotwords
        self._understood = understood
        self._candidates = candidates
        self._chunks: list[np.ndarray] = []

    def start(self) -> None:
        self._chunks = []

    def feed(self, audio: np.ndarray) -> str | None:
        if audio.dtype != np.int16:
            raise TypeError(f"recognizers take int16 audio, got {audio.dtype}")
        self._chunks.append(audio.copy())
        return None

    def finish(self) -> Transcription:
        samples = self._samples()
        self._chunks = []
        return self._engine.transcribe(samples, self.hotwords, self._understood, self._candidates)

    def committed(self) -> str:
        return ""  # whisper decodes the whole utterance at the end: nothing is final before it

    def snapshot(self) -> Callable[[], Transcription]:
        samples = self._samples()
        return lambda: self._engine.transcribe(samples, self.hotwords, self._understood, self._candidates)

    def _samples(self) -> np.ndarray:
        return np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)


def hotwords(vocabulary: Vocabulary) -> str | None:
    """The vocabulary as a prompt: every distinct word once, in a stable order, within whisper's budget."""
    words = list(dict.fromkeys(w for phrase in vocabulary.phrases for w in phrase.split()))
    words += [w for w in dict.fromkeys(vocabulary.words) if w not in set(words)]
    text = ""
    for word in words:
        if len(text) + len(word) + 2 > HOTWORDS_CHARS:
            break
        text = f"{text}, {word}" if text else word
    return text or None
