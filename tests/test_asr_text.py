"""The text side of recognition: one spoken spelling for every backend, and the vosk grammar built from the intents."""

from __future__ import annotations

import logging

import pytest

from assistant.asr.grammar import build_grammar
from assistant.asr.spoken_form import spoken_form
from assistant.numbers import number_to_words
from assistant.vocabulary import Vocabulary


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("Can I have a light-roast 12-ounce coffee?", "can i have a light roast twelve ounce coffee"),
        ("Set a timer for 1,500 seconds.", "set a timer for one thousand five hundred seconds"),
        ("Turn it to 50%", "turn it to fifty percent"),
        ("the 21st, the 3rd and the 12th", "the twenty first the third and the twelfth"),
        ("I'd like it at 5:30", "i'd like it at five thirty"),
        ("2.5 degrees", "two point five degrees"),
        ("Rock & Roll!", "rock and roll"),
        ("음악 틀어 줘.", "음악 틀어 줘"),
    ],
)
def test_spoken_form(written, spoken):
    assert spoken_form(written) == spoken


def test_number_to_words():
    assert [number_to_words(n) for n in (0, 13, 40, 99, 100, 101, 2024, 1_000_000)] == [
        "zero", "thirteen", "forty", "ninety nine", "one hundred", "one hundred one",
        "two thousand twenty four", "one million",
    ]


KNOWN = {"turn", "on", "off", "the", "light", "lights", "kitchen", "what", "time", "is", "it", "[unk]"}


def test_grammar_holds_phrases_words_outside_them_and_the_unknown_token():
    vocabulary = Vocabulary(words=("turn", "on", "the", "light", "kitchen", "what", "time", "is", "it"), phrases=("turn on the light", "what time is it"))
    grammar = build_grammar(vocabulary, KNOWN.__contains__, "[unk]")
    assert grammar.phrases == ("turn on the light", "what time is it", "kitchen", "[unk]")
    assert grammar.accepts("turn on the light".split())
    assert grammar.accepts(["kitchen"])
    assert grammar.accepts([])


def test_out_of_grammar_means_word_salad_not_one_unseen_pair():
    """Phrases may be a sample that misses pairs: one unseen pair in five is tolerated, a third is not."""
    vocabulary = Vocabulary(words=(), phrases=("turn on the light", "what time is it"))
    grammar = build_grammar(vocabulary, KNOWN.__contains__, "[unk]")
    assert grammar.accepts("what time is the light".split())  # only (is, the) unseen: 1 pair of 6
    assert not grammar.accepts("turn on the lights".split())  # (the, lights), (lights, </s>): 2 of 5
    assert not grammar.accepts("light the on turn".split())
    assert not grammar.accepts("it is time what".split())
    assert not grammar.accepts(["on", "it"])


def test_words_the_model_lacks_split_phrases_and_are_reported(caplog):
    vocabulary = Vocabulary(words=("turn", "on", "the", "xyzzy", "light"), phrases=("turn on the xyzzy light",))
    with caplog.at_level(logging.WARNING):
        grammar = build_grammar(vocabulary, KNOWN.__contains__, None)
    assert grammar.phrases == ("turn on the", "light")
    assert ("the", "light") not in grammar.pairs  # vosk would have joined the pieces into this false pair
    assert grammar.missing == ("xyzzy",)
    assert "xyzzy" in caplog.text
