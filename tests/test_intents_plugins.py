"""Plugin loading: broken plugins are reported with file and line and skipped; on/off; config; entry points."""

from __future__ import annotations

import logging
import textwrap
from pathlib import Path

import pytest

from assistant.config import Config, load_config
from assistant.errors import ConfigError
from assistant.intents import Dispatcher, IntentEngine
from tests.helpers import REPO
from tests.intents_helpers import Announcements

GOOD = '''
from assistant.intents import Plugin

plugin = Plugin(description="greet people", lists={"person": {"mum": "mother", "mom": "mother", "dad": "father"}})

@plugin.intent("Greet", "say hello to [my] {person}", "greet [my] {person}")
def greet(req):
    return f"Hello, {req.slots['person']}!"
'''

def _readme_example() -> str:
    """The plugin shown in the README, read from the README itself so the two never drift apart."""
    text = (REPO / "README.md").read_text()
    block = text.split("This is all of `intents/tea.py`:", 1)[1].split("```python\n", 1)[1]
    return block.split("```", 1)[0]


README_EXAMPLE = _readme_example()

BROKEN = {
    "syntax.py": ("from assistant.intents import Plugin\nplugin = Plugin(\ndef oops(:\n", 3, "SyntaxError"),
    "raises.py": ("from assistant.intents import Plugin\n\n\nraise RuntimeError('no network at import')\n", 4, "RuntimeError: no network at import"),
    "unknown_list.py": (
        "from assistant.intents import Plugin\nplugin = Plugin()\n\n\n@plugin.intent('Fly', 'fly to {planet}')\ndef fly(req):\n    return 'whoosh'\n",
        5,
        "no slot list named {planet}",
    ),
    "bad_template.py": (
        "from assistant.intents import Plugin\nplugin = Plugin()\n\n@plugin.intent('Odd', 'open (the door')\ndef odd(req):\n    return 'hm'\n",
        4,
        "cannot parse",
    ),
    "no_plugin.py": ("X = 1\n", None, "defines no Plugin"),
}


def write_plugins(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(textwrap.dedent(text))
    return folder


def test_a_complete_plugin_in_a_few_lines(tmp_path):
    folder = write_plugins(tmp_path / "mine", {"greetings.py": GOOD})
    engine = IntentEngine.from_config(load_config(None, {"intents.paths": [str(folder)]}))
    match = engine.recognize("say hello to my mom")
    assert (match.name, match.slots, match.plugin) == ("Greet", {"person": "mother"}, "greetings")
    assert engine.recognize("what time is it").name == "HassGetCurrentTime"  # the built-ins are still there


def test_the_readme_example_plugin_works_end_to_end(tmp_path):
    """The plugin shown in the README: synonyms, a duration, a config default, a scheduled announcement (1 s, real time)."""
    folder = write_plugins(tmp_path / "readme", {"tea.py": README_EXAMPLE})
    config = load_config(None, {"plugins.tea.steep_seconds": 240})
    announced = Announcements()
    dispatcher = Dispatcher(IntentEngine.from_config(config, [str(folder)]), config)
    session = dispatcher.session("kitchen", announced)
    assert session.respond("i'd like a cup of earl grey").reply == "Brewing black tea for 4 minutes."
    turn = session.respond("Brew me green tea for 1 second.")
    assert (turn.intent.slots, turn.reply) == ({"tea": "green", "steep": 1}, "Brewing green tea for 1 second.")
    assert announced.wait_for(1) == ["Your green tea is ready."]
    dispatcher.close()


def test_broken_plugins_are_reported_with_file_and_line_and_skipped(tmp_path, caplog):
    folder = write_plugins(tmp_path / "plugins", {"greetings.py": GOOD, **{name: text for name, (text, _, _) in BROKEN.items()}})
    with caplog.at_level(logging.WARNING):
        engine = IntentEngine.from_config(Config(), [str(folder)])
    by_file = {Path(f.source).name: f for f in engine.failures}
    assert set(by_file) == set(BROKEN)
    for name, (_, line, message) in BROKEN.items():
        failure = by_file[name]
        assert failure.line == line, (name, failure)
        assert message in failure.message, (name, failure)
        assert str(failure).startswith(f"{folder / name}:{line}: " if line else f"{folder / name}: ")
        assert str(failure) in caplog.text
    assert engine.recognize("greet dad").slots == {"person": "father"}
    assert engine.recognize("set a timer for 5 minutes").name == "HassStartTimer"


def test_coffee_is_off_by_default_and_switched_on_by_config_path_or_name():
    assert "coffee" in IntentEngine.from_config(Config()).available_off
    assert IntentEngine.from_config(Config()).recognize("a large latte") is None
    by_config = IntentEngine.from_config(load_config(None, {"intents.enable": ["coffee"]}))
    by_path = IntentEngine.from_config(Config(), [str(Path(__file__).parents[1] / "intents" / "coffee.py")])
    by_name = IntentEngine.from_config(Config(), ["coffee"])
    for engine in (by_config, by_path, by_name):
        assert engine.recognize("a large latte").slots == {"size": "large", "coffeeDrink": "latte"}


def test_disable_switches_a_builtin_off():
    engine = IntentEngine.from_config(load_config(None, {"intents.disable": ["apps", "media"]}))
    assert engine.recognize("open firefox") is None and engine.recognize("next song") is None
    assert {"apps", "media"} <= set(engine.available_off)


def test_an_unknown_intents_argument_is_a_config_error():
    with pytest.raises(ConfigError, match="no such plugin"):
        IntentEngine.from_config(Config(), ["no_such_plugin"])
    with pytest.raises(ConfigError, match="does not exist"):
        IntentEngine.from_config(load_config(None, {"intents.paths": ["/nonexistent/plugins"]}))


def test_plugin_settings_are_merged_over_its_defaults():
    engine = IntentEngine.from_config(load_config(None, {"plugins.apps.apps": {"editor": ["gedit"]}}))
    apps = engine.owner("LaunchApp").config
    assert apps["apps"] == {"firefox": ["firefox"], "terminal": ["x-terminal-emulator"], "editor": ["gedit"]}
    assert engine.recognize("open the editor").slots == {"app": "editor"}


def test_a_bad_setting_makes_the_plugin_fail_with_a_clear_message():
    engine = IntentEngine.from_config(load_config(None, {"plugins.apps.apps": {"editor": "gedit --new"}}))
    assert engine.recognize("open firefox") is None
    assert any("plugins.apps.apps.editor must be a command as a list of arguments" in str(f) for f in engine.failures)


def test_numbers_in_templates_and_lists_match_either_spelling(tmp_path):
    folder = write_plugins(
        tmp_path / "p",
        {
            "cups.py": """
            from assistant.intents import Plugin, Range
            plugin = Plugin(lists={"size": {"12 oz": "12 oz", "sixteen ounce": "16 oz"}, "count": Range(1, 10)})
            @plugin.intent("Cups", "pour {count} cup[s] of 1/2 and 1/2 in a {size} mug")
            def cups(req):
                return "ok"
            """
        },
    )
    engine = IntentEngine.from_config(Config(), [str(folder)])
    for text in ("pour 2 cups of 1/2 and 1/2 in a 16-ounce mug", "pour two cups of half and half in a sixteen ounce mug", "Pour 2 cups of half and half in a twelve ounce mug."):
        match = engine.recognize(text)
        assert match is not None and match.confidence == 1.0, text
        assert match.slots["count"] == 2 and isinstance(match.slots["count"], int)
    assert engine.recognize("pour two cups of half and half in a twelve ounce mug").slots["size"] == "12 oz"


def test_a_clashing_intent_name_skips_the_second_plugin(tmp_path):
    folder = write_plugins(
        tmp_path / "p",
        {"clash.py": "from assistant.intents import Plugin\nplugin = Plugin()\n@plugin.intent('HassGetCurrentTime', 'clock please')\ndef f(req):\n    return 'x'\n"},
    )
    engine = IntentEngine.from_config(Config(), [str(folder)])
    assert engine.recognize("clock please") is None
    assert engine.recognize("what time is it").plugin == "clock"
    assert any("already defined by plugin 'clock'" in str(f) for f in engine.failures)


def test_installed_packages_register_plugins_through_the_entry_point_group(tmp_path, monkeypatch):
    """A real distribution on sys.path (dist-info metadata + package), found by importlib.metadata."""
    site = tmp_path / "site"
    write_plugins(site / "weather_skill", {"__init__.py": GOOD.replace("Greet", "SayHello").replace("greet", "hello")})
    dist = site / "weather_skill-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: weather-skill\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[assistant.intents]\nweather = weather_skill\n")
    monkeypatch.syspath_prepend(str(site))
    engine = IntentEngine.from_config(Config())
    match = engine.recognize("hello my dad")
    assert match is not None and (match.name, match.plugin) == ("SayHello", "weather")


COUNTER = '''
from dataclasses import dataclass

from assistant.intents import Plugin, PluginError, say


@dataclass
class Tally:
    cups: int = 0


def check(config):
    if not isinstance(config["limit"], int) or config["limit"] < 1:
        raise PluginError("plugins.counter.limit must be a whole number of cups, at least 1")


plugin = Plugin(description="count cups", config={"limit": 3}, check=check, state=Tally)


@plugin.intent("CountCup", "another cup", examples=("another cup",))
def count(req):
    req.state.cups += 1
    others = [skill.description for skill in req.skills if skill.name != "counter" and skill.description]
    return f"That is cup {req.state.cups} of {req.config['limit']}; I can also {say.listing(others[:2], 'or')}."
'''


def test_a_plugin_has_typed_state_per_device_a_settings_check_and_the_list_of_skills(tmp_path):
    """``Plugin(state=...)`` makes each device's state (a dataclass here), ``check`` refuses bad settings at start
    with the plugin's own message, and ``req.skills`` lists the other plugins loaded."""
    folder = write_plugins(tmp_path / "counter", {"counter.py": COUNTER})
    config = load_config(None, {"intents.paths": [str(folder)]})
    dispatcher = Dispatcher(IntentEngine.from_config(config), config)
    kitchen, office = dispatcher.session("kitchen", Announcements()), dispatcher.session("office", Announcements())
    try:
        assert kitchen.respond("another cup").reply == "That is cup 1 of 3; I can also open apps or tell the time and date."
        assert kitchen.respond("another cup").reply.startswith("That is cup 2 of 3")
        assert office.respond("another cup").reply.startswith("That is cup 1 of 3")  # each device its own Tally
    finally:
        dispatcher.close()
    refused = IntentEngine.from_config(load_config(None, {"intents.paths": [str(folder)], "plugins.counter.limit": "lots"}))
    assert refused.recognize("another cup") is None
    assert any("counter.py" in str(f) and "plugins.counter.limit must be a whole number of cups" in str(f) for f in refused.failures)


def test_replies_say_lengths_lists_and_places_as_the_built_in_skills_do():
    from assistant.intents import say

    assert say.duration(3750) == "1 hour, 2 minutes and 30 seconds"
    assert say.duration(600, adjective=True) == "10 minute" and say.duration(1) == "1 second" and say.duration(0) == "0 seconds"
    assert say.listing(["tea"]) == "tea" and say.listing(["tea", "pizza", "rice"], "or") == "tea, pizza or rice"
    assert say.ordinal(2) == "second" and say.as_heard("The 10 minute timer.") == "the ten minute timer"
    from datetime import datetime

    assert (say.time(datetime(2026, 12, 2, 15, 5)), say.time(datetime(2026, 12, 2, 0, 30), 24)) == ("3:05 PM", "00:30")
    assert say.date(datetime(2026, 12, 2)) == "Wednesday, December 2, 2026"


def test_the_built_in_skills_use_only_the_public_plugin_api():
    """What a plugin author can import is enough: the built-in skills import nothing else of ours."""
    import re

    private = re.compile(r"^\s*(from|import) assistant\.(?!intents import )", re.M)
    offenders = {path.name: private.findall(path.read_text()) for path in (REPO / "intents").glob("*.py")}
    assert {name: found for name, found in offenders.items() if found} == {}
