"""Wake words on real recordings and real synthesized speech, through the real openWakeWord models.

The microWakeWord engine and what both engines share are in test_wake_engines.py."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from assistant.audio.file import FileSource
from assistant.errors import ModelError
from assistant.wake import TriggerRule, scan
from assistant.wake.openwakeword_backend import PRETRAINED, OpenWakeWordDetector, pretrained_dir
from tests.helpers import COFFEE_DEV, WAKE_DEV, cli, espeak, piper, silence

ALEXA_CLIPS = sorted(WAKE_DEV.glob("alexa_*.flac"))


def _chunks(samples: np.ndarray):
    n = len(samples) // 1280 * 1280
    return list(samples[:n].reshape(-1, 1280))


@pytest.fixture(scope="module")
def three() -> OpenWakeWordDetector:
    return OpenWakeWordDetector(["alexa", "hey_mycroft", "hey_jarvis"])


@pytest.fixture(scope="module")
def all_models() -> OpenWakeWordDetector:
    return OpenWakeWordDetector(list(PRETRAINED))


def test_real_alexa_recordings_fire_alexa_and_nothing_else(three):
    """33 crowd-sourced 'alexa' clips: at least 32 fire at the default threshold, none fires another model."""
    assert len(ALEXA_CLIPS) == 33
    fired = 0
    for clip in ALEXA_CLIPS:
        result = scan(three, FileSource(clip).frames())
        models = {d["model"] for d in result.detections}
        assert models <= {"alexa"}, (clip.name, result)
        fired += models == {"alexa"}
        assert len(result.detections) <= 1, (clip.name, result.detections)  # one utterance fires once
    assert fired >= 32


def test_openwakeword_test_clips_fire_their_model(three):
    assert [d["model"] for d in scan(three, FileSource(WAKE_DEV / "hey_mycroft_test.wav").frames()).detections] == ["hey_mycroft"]
    assert [d["model"] for d in scan(three, FileSource(WAKE_DEV / "alexa_test.wav").frames()).detections] == ["alexa"]


def test_hey_jane_and_real_coffee_orders_fire_nothing(all_models):
    clips = [WAKE_DEV / "hey_jane.wav", *sorted((COFFEE_DEV / "clips").glob("*.flac"))]
    assert len(clips) == 63
    for clip in clips:
        result = scan(all_models, FileSource(clip).frames())
        assert result.detections == [], (clip.name, result)


@pytest.mark.parametrize(
    "speech",
    [
        lambda: espeak("hey jarvis"),
        lambda: espeak("hey jarvis", voice="en-gb", speed=140),
        lambda: piper("hey jarvis"),
        lambda: piper("Hey Jarvis, what time is it?"),
    ],
    ids=["espeak-us", "espeak-gb-slow", "piper", "piper-with-command"],
)
def test_synthesized_hey_jarvis_fires_hey_jarvis(three, speech):
    result = scan(three, _chunks(speech()))
    assert [d["model"] for d in result.detections] == ["hey_jarvis"], result


def test_scores_are_deterministic_across_instances_and_resets(three):
    clip = WAKE_DEV / "alexa_120.flac"
    first = scan(three, FileSource(clip).frames()).max_score
    again = scan(three, FileSource(clip).frames()).max_score
    fresh = scan(OpenWakeWordDetector(["alexa", "hey_mycroft", "hey_jarvis"]), FileSource(clip).frames()).max_score
    assert first == again == fresh
    assert first["alexa"] > 0.5


def test_custom_tflite_model_by_path(tmp_path):
    custom = tmp_path / "my_word.tflite"
    shutil.copy(pretrained_dir() / "hey_jarvis.tflite", custom)
    detector = OpenWakeWordDetector([str(custom)])
    assert detector.names == ["my_word"]
    assert [d["model"] for d in scan(detector, _chunks(espeak("hey jarvis"))).detections] == ["my_word"]


def test_custom_onnx_model_by_path_shares_the_tflite_features(tmp_path):
    """An ONNX wake model (alexa converted from tflite with tflite2onnx) scores like the tflite original."""
    import tflite2onnx

    onnx_path = tmp_path / "alexa_onnx.onnx"
    tflite2onnx.convert(str(pretrained_dir() / "alexa.tflite"), str(onnx_path))
    detector = OpenWakeWordDetector([str(onnx_path), "alexa"])
    for clip in ALEXA_CLIPS[:5]:
        result = scan(detector, FileSource(clip).frames())
        assert abs(result.max_score["alexa_onnx"] - result.max_score["alexa"]) < 0.01
        assert result.max_score["alexa_onnx"] > 0.5


def test_trigger_frames_demand_a_sustained_score():
    """A model must stay above threshold for N consecutive frames; an absurd N never fires."""
    speech = _chunks(np.concatenate([espeak("hey jarvis"), silence(1)]))
    assert scan(OpenWakeWordDetector(["hey_jarvis"], rule=TriggerRule(trigger_frames=2)), speech).detections
    assert scan(OpenWakeWordDetector(["hey_jarvis"], rule=TriggerRule(trigger_frames=20)), speech).detections == []


def test_refractory_period_makes_one_utterance_fire_once_but_not_the_next():
    said = espeak("hey jarvis")
    twice = np.concatenate([said, silence(0.5), said, silence(1)])
    long_deaf = scan(OpenWakeWordDetector(["hey_jarvis"], rule=TriggerRule(refractory_seconds=5)), _chunks(twice)).detections
    short_deaf = scan(OpenWakeWordDetector(["hey_jarvis"], rule=TriggerRule(refractory_seconds=0.5)), _chunks(twice)).detections
    assert len(long_deaf) == 1 and len(short_deaf) == 2
    assert short_deaf[1]["t"] - short_deaf[0]["t"] > 1.0


def test_per_model_threshold():
    clip = WAKE_DEV / "alexa_160.flac"  # a weak real recording: peaks around 0.35
    loose = scan(OpenWakeWordDetector(["alexa"], thresholds={"alexa": 0.2}), FileSource(clip).frames())
    strict = scan(OpenWakeWordDetector(["alexa"]), FileSource(clip).frames())
    assert loose.detections and not strict.detections


def test_unknown_model_lists_the_known_ones():
    with pytest.raises(ModelError) as err:
        OpenWakeWordDetector(["hey_computer"])
    assert all(name in str(err.value) for name in PRETRAINED)
    with pytest.raises(ModelError, match="not loaded"):
        OpenWakeWordDetector(["alexa"], thresholds={"hey_jarvis": 0.3})
    result = cli("wake", "--model", "hey_computer", str(WAKE_DEV / "alexa_test.wav"))
    assert result.returncode == 2 and "hey_computer" in result.stderr.decode() and "Traceback" not in result.stderr.decode()


def test_cli_prints_one_json_line_per_file():
    import json

    result = cli("wake", str(WAKE_DEV / "alexa_0.flac"), str(WAKE_DEV / "hey_jane.wav"), "--model", "alexa", "--model", "hey_jarvis", "--json")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [Path(line["file"]).name for line in lines] == ["alexa_0.flac", "hey_jane.wav"]
    assert lines[0]["detections"][0]["model"] == "alexa" and 0.5 < lines[0]["detections"][0]["t"] < 2.5
    assert set(lines[0]["max_score"]) == {"alexa", "hey_jarvis"} and lines[1]["detections"] == []
