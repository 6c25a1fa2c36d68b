"""Timers: several named ones at once, each announcing itself; pause, resume, change, status, cancel."""

from __future__ import annotations

import time

import pytest

from assistant.config import Config
from assistant.intents import Dispatcher, IntentEngine, Session
from tests.intents_helpers import Announcements, FakeClock


@pytest.fixture(scope="module")
def engine():
    return IntentEngine.from_config(Config())


@pytest.fixture
def announced():
    return Announcements()


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def fake_time(engine, announced, clock):
    """A dispatcher on a fake clock: these timers run for minutes and hours."""
    d = Dispatcher(engine, Config(), clock)
    yield d.session("kitchen", announced)
    d.close()


def advance(session: Session, clock: FakeClock, seconds: float) -> None:
    clock.now += seconds
    session.dispatcher.scheduler.poke()


def say(d: Session, text: str) -> str:
    turn = d.respond(text)
    assert turn.error is None, turn.error
    return turn.reply


def test_several_named_timers_run_at_once_and_each_announces_itself(engine, announced):
    """Real time, short timers."""
    dispatcher = Dispatcher(engine, Config())
    d = dispatcher.session("kitchen", announced)
    start = time.monotonic()
    assert say(d, "Set a tea timer for 2 seconds.") == "Tea timer set for 2 seconds."
    assert say(d, "set a timer for one second called egg") == "Egg timer set for 1 second."
    assert say(d, "how much time is left on my timers").startswith("You have 2 timers. The tea timer has 2 seconds left.")
    assert announced.wait_for(1) == ["Your egg timer is done."]
    assert 0.95 <= time.monotonic() - start < 1.6
    assert announced.wait_for(2) == ["Your egg timer is done.", "Your tea timer is done."]
    assert 1.95 <= time.monotonic() - start < 2.6
    assert say(d, "do I have any timers") == "You have no timers running."
    assert announced.alarms == [True, True]  # a finished timer rings until "stop"
    dispatcher.close()


def test_pause_resume_add_take_off_and_status(fake_time, clock, announced):
    d = fake_time
    assert say(d, "set a pizza timer for 10 minutes") == "Pizza timer set for 10 minutes."
    assert say(d, "set a timer for 2 hours") == "Timer set for 2 hours."
    advance(d, clock, 60)
    assert say(d, "how long is left on the pizza timer") == "Your pizza timer has 9 minutes left."
    assert say(d, "pause the pizza timer") == "Paused the pizza timer with 9 minutes left."
    assert say(d, "pause the pizza timer") == "The pizza timer is not running."
    advance(d, clock, 600)
    assert announced.wait_for(1, timeout=0.3) == []
    assert say(d, "resume the pizza timer") == "Resumed the pizza timer: 9 minutes left."
    assert say(d, "add 5 minutes to the pizza timer") == "Added 5 minutes to the pizza timer: 14 minutes left."
    assert say(d, "take 4 minutes off the pizza timer") == "Took 4 minutes off the pizza timer: 10 minutes left."
    advance(d, clock, 600)
    assert announced.wait_for(1) == ["Your pizza timer is done."]
    assert say(d, "how much time is left on the timer") == "Your 2 hour timer has 1 hour and 39 minutes left."
    assert say(d, "cancel the 2 hour timer") == "Cancelled the 2 hour timer."
    advance(d, clock, 7200)
    assert announced.wait_for(2, timeout=0.3) == ["Your pizza timer is done."]


def test_an_ambiguous_command_asks_which_timer(fake_time):
    d = fake_time
    say(d, "set a timer for 5 minutes")
    say(d, "set a 10 minute timer")
    turn = d.respond("cancel the timer")
    assert (turn.reply, turn.follow_up) == ("Which one: the 5 minute timer or the 10 minute timer?", True)
    assert say(d, "the ten minute one") == "Cancelled the 10 minute timer."
    assert say(d, "how much time is left") == "Your 5 minute timer has 5 minutes left."


def test_timers_by_name_length_and_all(fake_time):
    d = fake_time
    assert say(d, "cancel the timer") == "You have no timers running."
    say(d, "set a pizza timer for 12 minutes")
    assert say(d, "set a pizza timer for 3 minutes") == "You already have a pizza timer."
    say(d, "set a tea timer for 3 minutes")
    assert say(d, "cancel the pasta timer") == "There's no pasta timer."
    assert say(d, "cancel the 7 minute timer") == "There's no 7 minute timer."
    assert say(d, "stop the tea timer") == "Cancelled the tea timer."
    say(d, "set a timer for an hour and a half")
    assert say(d, "how long is left on the 1 hour 30 minute timer") == "Your 1 hour 30 minute timer has 1 hour and 30 minutes left."
    assert say(d, "cancel all timers") == "Cancelled all 2 timers."
    assert say(d, "how much time is left") == "You have no timers running."


def test_a_timer_without_a_length_asks_for_one_and_never_invents_it(fake_time):
    d = fake_time
    asked = d.respond("set a timer")
    assert (asked.reply, asked.follow_up, asked.intent.complete) == ("For how long?", True, False)
    answered = d.respond("make it two and a half minutes")
    assert answered.intent.name == "HassStartTimer" and answered.intent.slots == {"minutes": 2, "seconds": 30}
    assert answered.reply == "Timer set for 2 minutes and 30 seconds."
    assert say(d, "start a pizza timer") == "For how long?"
    assert say(d, "pizza") == "Sorry, I didn't catch that."  # not a length: the question is dropped, nothing is set
    assert d.respond("set a timer for pizza").intent is None  # the fuzzy matcher fills in no "a minute" either
    assert say(d, "how much time is left") == "Your 2 minute 30 second timer has 2 minutes and 30 seconds left."


def test_which_timer_takes_a_name_a_length_or_a_place_in_the_list(fake_time):
    d = fake_time
    for text in ("set a pizza timer for 10 minutes", "set a tea timer for 3 minutes", "set a timer for 5 minutes"):
        say(d, text)
    assert say(d, "pause the timer") == "Which one: the pizza timer, the tea timer or the 5 minute timer?"
    assert say(d, "the last one") == "Paused the 5 minute timer with 5 minutes left."
    say(d, "cancel the timer")
    assert say(d, "tea") == "Cancelled the tea timer."
    say(d, "cancel the timer")
    assert say(d, "purple") == "Sorry, I didn't catch that."
    assert say(d, "how much time is left").startswith("You have 2 timers.")
