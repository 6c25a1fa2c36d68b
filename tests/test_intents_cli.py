"""`assistant ask`, `assistant intents`, `assistant eval` from the command line."""

from __future__ import annotations

import json

from tests.helpers import cli


def test_ask_prints_the_intent_and_reply_events():
    done = cli("ask", "Set a timer for 5 minutes.", "--json")
    assert done.returncode == 0, done.stderr.decode()
    events = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert [e["type"] for e in events] == ["intent", "reply"]
    assert (events[0]["name"], events[0]["slots"], events[0]["confidence"]) == ("HassStartTimer", {"minutes": 5}, 1.0)
    assert events[1]["text"] == "Timer set for 5 minutes."


def test_ask_out_of_scope_says_so_and_exits_1():
    done = cli("ask", "tell me a story about dragons")
    assert done.returncode == 1
    out = done.stdout.decode()
    assert "no_intent" in out and "Sorry, I didn't understand that." in out


def test_intents_lists_every_intent_with_two_examples():
    done = cli("intents", "--json", "--intents", "coffee")
    assert done.returncode == 0, done.stderr.decode()
    infos = [json.loads(line) for line in done.stdout.decode().splitlines()]
    names = {i["name"] for i in infos}
    assert {"HassStartTimer", "HassGetCurrentTime", "HassNevermind", "Help", "HassSetVolume", "HassMediaNext", "LaunchApp", "orderDrink"} <= names
    assert all(len(i["examples"]) == 2 for i in infos)
    text = cli("intents").stdout.decode()
    assert '"set a timer for 5 minutes"' in text and "Off: coffee" in text


def test_eval_reports_a_bad_manifest_line_without_a_traceback(tmp_path):
    manifest = tmp_path / "m.jsonl"
    manifest.write_text('{"text": "what time is it", "intent": "HassGetCurrentTime", "slots": {}}\n{"text": oops}\n')
    done = cli("eval", str(manifest))
    err = done.stderr.decode()
    assert done.returncode == 1 and f"{manifest}:2: not valid JSON" in err and "Traceback" not in err


def test_eval_json_gives_one_line_per_utterance_and_the_summary_last(tmp_path):
    manifest = tmp_path / "m.jsonl"
    rows = [
        {"text": "what time is it", "intent": "HassGetCurrentTime", "slots": {}},
        {"text": "set a timer for 3 minutes", "intent": "HassStartTimer", "slots": {"minutes": 4}},
        {"text": "tell me a joke about cats", "intent": None},
    ]
    manifest.write_text("\n".join(json.dumps(r) for r in rows))
    done = cli("eval", str(manifest), "--json")
    lines = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert [line["right"] for line in lines[:3]] == [True, False, True]
    assert lines[-1] == {**lines[-1], "n": 3, "intent_accuracy": 0.5, "intent_only_accuracy": 1.0, "rejection_accuracy": 1.0}


def test_a_missing_plugin_path_exits_2():
    done = cli("ask", "hello", "--intents", "./no/such/dir/")
    assert done.returncode == 2 and "no such file or folder" in done.stderr.decode()
