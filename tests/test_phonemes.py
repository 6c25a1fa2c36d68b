"""How words sound (assistant.phonemes): piper-tts's own espeak-ng, no mocks."""

from __future__ import annotations

import json
import subprocess
import sys

from rapidfuzz.distance import Levenshtein

from assistant import phonemes
from assistant.phonemes import sounds


def test_words_spelled_differently_that_sound_the_same_get_the_same_sounds():
    paws, pause, hole, whole = sounds(["paws", "pause", "hole", "whole"])
    assert paws == pause and hole == whole
    assert paws != whole


def test_a_diphthong_is_one_sound():
    """ "soy" and "so" differ in their vowel only: one edit, so sound likeness is not halved by how IPA writes it."""
    assert Levenshtein.distance(*sounds(["soy", "so"])) == 1


def test_words_without_letters_have_no_sound():
    """Numbers are matched by value; "#" is how the matcher marks a pair of words with a number in it."""
    assert sounds(["5", "#", "milk"])[:2] == ["", ""]


def test_only_words_in_the_latin_alphabet_have_sounds():
    """espeak-ng reads Han characters as "Chinese letter": any two Chinese words of one length would sound alike."""
    assert sounds(["牛奶", "日本", "불", "café"])[:3] == ["", "", ""]
    assert sounds(["café"])[0]


def test_a_full_cache_starts_over_and_still_answers(monkeypatch):
    """A hub hears new words for weeks: past MAX_CACHED the cache is a new dict and every answer is still right."""
    words = ["latte", "mocha", "espresso", "americano", "cappuccino"]
    expected = sounds(words)
    monkeypatch.setattr(phonemes, "_cache", {})
    monkeypatch.setattr(phonemes, "MAX_CACHED", 3)
    assert sounds(words[:3]) == expected[:3]
    assert sounds(words) == expected
    assert set(phonemes._cache) == set(words[3:])  # started over with the two new words


def test_sounds_load_without_onnxruntime():
    """A process that only matches sentences (`assistant ask`) does not pay for piper's speech model runtime."""
    code = "import sys; from assistant.phonemes import sounds; sounds(['milk']); print('onnxruntime' in sys.modules, 'piper.voice' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]


def test_piper_reads_a_reply_the_same_once_the_matcher_has_used_its_espeak():
    """The matcher loads piper's espeak-ng module under piper's own name and sets its voice; Piper's reading of a
    reply (its phonemes: the audio itself is not the same twice, the voice model draws random noise) must not
    notice, whichever of the two comes first in a process."""
    code = (
        "import json, sys; from assistant.phonemes import sounds; from assistant.tts.piper_voice import PiperSpeaker\n"
        "matcher_first = sys.argv[1] == 'matcher'\n"
        "if matcher_first: sounds(['holder', 'whistling'])\n"
        "speaker = PiperSpeaker(); reading = speaker._voice.phonemize('A latte with whole milk. Ready in five minutes.')\n"
        "assert len(speaker.synthesize('a latte with whole milk')) > 8000\n"
        "sounds(['cappuccino', 'sewing'])\n"
        "again = speaker._voice.phonemize('A latte with whole milk. Ready in five minutes.')\n"
        "print(json.dumps([reading, again]))"
    )
    runs = [json.loads(subprocess.run([sys.executable, "-c", code, first], capture_output=True, check=True, text=True).stdout) for first in ("matcher", "piper")]
    readings = [reading for run in runs for reading in run]
    assert all(reading == readings[0] for reading in readings)
    assert len(readings[0]) == 2  # two sentences
