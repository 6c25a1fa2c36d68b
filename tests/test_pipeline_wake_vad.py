"""`assistant run` on files and raw stdin: wake word, then VAD-bounded command, as JSON events.

These run with ``--asr none`` (wake word and VAD only): the bounds are what is under test here.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.helpers import RATE, cli, espeak, piper, silence, trim, write


def _events(result) -> list[dict]:
    assert result.returncode == 0, result.stderr.decode()
    return [json.loads(line) for line in result.stdout.decode().splitlines()]


def _speech_events(events: list[dict]) -> list[dict]:
    return [e for e in events if e["type"] in ("wake", "speech_start", "speech_end", "no_speech")]


@pytest.fixture(scope="module")
def wake_then_command(tmp_path_factory):
    """'hey jarvis', a short pause, 'what time is it': returns the file and where the command really is."""
    wake, command = trim(piper("hey jarvis")), trim(piper("what time is it"))
    lead, gap = 1.0, 0.25
    audio = np.concatenate([silence(lead), wake, silence(gap), command, silence(1.5)])
    start = lead + (len(wake) / RATE) + gap
    path = write(tmp_path_factory.mktemp("run") / "wake_cmd.wav", audio)
    return path, start, start + len(command) / RATE


def test_run_json_gives_wake_then_speech_bounds_in_order(wake_then_command):
    path, start, end = wake_then_command
    events = _events(cli("run", "--asr", "none", "--input", str(path), "--json"))
    kinds = [e["type"] for e in _speech_events(events)]
    assert kinds == ["wake", "speech_start", "speech_end"]
    wake, speech_start, speech_end = _speech_events(events)
    assert wake["model"] == "hey_jarvis" and 0.5 <= wake["score"] <= 1.0
    # the wake word fires after the command began: the ring buffer still gives the command its start
    assert abs(speech_start["audio_t"] - start) <= 0.1 and abs(speech_end["audio_t"] - end) <= 0.15
    assert all(isinstance(e["t"], float) for e in events)
    assert [e["t"] for e in events] == sorted(e["t"] for e in events)
    assert events[-1]["type"] == "audio_stats" and events[-1]["dropped_frames"] == 0


def test_no_wake_treats_every_utterance_as_a_command(tmp_path):
    phrases = [trim(espeak(p)) for p in ("what time is it", "turn the volume up", "play the next song")]
    parts, truth, t = [silence(0.5)], [], 0.5
    for p in phrases:
        parts += [p, silence(1.2)]
        truth.append((t, t + len(p) / RATE))
        t += len(p) / RATE + 1.2
    path = write(tmp_path / "three.wav", np.concatenate(parts))
    events = _speech_events(_events(cli("run", "--asr", "none", "--input", str(path), "--no-wake", "--json")))
    assert [e["type"] for e in events] == ["speech_start", "speech_end"] * 3
    for (start, end), (s, e) in zip(truth, zip(events[::2], events[1::2])):
        assert abs(s["audio_t"] - start) <= 0.1 and abs(e["audio_t"] - end) <= 0.1


def test_wake_without_a_command_times_out(tmp_path):
    path = write(tmp_path / "only_wake.wav", np.concatenate([silence(0.5), piper("hey jarvis"), silence(5)]))
    kinds = [e["type"] for e in _speech_events(_events(cli("run", "--asr", "none", "--input", str(path), "--json")))]
    assert kinds == ["wake", "no_speech"]


def test_raw_pcm_on_stdin_any_rate_and_format():
    """`--input -` with 8 kHz float32 stereo PCM on stdin, converted at the edge like any source."""
    import soxr

    speech = np.concatenate([silence(0.5), trim(espeak("what time is it")), silence(1.0)]).astype(np.float32) / 32768
    low = soxr.resample(speech, RATE, 8000).astype("<f4")
    stereo = np.stack([low, low], axis=1).tobytes()
    result = cli("run", "--asr", "none", "--input", "-", "--rate", "8000", "--format", "f32le", "--channels", "2", "--no-wake", "--json", input=stereo)
    events = _speech_events(_events(result))
    assert [e["type"] for e in events] == ["speech_start", "speech_end"]
    assert abs(events[0]["audio_t"] - 0.5) <= 0.1


def test_human_output_without_json(wake_then_command):
    path, _, _ = wake_then_command
    result = cli("run", "--asr", "none", "--input", str(path))
    out = result.stdout.decode()
    assert result.returncode == 0 and "wake" in out and "model='hey_jarvis'" in out and "speech_end" in out


def test_unreadable_input_exits_with_a_clear_message(tmp_path):
    bad = tmp_path / "bad.flac"
    bad.write_bytes(b"fLaC garbage")
    result = cli("run", "--asr", "none", "--input", str(bad), "--json")
    assert result.returncode == 1 and str(bad) in result.stderr.decode() and "Traceback" not in result.stderr.decode()


@pytest.fixture(scope="module")
def jarvis_alexa_pipeline(request):
    """A pipeline listening for hey_jarvis and alexa with the wake engine ``request.param``."""
    from assistant.assembly import make_pipeline
    from assistant.config import Config
    from assistant.events import EventEmitter

    events: list = []
    config = Config.model_validate({"wake": {"engine": request.param, "models": ["hey_jarvis", "alexa"]}})
    pipeline = make_pipeline(config, EventEmitter([events.append]))
    yield pipeline, events, request.param
    pipeline.close()


@pytest.mark.parametrize("gap", [0.15, 0.3, 1.0])
@pytest.mark.parametrize("wake_word", ["hey jarvis", "alexa"])
@pytest.mark.parametrize(
    ("jarvis_alexa_pipeline", "synth"),
    # not microWakeWord with espeak-ng: it barely answers that voice (hey jarvis scores under 0.02, alexa with a
    # command 0.15 s after it 0.8-0.9); Piper's and real voices fire it
    [("microwakeword", piper), ("openwakeword", piper), ("openwakeword", espeak)],
    ids=["microwakeword-piper", "openwakeword-piper", "openwakeword-espeak"],
    indirect=["jarvis_alexa_pipeline"],
)
def test_command_right_after_the_wake_word_is_not_lost(jarvis_alexa_pipeline, synth, wake_word, gap):
    """The wake model fires up to 0.3 s after the word ends, sometimes after the command began: the
    ring buffer replay still starts the command where it really starts, without the wake word's tail."""
    pipeline, events, _engine = jarvis_alexa_pipeline
    events.clear()
    wake, command = trim(synth(wake_word)), trim(synth("what time is it"))
    audio = np.concatenate([silence(1.0), wake, silence(gap), command, silence(1.5)])
    start = 1.0 + len(wake) / RATE + gap
    base = pipeline.position
    n = len(audio) // 1280 * 1280
    for chunk in audio[:n].reshape(-1, 1280):
        pipeline.feed(chunk)
    bounds = [(e.type, e.audio_t - base / RATE) for e in events if e.type in ("wake", "speech_start", "speech_end")]
    assert [kind for kind, _ in bounds] == ["wake", "speech_start", "speech_end"]
    assert abs(bounds[1][1] - start) <= 0.1 and abs(bounds[2][1] - (start + len(command) / RATE)) <= 0.1
