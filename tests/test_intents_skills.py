"""The desktop skills against the real system: PulseAudio/ALSA mixer, playerctl, launching programs; clock, help."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta

import pytest

from assistant.config import Config, load_config
from assistant.intents import Dispatcher, IntentEngine, Session
from assistant.intents.dispatcher import NOT_UNDERSTOOD
from tests.intents_helpers import Announcements


def dispatcher(overrides: dict | None = None, extra: tuple[str, ...] = ()) -> Session:
    config = load_config(None, overrides or {})
    return Dispatcher(IntentEngine.from_config(config, list(extra)), config).session("kitchen", Announcements())


def say(d: Session, text: str) -> str:
    turn = d.respond(text)
    assert turn.error is None, turn.error
    return turn.reply


@pytest.fixture(scope="module")
def pulse(tmp_path_factory):
    """A private PulseAudio daemon with a null sink: the real mixer commands run without touching anyone's audio."""
    if not shutil.which("pulseaudio") or not shutil.which("pactl"):
        pytest.skip("pulseaudio and pactl are not installed (apt install pulseaudio pulseaudio-utils)")
    runtime = tmp_path_factory.mktemp("pulse")
    env = {**os.environ, "PULSE_RUNTIME_PATH": str(runtime), "XDG_RUNTIME_DIR": str(runtime), "HOME": str(runtime)}
    subprocess.run(
        ["pulseaudio", "--daemonize=yes", "--exit-idle-time=-1", "-n", "--use-pid-file=yes",
         "--load=module-native-protocol-unix", "--load=module-null-sink sink_name=assistant_test"],
        env=env, check=True, capture_output=True, timeout=20,
    )  # fmt: skip
    pid = int((runtime / "pid").read_text())
    server = f"unix:{runtime}/native"
    deadline = time.monotonic() + 10
    while subprocess.run(["pactl", "info"], env={**os.environ, "PULSE_SERVER": server}, capture_output=True).returncode != 0:
        assert time.monotonic() < deadline, "the test PulseAudio daemon did not come up"
        time.sleep(0.1)
    yield server
    os.kill(pid, signal.SIGTERM)


def pactl(*args: str) -> str:
    return subprocess.run(["pactl", *args], capture_output=True, text=True, check=True).stdout


def sink_volume() -> int:
    return int(re.search(r"(\d+)%", pactl("get-sink-volume", "@DEFAULT_SINK@"))[1])


@pytest.mark.parametrize("mixer", ["pactl", "amixer"])
def test_volume_commands_change_the_real_mixer(pulse, monkeypatch, mixer):
    monkeypatch.setenv("PULSE_SERVER", pulse)
    if mixer == "amixer" and subprocess.run(["amixer", "sget", "Master"], capture_output=True).returncode != 0:
        pytest.skip("amixer has no Master control here (the ALSA PulseAudio plugin: apt install libasound2-plugins)")
    d = dispatcher({"plugins.volume.mixer": mixer})
    assert say(d, "set the volume to 40 percent") == "Volume set to 40 percent."
    assert sink_volume() == 40
    assert say(d, "turn the volume up") == "Volume 50 percent."
    assert say(d, "volume down by 20 percent") == "Volume 30 percent."
    assert say(d, "a bit quieter") == "Volume 20 percent."
    assert sink_volume() == 20
    assert say(d, "Set the volume to 100%.") == "Volume set to 100 percent."
    assert say(d, "louder") == "Volume 100 percent."  # never past 100
    assert say(d, "mute") == "Muted."
    assert "yes" in pactl("get-sink-mute", "@DEFAULT_SINK@")
    assert say(d, "unmute the sound") == "Unmuted."
    assert "no" in pactl("get-sink-mute", "@DEFAULT_SINK@")


def test_a_missing_mixer_control_is_a_spoken_apology(pulse, monkeypatch):
    monkeypatch.setenv("PULSE_SERVER", pulse)
    turn = dispatcher({"plugins.volume.mixer": "amixer", "plugins.volume.control": "NoSuchControl"}).respond("volume up")
    assert turn.reply == "Sorry, I can't reach the volume control."
    assert "NoSuchControl" in turn.data["error"]


@pytest.mark.skipif(shutil.which("playerctl") is None, reason="playerctl is not installed")
def test_media_commands_without_a_session_bus_say_no_player_runs(monkeypatch):
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.delenv("DISPLAY", raising=False)
    d = dispatcher()
    for text in ("next song", "previous track", "pause the music", "resume"):
        assert say(d, text) == "No media player is running."


@pytest.mark.skipif(shutil.which("playerctl") is None or shutil.which("dbus-daemon") is None, reason="playerctl or dbus-daemon missing")
def test_media_commands_on_a_desktop_bus_without_players_say_no_player_runs(monkeypatch):
    started = subprocess.run(["dbus-daemon", "--session", "--fork", "--print-address=1", "--print-pid=1"], capture_output=True, text=True, check=True, timeout=10)
    address, pid = started.stdout.split()
    try:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
        turn = dispatcher().respond("skip this track")
        assert turn.reply == "No media player is running."
        assert "No players found" in turn.data["error"]
    finally:
        os.kill(int(pid), signal.SIGTERM)


def test_apps_start_only_what_the_config_declares(tmp_path):
    marker = tmp_path / "opened.txt"
    program = [sys.executable, "-c", f"import pathlib; pathlib.Path({str(marker)!r}).write_text('opened')"]
    d = dispatcher({"plugins.apps.apps": {"notes": program, "ghost": ["no-such-program-xyz"]}, "plugins.apps.aliases": {"notepad": "notes"}})
    turn = d.respond("open the notepad app")
    assert (turn.reply, turn.data["argv"]) == ("Opening notes.", program)
    deadline = time.monotonic() + 10
    while not marker.exists():
        assert time.monotonic() < deadline, "the configured program did not start"
        time.sleep(0.05)
    assert say(d, "launch ghost") == "I can't open ghost: no-such-program-xyz is not installed."
    assert d.respond("open rm -rf /").reply == NOT_UNDERSTOOD


def test_the_time_and_date_are_now():
    d = dispatcher()
    before = datetime.now()
    reply = say(d, "what time is it")
    hour, minute, half = re.fullmatch(r"It's (\d{1,2}):(\d{2}) (AM|PM)\.", reply).groups()
    said = (int(hour) % 12 + (12 if half == "PM" else 0), int(minute))
    assert said in {((before + timedelta(minutes=m)).hour, (before + timedelta(minutes=m)).minute) for m in (0, 1)}
    assert re.fullmatch(r"It's \d{2}:\d{2}\.", say(dispatcher({"plugins.clock.hour_format": 24}), "what's the time"))
    assert say(d, "what's the date today") == f"Today is {before:%A}, {before:%B} {before.day}, {before.year}."


def test_help_is_built_from_the_loaded_plugins():
    reply = say(dispatcher(), "what can you do")
    assert reply.startswith("I can ") and "tell the time and date" in reply and "set timers" in reply and "make coffee" not in reply
    assert "make coffee" in say(dispatcher(extra=("coffee",)), "what can you do")
    only_clock = dispatcher({"intents.disable": ["timers", "volume", "media", "apps"]})
    assert say(only_clock, "help") == "I can tell the time and date. For example, say: what time is it."


def test_never_mind():
    turn = dispatcher().respond("never mind")
    assert (turn.intent.name, turn.reply) == ("HassNevermind", "Okay.")


def test_coffee_order_reply():
    d = dispatcher(extra=("coffee",))
    turn = d.respond("Can I get a 12-ounce dark roast latte with a bit of soy milk?")
    assert turn.reply == "One twelve ounce dark roast latte with a bit of soy milk, coming up."
    assert turn.data == {"order": {"size": "twelve ounce", "roast": "dark roast", "coffeeDrink": "latte", "milkAmount": "a bit of soy milk"}}


def test_config_default_is_used_without_overrides():
    assert IntentEngine.from_config(Config()).owner("HassSetVolume").config["step"] == 10
