"""Home Assistant's own English sentences for pause/resume/next/previous/volume "in the living room".

The sentences come from the ``home-assistant-intents`` package (the test extra): every sentence its
area templates for those intents expand to (about 4,200, with "living room" as the area, 50 as the
volume and 10 as the step), matched by our templates exactly, to the same intent, with the area.
Where each command then goes is tested on real devices in ``tests/test_satellite.py``.
"""

from __future__ import annotations

from collections import defaultdict

import pytest

from assistant.config import Config
from assistant.intents import IntentEngine

INTENTS = ("HassMediaPause", "HassMediaUnpause", "HassMediaNext", "HassMediaPrevious", "HassSetVolume", "HassSetVolumeRelative")


def home_assistant_sentences() -> list[tuple[str, str]]:
    """(intent, sentence) for every sentence of the intents' ``area_only`` templates in Home Assistant's English data."""
    from hassil import Intents
    from hassil.intents import TextSlotList
    from hassil.sample import sample_intents
    from home_assistant_intents import get_intents

    data = get_intents("en")
    area_only = {
        name: {"data": [block for block in data["intents"][name]["data"] if block.get("metadata", {}).get("slot_combination") == "area_only"]}
        for name in INTENTS
    }
    intents = Intents.from_dict({**data, "intents": area_only})
    lists = {name: TextSlotList.from_strings([value]) for name, value in (("area", "living room"), ("volume", "50"), ("volume_step_up", "10"), ("volume_step_down", "10"))}
    return sorted({(name, " ".join(text.split())) for name, text in sample_intents(intents, slot_lists=lists, language="en")})


@pytest.fixture(scope="module")
def engine() -> IntentEngine:
    return IntentEngine.from_config(Config())


def test_every_home_assistant_area_sentence_is_understood_with_its_area(engine):
    sentences = home_assistant_sentences()
    assert {name for name, _ in sentences} == set(INTENTS) and len(sentences) > 4000
    wrong: dict[str, list[str]] = defaultdict(list)
    for name, text in sentences:
        match = engine.recognize(text)
        if match is None or (match.name, match.confidence, match.slots.get("area")) != (name, 1.0, "living room"):
            wrong[name].append(f"{text!r} -> {match}")
    assert not wrong, {name: items[:5] for name, items in wrong.items()}


def test_the_slots_are_right_too(engine):
    cases = {
        "set the volume to 50% in the living room": ("HassSetVolume", {"volume_level": 50}),
        "turn the living room volume down to 50": ("HassSetVolume", {"volume_level": 50}),
        "decrease the volume in the living room by 10%": ("HassSetVolumeRelative", {"volume_step": "down", "amount": 10}),
        "our living room volume up 10": ("HassSetVolumeRelative", {"volume_step": "up", "amount": 10}),
        "in the living room skip to next": ("HassMediaNext", {}),
        "pause my living room music": ("HassMediaPause", {}),
    }
    for text, (name, slots) in cases.items():
        match = engine.recognize(text)
        assert (match.name, match.slots) == (name, {**slots, "area": "living room"}), text


def test_an_area_that_is_not_configured_is_not_one(engine):
    """Only ``assistant.areas`` can be named: "the attic" is not a place to route to, and the command is not
    carried out here instead of there (nothing matches; the user hears it was not understood)."""
    assert engine.recognize("pause the music in the attic") is None
    custom = IntentEngine.from_config(Config.model_validate({"assistant": {"areas": ["shed"]}}))
    assert custom.recognize("volume up in the shed").slots == {"volume_step": "up", "area": "shed"}
