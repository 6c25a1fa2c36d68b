"""The evaluation library without a recognizer: noise mixing, word errors, manifests, wake-word clips."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from assistant.errors import AssistantError
from assistant.evaluate import NoiseMixer, load_audio, mix_at_snr, read_manifest, word_error_rate, word_errors
from assistant.evaluate.noise import power
from tests.helpers import COFFEE_DEV, REPO, WAKE_DEV, cli, read

KITCHEN = COFFEE_DEV / "kitchen_noise.flac"
CLIP = COFFEE_DEV / "clips" / "0075d273-51bb-47cb-b323-4437bd0de029.flac"


@pytest.fixture(scope="module")
def kitchen() -> np.ndarray:
    return load_audio(KITCHEN)


@pytest.mark.parametrize("measure", ["mean", "peak"])
@pytest.mark.parametrize("snr", [24.0, 6.0, -3.0])
def test_noise_is_mixed_at_the_asked_ratio(kitchen, measure, snr):
    speech = read(CLIP)
    mixed = mix_at_snr(speech, kitchen, snr, np.random.default_rng(1), measure)
    added = mixed.astype(np.float64) - speech
    scale = 1.0
    if np.abs(mixed).max() >= 32767:  # the whole mix was scaled down to avoid clipping: undo that to compare
        scale = np.dot(mixed.astype(np.float64), speech) / np.dot(speech.astype(np.float64), speech)
        added = mixed / scale - speech
    measured = 10 * np.log10(power(speech, measure) / power(added, measure))
    assert measured == pytest.approx(snr, abs=0.05)
    assert len(mixed) == len(speech) and mixed.dtype == np.int16


@pytest.mark.parametrize("measure", ["mean", "peak"])
def test_noise_around_the_speech_continues_the_noise_under_it_at_the_same_level(kitchen, measure):
    """What a microphone that is always on hears: the kitchen before and after the word, not silence."""
    speech = read(CLIP)
    plain = mix_at_snr(speech, kitchen, 6.0, np.random.default_rng(1), measure)
    around = mix_at_snr(speech, kitchen, 6.0, np.random.default_rng(1), measure, context=16000)
    assert len(around) == len(speech) + 32000
    assert np.array_equal(around[16000:-16000], plain)  # the ratio is the speech's own; the mix under it is unchanged
    lead, tail = around[:16000].astype(np.float64), around[-16000:].astype(np.float64)
    under = plain.astype(np.float64) - speech
    for part in (lead, tail):  # the same noise, at the same gain, on both sides
        assert 10 * np.log10(np.mean(part**2) / np.mean(under**2)) == pytest.approx(0.0, abs=6.0)
    with pytest.raises(ValueError, match="number of samples"):
        mix_at_snr(speech, kitchen, 6.0, np.random.default_rng(1), context=-1)


def test_each_clip_gets_its_own_noise_whatever_else_is_run(kitchen):
    speech = read(CLIP)
    mixer = NoiseMixer(kitchen, 12.0, seed=7)
    first = mixer.mix(speech, key=3)
    assert np.array_equal(first, NoiseMixer(kitchen, 12.0, seed=7).mix(speech, key=3))  # same seed and clip: same noise
    assert not np.array_equal(first, mixer.mix(speech, key=4))  # another clip: another stretch of the noise
    assert not np.array_equal(first, NoiseMixer(kitchen, 12.0, seed=8).mix(speech, key=3))


def test_loud_mixes_are_scaled_not_clipped_and_silence_stays_silent(kitchen):
    loud = (np.sin(np.arange(16000) / 5) * 30000).astype(np.int16)
    mixed = mix_at_snr(loud, kitchen, 0.0, np.random.default_rng(0))
    assert np.abs(mixed.astype(np.int32)).max() <= 32767
    assert np.count_nonzero(np.abs(mixed.astype(np.int32)) == 32767) < 5
    silent = np.zeros(16000, np.int16)
    assert np.array_equal(mix_at_snr(silent, kitchen, 10.0, np.random.default_rng(0)), silent)


def test_short_noise_repeats_to_cover_the_speech():
    noise = (np.random.default_rng(0).normal(0, 1000, 4000)).astype(np.int16)
    speech = read(CLIP)
    mixed = mix_at_snr(speech, noise, 10.0, np.random.default_rng(0))
    tail = mixed[-16000:].astype(np.float64) - speech[-16000:]
    assert np.std(tail) > 0  # noise all the way to the end


def test_a_silent_noise_file_is_a_clear_error(tmp_path):
    import soundfile as sf

    path = tmp_path / "quiet.wav"
    sf.write(str(path), np.zeros(16000, np.int16), 16000)
    with pytest.raises(AssistantError, match="noise file is silent"):
        NoiseMixer.from_file(path, 10.0)


def test_word_errors_count_spoken_words_not_spelling():
    assert word_errors("Set a 5-minute timer.", "set a five minute timer") == 0
    assert word_errors("set a timer for five minutes", "set the timer for five") == 2  # one substitution, one deletion
    assert word_errors("what time is it", "so what time is it now") == 2
    assert word_error_rate([("one two three four", "one two three four"), ("a b", "a c")]) == pytest.approx(1 / 6)
    assert word_error_rate([]) is None


def test_audio_manifest_paths_are_relative_to_the_manifest(tmp_path):
    manifest = tmp_path / "sub" / "m.jsonl"
    manifest.parent.mkdir()
    manifest.write_text(
        '{"audio": "clips/a.flac", "intent": "orderDrink", "slots": {"coffeeDrink": "latte"}}\n'
        '\n'
        '{"audio": "../b.wav", "wake": "alexa"}\n'
        '{"audio": "c.wav", "intent": null, "text": "tell me a joke", "speaker": "x"}\n'
    )
    a, b, c = read_manifest(manifest)
    assert a.audio == manifest.parent / "clips" / "a.flac" and a.scored and a.slots == {"coffeeDrink": "latte"}
    assert b.audio == manifest.parent / "../b.wav" and b.wake == "alexa" and not b.scored and b.line == 3
    assert c.intent is None and c.scored and c.text == "tell me a joke" and c.extra == {"speaker": "x"}


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ('{"text": "what time is it", "intent": null}\n{"audio": "a.wav", "intent": null}\n', r"m.jsonl:1: no \"audio\" in an audio manifest"),
        ('{"audio": "a.wav"}\n', r'm.jsonl:1: an audio line needs "intent"'),
        ('{"audio": 3, "intent": null}\n', r'm.jsonl:1: "audio" must be a path'),
        ('{"audio": "a.wav", "intent": "X", "slots": [1]}\n', r'm.jsonl:1: "slots" must be an object'),
        ('{"audio": "a.wav", "wake": 5}\n', r'm.jsonl:1: "wake" must be a string'),
        ("\n\n", "the manifest has no lines"),
    ],
)
def test_bad_manifests_name_the_line_and_the_fix(tmp_path, lines, message):
    manifest = tmp_path / "m.jsonl"
    manifest.write_text(lines)
    with pytest.raises(AssistantError, match=message):
        read_manifest(manifest)


def test_the_wake_dev_manifest_covers_every_clip():
    cases = read_manifest(REPO / "tests" / "data" / "wake-dev.jsonl")
    assert {c.audio.resolve() for c in cases} == {p.resolve() for p in WAKE_DEV.iterdir() if p.suffix in (".flac", ".wav")}
    assert all(c.audio.is_file() for c in cases)


@pytest.mark.slow
def test_eval_of_wake_word_clips_counts_detections_and_false_accepts(tmp_path):
    """Real "alexa" recordings and openWakeWord's own hey_mycroft clip; "hey jane" never says a known wake word,
    so with --wake alexa it is where false accepts would show. No recognizer is needed for any of it."""
    rows = [{"audio": str(WAKE_DEV / f"alexa_{n}.flac"), "wake": "alexa"} for n in (0, 10, 20, 30)]
    rows += [{"audio": str(WAKE_DEV / "hey_mycroft_test.wav"), "wake": "hey mycroft"}, {"audio": str(WAKE_DEV / "hey_jane.wav"), "intent": None}]
    manifest = tmp_path / "wake.jsonl"
    manifest.write_text("\n".join(json.dumps(r) for r in rows))
    details = tmp_path / "details.jsonl"
    done = cli("eval", str(manifest), "--asr", "none", "--wake", "alexa", "--details", str(details))
    assert done.returncode == 0, done.stderr.decode()
    out = done.stdout.decode().splitlines()
    summary = json.loads(out[-1])
    assert summary["wake_clips"] == 5 and summary["wake_detection_rate"] == 1.0
    assert summary["wake_false_accepts"] == 0 and summary["false_accepts_per_hour"] == 0.0
    assert summary["rejection_accuracy"] == 1.0  # hey jane: nothing heard, nothing acted on
    assert any(line.startswith("wake word detected") and "100.0%" in line for line in out)
    per_clip = [json.loads(line) for line in details.read_text().splitlines()]
    assert [d["wake"]["detected"] for d in per_clip[:5]] == [True] * 5 and per_clip[4]["wake"]["expected"] == "hey mycroft"


@pytest.mark.slow
def test_a_wake_word_in_a_clip_labelled_without_one_is_a_false_accept(capsys):
    """The alexa clip labelled as out-of-scope speech: with alexa listening, its detection is a false accept;
    the progress bar goes to stderr."""
    from assistant.assembly import Resources
    from assistant.config import Config
    from assistant.evaluate import AudioEvaluator
    from assistant.evaluate.manifest import Case

    config = Config.model_validate({"asr": {"engine": "none"}})
    evaluator = AudioEvaluator(config, Resources.load(config, speak=False), wake_models=["alexa"])
    report = evaluator.evaluate([Case(intent=None, audio=WAKE_DEV / "alexa_0.flac", line=1)], progress=True)
    summary = report.summary()
    assert summary["wake_false_accepts"] == 1 and summary["false_accepts_per_hour"] > 100
    err = capsys.readouterr().err
    # the bar as drawn when it opens ("clips: 0%| | 0/1"): whether it is redrawn at 1/1 before closing depends on timing
    assert re.search(r"clips:\s+\d+%\|.*\| [01]/1 ", err), err


def test_eval_flags_that_need_audio_are_refused_for_text(tmp_path):
    manifest = tmp_path / "m.jsonl"
    manifest.write_text('{"text": "what time is it", "intent": "HassGetCurrentTime"}\n')
    done = cli("eval", str(manifest), "--noise", str(KITCHEN), "--snr", "6")
    assert done.returncode == 2 and "apply to audio manifests" in done.stderr.decode()


def test_noise_without_a_ratio_is_refused(tmp_path):
    manifest = tmp_path / "m.jsonl"
    manifest.write_text(json.dumps({"audio": str(CLIP), "intent": None}) + "\n")
    done = cli("eval", str(manifest), "--asr", "none", "--noise", str(KITCHEN))
    assert done.returncode == 2 and "--noise FILE and --snr DB go together" in done.stderr.decode()
