"""The dispatcher: handlers that raise, hang or return junk cost an apology, never the loop; follow-ups; scheduling.

``dispatcher`` here is one device's Session (what a pipeline or an HTTP caller talks to)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from assistant.config import load_config
from assistant.intents import Dispatcher, IntentEngine
from assistant.intents.dispatcher import NOT_UNDERSTOOD
from tests.intents_helpers import Announcements, FakeClock

FAULTY = Path(__file__).parent / "data" / "intents"
TIMEOUT = 0.5


@pytest.fixture(scope="module")
def config():
    return load_config(None, {"intents.handler_timeout_seconds": TIMEOUT, "plugins.faulty.hang_seconds": 2, "plugins.faulty.greeting": "howdy"})


@pytest.fixture(scope="module")
def engine(config):
    return IntentEngine.from_config(config, [str(FAULTY)])


@pytest.fixture
def announced():
    return Announcements()


@pytest.fixture
def dispatcher(engine, config, announced):
    d = Dispatcher(engine, config)
    yield d.session("kitchen", announced)
    d.close()


def test_a_raising_handler_becomes_an_apology_and_an_error_and_the_loop_goes_on(dispatcher):
    turn = dispatcher.respond("explode now")
    assert turn.intent.name == "Explode"
    assert turn.error[0] == "handler_error" and "RuntimeError: boom" in turn.error[1] and "faulty" in turn.error[1]
    assert turn.reply == "Sorry, something went wrong with faulty."
    assert dispatcher.respond("what time is it").reply.startswith("It's ")


def test_a_hanging_handler_is_abandoned_after_the_timeout(dispatcher):
    start = time.monotonic()
    turn = dispatcher.respond("hang forever")
    waited = time.monotonic() - start
    assert TIMEOUT <= waited < TIMEOUT + 0.5
    assert turn.error[0] == "handler_timeout" and "did not answer within 0.5 s" in turn.error[1]
    assert turn.reply == "Sorry, faulty is taking too long to answer."
    assert dispatcher.dispatcher.abandoned_handlers == 1
    start = time.monotonic()
    assert dispatcher.respond("set a timer for 5 minutes").reply == "Timer set for 5 minutes."
    # other plugins are not held up by the hung one: held, this would wait out the handler timeout (and apologise)
    # or the hang's remaining 1.5 s; a busy machine may take a quarter second, never TIMEOUT
    assert time.monotonic() - start < TIMEOUT


def test_a_handler_returning_something_else_than_text_is_an_error(dispatcher):
    turn = dispatcher.respond("give me a number")
    assert turn.error == ("handler_error", "plugin faulty: WrongReturn returned int, expected the reply text or a Reply")


def test_text_out_of_scope_is_answered_without_acting(dispatcher):
    turn = dispatcher.respond("tell me a story about dragons")
    assert (turn.intent, turn.reply, turn.error, turn.follow_up) == (None, NOT_UNDERSTOOD, None, False)


def test_the_handler_gets_its_plugin_config_section(dispatcher):
    assert dispatcher.respond("greet me").reply == "howdy!"


def test_a_follow_up_question_takes_the_next_utterance(dispatcher):
    asked = dispatcher.respond("order a pizza")
    assert (asked.reply, asked.follow_up) == ("Which size?", True)
    assert dispatcher.awaiting_answer
    answered = dispatcher.respond("a large one")
    assert answered.reply == "A large pizza, coming up." and not answered.follow_up
    assert dispatcher.respond("large").reply == "Size large noted."  # no question pending: a normal command


def test_never_mind_cancels_a_pending_question(dispatcher):
    dispatcher.respond("order pizza")
    assert dispatcher.respond("never mind").reply == "Okay."
    assert not dispatcher.awaiting_answer


def test_an_unanswered_question_expires(engine, config, announced):
    """Fake clock: the follow-up window is 30 s."""
    clock = FakeClock()
    dispatcher = Dispatcher(engine, config, clock)
    session = dispatcher.session("kitchen", announced)
    session.respond("order pizza")
    clock.now += 31
    assert not session.awaiting_answer
    assert session.respond("large").reply == "Size large noted."
    dispatcher.close()


def test_a_scheduled_action_announces_itself(dispatcher, announced):
    start = time.monotonic()
    assert dispatcher.respond("remind me in 1 second").reply == "Okay."
    assert announced.wait_for(1) == ["Reminder!"]
    assert 0.95 <= time.monotonic() - start < 1.5


def test_close_stops_pending_actions(engine, config, announced):
    dispatcher = Dispatcher(engine, config)
    dispatcher.session("kitchen", announced).respond("remind me in 1 second")
    dispatcher.close()
    time.sleep(1.3)
    assert announced.texts == []


def test_a_question_expecting_a_list_the_plugin_does_not_have_is_the_plugins_error(tmp_path, config):
    from tests.test_intents_plugins import write_plugins

    folder = write_plugins(tmp_path / "asks", {"asks.py": ASKS_WRONG})
    dispatcher = Dispatcher(IntentEngine.from_config(config, [str(folder)]), config)
    try:
        turn = dispatcher.session("kitchen", Announcements()).respond("ask me something")
        assert turn.error[0] == "handler_error" and "no slot list of that name" in turn.error[1] and not turn.follow_up
    finally:
        dispatcher.close()


ASKS_WRONG = '''
from assistant.intents import Plugin

plugin = Plugin(lists={"colour": ["red", "green"]})


@plugin.intent("AskSomething", "ask me something")
def ask(req):
    return req.ask("Which colour?", lambda answer: answer.slots["colour"], expect="color")
'''
