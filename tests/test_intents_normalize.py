"""Normalisation: whisper's "5 minutes." and vosk's "five minutes" must become the same text."""

from __future__ import annotations

import pytest

from assistant.intents.tokens import tokenize
from assistant.intents.normalize import normalize, normalize_template, without_repeats
from assistant.numbers import number_to_words, ordinal_words, parse_number


@pytest.mark.parametrize("n", [*range(0, 130), 199, 200, 512, 999, 1000, 1001, 2024, 10_500, 1_200_000])
def test_numbers_round_trip(n):
    words = number_to_words(n)
    assert parse_number(words.split()) == (n, len(words.split()))


@pytest.mark.parametrize(
    "words, expected",
    [
        ("one hundred and five minutes", (105, 4)),
        ("five ten", (5, 1)),  # two numbers, not fifty-ten
        ("twenty twenty", (20, 1)),
        ("the one", None),
        ("a minute", None),
        ("twenty five thousand three", (25003, 4)),
    ],
)
def test_parse_number_stops_where_a_number_ends(words, expected):
    assert parse_number(words.split()) == expected


def test_ordinals():
    assert [ordinal_words(n) for n in (1, 2, 3, 5, 12, 20, 21, 100)] == [
        "first", "second", "third", "fifth", "twelfth", "twentieth", "twenty first", "one hundredth",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "whisper, vosk",
    [
        ("Set a timer for 5 minutes.", "set a timer for five minutes"),
        ("I'd like a 12-ounce latte, please!", "i'd like a twelve ounce latte please"),
        ("Set a timer for 1/2 an hour", "set a timer for half an hour"),
        ("Set a timer for 1 1/2 hours.", "set a timer for one and a half hours"),
        ("Timer for 2.5 minutes", "timer for two and a half minutes"),
        ("Volume to 50%", "volume to fifty percent"),
        ("What’s the time?", "what's the time"),
        ("Wake me at 7:30", "wake me at seven thirty"),
        ("Play the 3rd song", "play the third song"),
        ("Set it to 105", "set it to one hundred and five"),
        ("Add 1,000 points", "add one thousand points"),
        ("A 12oz coffee", "a twelve ounce coffee"),
        ("Twenty-Five minutes", "twenty five minutes"),
        ("rock & roll", "rock and roll"),
    ],
)
def test_recognizer_styles_normalise_to_the_same_text(whisper, vosk):
    assert normalize(whisper) == normalize(vosk)


def test_normalised_text_is_lowercase_words_only():
    assert normalize('  "Hello," she said -- OK?  ') == "hello she said ok"


def test_template_syntax_survives_and_literal_text_is_normalised():
    assert normalize_template("Set [a] 12-ounce {drink} for {minutes:m} minute[s] (now|<later>)") == (
        "set [a] twelve ounce {drink} for {minutes:m} minute[s] (now|<later>)"
    )


def test_spelled_numbers_become_one_token_for_the_fuzzy_matcher():
    assert tokenize("set a timer for twenty five minutes") == ["set", "a", "timer", "for", "#25", "minutes"]
    assert tokenize(normalize("a 12-ounce latte")) == ["a", "#12", "ounce", "latte"]


@pytest.mark.parametrize(
    ("heard", "expected"),
    [
        ("with soy milk with soy milk", "with soy milk"),
        ("not like that not like that not like that", "not like that"),
        ("a large latte a large latte please", "a large latte please"),
        ("bye bye bye", "bye bye bye"),
        ("set a timer for five minutes", "set a timer for five minutes"),
        ("", ""),
    ],
)
def test_phrases_said_twice_collapse_to_once(heard, expected):
    assert without_repeats(heard) == expected
