"""`assistant say`: speech to a file, to a real (virtual) speaker, and clear errors without one."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
import soundfile as sf

from tests.helpers import cli
from tests.speech_check import missing_words, speech_span


def events(stdout: bytes) -> list[dict]:
    return [json.loads(line) for line in stdout.decode().splitlines()]


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["pyttsx3", "piper"])
def test_say_writes_speech_to_a_file(tmp_path, engine):
    out = tmp_path / "x.wav"
    result = cli("say", "the", "door", "is", "locked", "--output", str(out), "--tts", engine, "--json")
    assert result.returncode == 0, result.stderr.decode()
    # stdout is nothing but events (pyttsx3's own prints must not leak into it)
    assert [e["type"] for e in events(result.stdout)] == ["reply", "speak_start", "speak_end"]
    assert events(result.stdout)[0]["text"] == "the door is locked"
    audio, rate = sf.read(str(out), dtype="int16")
    assert rate == 16000 and 0.5 < len(audio) / rate < 3
    missing, heard = missing_words(audio, "the door is locked")
    assert not missing, f"heard {heard!r}"


def test_say_with_no_engine_prints_the_text_and_needs_no_device(tmp_path):
    result = cli("say", "hello", "--tts", "none", "--json", env={"PULSE_SERVER": f"unix:{tmp_path}/nothing"})
    assert result.returncode == 0, result.stderr.decode()
    assert events(result.stdout) == [{"type": "reply", "t": events(result.stdout)[0]["t"], "text": "hello", "data": None}]


def test_say_without_a_speaker_is_a_clear_error(tmp_path):
    """Headless: no PulseAudio server to reach, so PortAudio has no output device at all."""
    result = cli("say", "hello world", env={"PULSE_SERVER": f"unix:{tmp_path}/nothing"})
    stderr = result.stderr.decode()
    assert result.returncode == 2
    assert "Traceback" not in stderr
    assert "assistant: error: no audio output devices found" in stderr and "assistant devices" in stderr


def test_say_rejects_an_unknown_engine_like_a_bad_config_line():
    result = cli("say", "hello", "--tts", "festival")
    assert result.returncode == 2
    assert "tts.engine = 'festival'" in result.stderr.decode()


def test_say_with_a_bad_voice_names_the_key(tmp_path):
    result = cli("say", "hello", "--set", "tts.voice=en-klingon", "--output", str(tmp_path / "x.wav"))
    assert result.returncode == 2
    assert "tts.voice = 'en-klingon' is not an espeak-ng voice" in result.stderr.decode()
    assert "Traceback" not in result.stderr.decode()


@pytest.mark.slow
def test_say_speaks_through_the_default_speaker(pulse):  # noqa: F811
    mark = pulse.speaker.mark()
    started = time.monotonic()
    result = cli("say", "turn off the music", "--json", env=pulse.env)
    assert result.returncode == 0, result.stderr.decode()
    assert [e["type"] for e in events(result.stdout)] == ["reply", "speak_start", "speak_end"]
    heard = pulse.speaker.through(time.monotonic() + 0.5)[mark:]  # the sink plays out its buffer after `say` exits
    span = speech_span(heard)
    assert span is not None, "nothing reached the speaker"
    assert pulse.speaker.time_of(mark + span[0]) > started
    missing, text = missing_words(heard[max(0, span[0] - 1600) : span[1] + 1600], "turn off the music")
    assert not missing, f"heard {text!r}"
    assert np.abs(heard.astype(np.int32)).max() > 8000
