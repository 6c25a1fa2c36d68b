"""The grammar's nearest sentences to a misheard command (IntentEngine.candidates, FuzzyResult.sentences):
what whisper scores on the audio when asr.rescore is on."""

from __future__ import annotations

import pytest

from assistant.config import Config
from assistant.intents import IntentEngine
from assistant.intents.tokens import tokenize
from tests.intents_helpers import OUT_OF_SCOPE


@pytest.fixture(scope="module")
def engine():
    return IntentEngine.from_config(Config(), ["coffee"])


def test_a_misheard_milk_offers_the_milks_the_grammar_has(engine):
    # issue 18: "home milk" must be able to lose to "whole milk" and "soy milk", which only the grammar knows
    sentences = engine.candidates(["a large latte with home milk"])
    assert sentences[0] == "a large latte with some milk"  # the fuzzy matcher's own repair comes first
    assert {"a large latte with whole milk", "a large latte with soy milk"} <= set(sentences)
    assert all(engine.recognize(s).confidence == 1.0 for s in sentences)  # each one a sentence of the grammar
    assert all(s.startswith("a large latte with ") for s in sentences)  # only the doubtful slot varies
    whistling = engine.candidates(["a medium mocha with whistling milk"])
    assert "a medium mocha with whole milk" in whistling and len(whistling) <= 8


def test_nothing_to_score_when_a_reading_matches_or_nothing_does(engine):
    # a reading a template takes as it is: the engine acts on it, whisper does no extra work
    assert engine.candidates(["a large latte with home milk", "a large latte with whole milk"]) == []
    assert engine.candidates(["a large latte with whole milk"]) == []
    # speech the engine rejects stays rejected: no grammar sentence is offered for it to win with
    assert [text for text in OUT_OF_SCOPE if engine.candidates([text])] == []
    assert engine.candidates([]) == []


def test_a_path_through_a_repaired_value_names_where_it_is(engine):
    result = engine._fuzzy.match(tokenize("a large latte with home milk"), max_cost=10.0)
    assert result.sentence == tuple("a large latte with some milk".split())
    (repair,) = result.repairs
    assert result.sentence[repair.start : repair.end] == ("some", "milk") and repair.heard == "home milk"
    assert ("whole", "milk") in repair.options and ("soy", "milk") in repair.options
    assert result.sentences(0) == ["a large latte with some milk"]
    assert len(result.sentences(3)) == 4
