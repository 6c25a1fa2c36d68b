"""Both wake engines behind one protocol, on real recordings: openWakeWord and microWakeWord (pymicro-wakeword).

openWakeWord's own details (trigger frames, refractory, ONNX models) are in test_wake.py.
"""

from __future__ import annotations

import gc
import json
import os
import shutil
from pathlib import Path

import numpy as np
import psutil
import pytest

from assistant.assembly import make_pipeline, make_wake
from assistant.audio.file import FileSource
from assistant.config import Config
from assistant.errors import ConfigError, ModelError
from assistant.evaluate.manifest import read_manifest
from assistant.events import EventEmitter
from assistant.server.protocol import ProtocolError, parse_start
from assistant.wake import WakeDetector, open_detector, scan
from assistant.wake.microwakeword_backend import BUILTIN, resolve_model
from tests.helpers import COFFEE_DEV, REPO, WAKE_DEV, cli, silence

ENGINES = ("openwakeword", "microwakeword")
ALEXA_CLIPS = [c.audio for c in read_manifest(REPO / "tests" / "data" / "wake-dev.jsonl") if c.wake == "alexa" and c.audio.suffix == ".flac"]
COFFEE_CLIPS = sorted((COFFEE_DEV / "clips").glob("*.flac"))
COMMON_MODELS = ["alexa", "hey_jarvis", "hey_mycroft", "okay_nabu"]
"""The names both engines ship."""


def detector(engine: str, models: list[str], **wake) -> WakeDetector:
    return make_wake(Config.model_validate({"wake": {"engine": engine, "models": models, **wake}}))


def detected(d: WakeDetector, clip: Path) -> list[str]:
    return [hit["model"] for hit in scan(d, FileSource(clip).frames()).detections]


@pytest.mark.parametrize("engine", ENGINES)
def test_both_engines_hear_alexa_in_the_real_recordings(engine):
    """33 crowd-sourced "alexa" recordings: each engine at its default threshold fires on at least 32, once each."""
    assert len(ALEXA_CLIPS) == 33
    d = detector(engine, ["alexa"])
    results = [detected(d, clip) for clip in ALEXA_CLIPS]
    d.close()
    assert all(len(r) <= 1 for r in results)  # one utterance fires once
    assert sum(r == ["alexa"] for r in results) >= 32


def test_coffee_orders_never_wake_microwakeword():
    """62 real spoken coffee orders (8.5 minutes) never say a wake word: no microWakeWord model fires
    (openWakeWord's five models on the same clips: ``test_wake.py::test_hey_jane_and_real_coffee_orders_fire_nothing``)."""
    assert len(COFFEE_CLIPS) == 62
    d = detector("microwakeword", COMMON_MODELS)
    fired = {clip.name: hits for clip in COFFEE_CLIPS if (hits := detected(d, clip))}
    d.close()
    assert fired == {}


def test_microwakeword_decides_like_pymicro_wakeword_on_the_same_audio():
    """Our shared-model scoring against the library's own streaming objects, clip by clip: the same decisions."""
    from pymicro_wakeword import MicroWakeWord, MicroWakeWordFeatures, Model

    ours = detector("microwakeword", ["alexa"])
    word, features = MicroWakeWord.from_builtin(Model.ALEXA), MicroWakeWordFeatures()
    for clip in ALEXA_CLIPS:
        audio = np.concatenate(list(FileSource(clip).frames()))
        result = scan(ours, audio.reshape(-1, 1280))
        pad = np.zeros(12 * 1280, np.int16)  # scan's padding
        word.reset()
        features.reset()
        theirs = [word.process_streaming(f) for f in features.process_streaming(np.concatenate([pad, audio, pad]).tobytes())]
        assert bool(result.detections) == any(theirs), clip.name
    ours.close()


def test_microwakeword_thresholds_and_windows_come_from_the_model_json_unless_configured():
    assert detector("microwakeword", ["alexa", "hey_jarvis"]).thresholds == {"alexa": 0.9, "hey_jarvis": 0.97}
    assert detector("microwakeword", ["alexa", "hey_jarvis"], threshold=0.8, thresholds={"alexa": 0.6}).thresholds == {"alexa": 0.6, "hey_jarvis": 0.8}
    assert detector("openwakeword", ["alexa"]).thresholds == {"alexa": 0.5}
    weak = WAKE_DEV / "alexa_320.flac"  # its 5-probability window peaks near 0.76, under alexa's cutoff 0.9
    assert detected(detector("microwakeword", ["alexa"]), weak) == []
    assert detected(detector("microwakeword", ["alexa"], thresholds={"alexa": 0.7}), weak) == ["alexa"]
    # a shorter window follows single probabilities (this clip peaks near 0.85): fires where the JSON's 5 do not
    assert detected(detector("microwakeword", ["alexa"], thresholds={"alexa": 0.8}), weak) == []
    assert detected(detector("microwakeword", ["alexa"], thresholds={"alexa": 0.8}, sliding_windows={"alexa": 1}), weak) == ["alexa"]
    strong = WAKE_DEV / "alexa_0.flac"
    assert detected(detector("microwakeword", ["alexa"], thresholds={"alexa": 0.999}), strong) == []


def test_microwakeword_scores_are_deterministic_across_streams_and_resets():
    clip = WAKE_DEV / "alexa_120.flac"
    d = detector("microwakeword", ["alexa", "hey_jarvis"])
    first = scan(d, FileSource(clip).frames())
    again = scan(d, FileSource(clip).frames())
    fresh = scan(detector("microwakeword", ["alexa", "hey_jarvis"]), FileSource(clip).frames())
    assert first == again == fresh
    assert first.detections[0]["model"] == "alexa" and first.max_score["hey_jarvis"] < 0.5


def test_a_custom_microwakeword_model_by_the_path_of_its_json(tmp_path):
    _, builtin = resolve_model("alexa")
    shutil.copy(builtin.with_suffix(".tflite"), tmp_path / "kitchen.tflite")
    spec = json.loads(builtin.read_text())
    spec.update(model="kitchen.tflite", wake_word="Kitchen")
    spec["micro"]["probability_cutoff"] = 0.7
    (tmp_path / "my_word.json").write_text(json.dumps(spec))
    d = detector("microwakeword", [str(tmp_path / "my_word.json")])
    assert d.names == ["my_word"] and d.thresholds == {"my_word": 0.7}
    assert detected(d, WAKE_DEV / "alexa_320.flac") == ["my_word"]  # the JSON's own cutoff (0.7) applies


def _tflite_files() -> int:
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            count += os.readlink(f"/proc/self/fd/{fd}").endswith(".tflite")
        except OSError:  # the listing's own descriptor, closed since
            pass
    return count


def _stream(engine: str, models: list[str], chunks: np.ndarray):
    """One stream's pipeline (wake word and VAD), fed some audio and closed as the server closes it."""
    pipeline = make_pipeline(Config.model_validate({"wake": {"engine": engine, "models": models}, "asr": {"engine": "none"}}), EventEmitter())
    for chunk in chunks:
        pipeline.feed(chunk)
    pipeline.close()
    return pipeline


@pytest.mark.parametrize(("engine", "streams"), [("openwakeword", 6), ("microwakeword", 200)])
def test_a_stream_gives_back_its_wake_state_when_it_closes(engine, streams):
    """With the collector off and every closed pipeline still referenced, nothing of a stream's wake state stays:
    openWakeWord's interpreters (their .tflite files) go at close; microWakeWord shares one loaded model per name
    and frees each stream's interpreters, so 200 streams leave no file and no memory behind."""
    models = ["alexa", "hey_jarvis", "hey_mycroft"]
    chunks = np.concatenate(list(FileSource(WAKE_DEV / "alexa_0.flac").frames()))[: 25 * 1280].reshape(-1, 1280)  # 2 s of real speech
    process = psutil.Process()
    gc.collect()
    before = _tflite_files()
    _stream(engine, models, chunks)  # the process's shared state (microWakeWord's models, the VAD, numpy) comes first
    baseline_files = _tflite_files()
    assert baseline_files - before <= {"openwakeword": 0, "microwakeword": len(models)}[engine]
    gc.disable()
    try:
        baseline_rss = process.memory_info().rss
        kept = [_stream(engine, models, chunks) for _ in range(streams)]
        assert _tflite_files() == baseline_files
        grown_mib = (process.memory_info().rss - baseline_rss) / 2**20
        with pytest.raises(RuntimeError, match="closed"):
            kept[-1].wake.process(chunks[0])
    finally:
        gc.enable()
    assert grown_mib < {"openwakeword": 60, "microwakeword": 30}[engine], grown_mib  # unclosed: ~85 MiB


def test_an_unknown_model_lists_the_configured_engines_names():
    with pytest.raises(ModelError) as err:
        detector("microwakeword", ["hey_computer"])
    assert all(name in str(err.value) for name in BUILTIN) and "hey_rhasspy" not in str(err.value)
    with pytest.raises(ModelError, match="openWakeWord model: set wake.engine: openwakeword"):
        detector("microwakeword", ["hey_rhasspy"])
    with pytest.raises(ModelError) as err:
        detector("openwakeword", ["hey_computer"])
    assert "hey_rhasspy" in str(err.value)
    for engine, words in (("microwakeword", "alexa, hey_jarvis, hey_mycroft, okay_nabu"), ("openwakeword", "hey_rhasspy")):
        result = cli("wake", "--engine", engine, "--model", "hey_computer", str(WAKE_DEV / "alexa_test.wav"))
        stderr = result.stderr.decode()
        assert result.returncode == 2 and "hey_computer" in stderr and words in stderr and "Traceback" not in stderr


def test_bad_model_files_say_what_a_model_is(tmp_path):
    _, builtin = resolve_model("alexa")
    with pytest.raises(ModelError, match="does not exist"):
        detector("microwakeword", [str(tmp_path / "missing.json")])
    with pytest.raises(ModelError, match="named by its JSON file"):
        detector("microwakeword", [str(builtin.with_suffix(".tflite"))])
    with pytest.raises(ModelError, match="looks like a microWakeWord model"):
        detector("openwakeword", [str(builtin)])
    (tmp_path / "notes.json").write_text('{"wake_word": "hi"}')
    with pytest.raises(ModelError, match='needs "model"'):
        detector("microwakeword", [str(tmp_path / "notes.json")])
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(ModelError, match="is not a microWakeWord model"):
        detector("microwakeword", [str(tmp_path / "broken.json")])
    spec = json.loads(builtin.read_text())
    (tmp_path / "fake.tflite").write_bytes(b"these are not weights" * 100)
    (tmp_path / "fake.json").write_text(json.dumps({**spec, "model": "fake.tflite"}))
    with pytest.raises(ModelError, match="is not a TFLite model"):
        detector("microwakeword", [str(tmp_path / "fake.json")])
    (tmp_path / "lost.json").write_text(json.dumps({**spec, "model": "lost.tflite"}))
    with pytest.raises(ModelError, match="names the model file .*lost.tflite, which does not exist"):
        detector("microwakeword", [str(tmp_path / "lost.json")])
    with pytest.raises(ModelError, match="not loaded"):
        detector("microwakeword", ["alexa"], sliding_windows={"hey_jarvis": 3})
    with pytest.raises(ConfigError, match="only microWakeWord models have a sliding window"):
        detector("openwakeword", ["alexa"], sliding_windows={"alexa": 3})


@pytest.mark.parametrize("engine", ENGINES)
def test_a_microphone_s_small_blocks_wake_the_engine_where_80_ms_chunks_do(engine):
    """``assistant run``'s microphone hands over 20 ms blocks (``audio.block_ms``), the engines score 80 ms
    frames: the same real "alexa" recordings fire the same model, on the same frame, with the same onset."""

    def onsets(block: int) -> list[tuple[str, int]]:
        d = open_detector(engine, ["alexa", "hey_jarvis"])
        fired, fed = [], 0
        try:
            for clip in ALEXA_CLIPS[:4]:
                audio = np.concatenate([*FileSource(clip).frames(), silence(1.0)])
                for start in range(0, len(audio), block):
                    chunk = audio[start : start + block]
                    fed += len(chunk)
                    if (hit := d.process(chunk)) is not None:
                        fired.append((hit.model, fed - hit.onset_samples_ago))
        finally:
            d.close()
        return fired

    chunks = onsets(1280)
    assert [model for model, _ in chunks] == ["alexa"] * 4
    assert onsets(320) == chunks
    assert onsets(480) == chunks  # blocks that do not divide the frame


def test_a_closed_detector_refuses_audio_instead_of_crashing():
    for engine in ENGINES:
        d = open_detector(engine, ["alexa"])
        d.close()
        d.close()  # idempotent
        with pytest.raises(RuntimeError, match="closed"):
            d.process(silence(0.08))


def test_the_commands_take_the_engine_flag(tmp_path):
    clip = str(WAKE_DEV / "alexa_0.flac")
    for engine in ENGINES:
        done = cli("wake", clip, "--wake-engine", engine, "--model", "alexa", "--json")
        assert done.returncode == 0, done.stderr
        assert [d["model"] for d in json.loads(done.stdout)["detections"]] == ["alexa"]
    done = cli("run", "--asr", "none", "--wake-engine", "openwakeword", "--set", "wake.models=[alexa]", "--input", clip, "--json")
    assert done.returncode == 0, done.stderr
    wakes = [e for e in map(json.loads, done.stdout.decode().splitlines()) if e["type"] == "wake"]
    assert [w["model"] for w in wakes] == ["alexa"]
    for command in ("serve", "satellite"):
        assert "--wake-engine" in cli(command, "--help").stdout.decode()


def test_a_stream_may_only_ask_for_models_of_the_servers_engine():
    request = parse_start({"type": "start", "rate": 16000, "wake_models": ["hey_rhasspy"]})
    assert request.stream_config(Config.model_validate({"wake": {"engine": "openwakeword"}})).wake.models == ["hey_rhasspy"]
    with pytest.raises(ProtocolError, match=r"wake engine \(microwakeword\) has the models"):
        request.stream_config(Config.model_validate({"wake": {"engine": "microwakeword"}}))
    server = Config.model_validate({"wake": {"models": ["alexa", "hey_jarvis"], "sliding_windows": {"alexa": 3}, "thresholds": {"alexa": 0.8}}})
    jarvis = parse_start({"type": "start", "rate": 16000, "wake_models": ["hey_jarvis"]}).stream_config(server)
    assert make_wake(jarvis).names == ["hey_jarvis"]  # the server's per-model settings for other models stay behind
