"""Decoding in one place (assistant.audio.decode): files read whatever the server accepts, FFmpeg recovers what
libsndfile gives up on, and audio that is still lost is always reported.

Everything is real: real recordings from wake-dev, opus encoded by FFmpeg (as a browser's MediaRecorder would),
FLACs corrupted or cut here in the test, libsndfile and FFmpeg decoding them, the microWakeWord detector.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from assistant.assembly import make_wake
from assistant.audio.file import FileSource
from assistant.audio.source import CHUNK_SAMPLES
from assistant.config import Config
from assistant.errors import AudioInputError
from assistant.evaluate.manifest import read_manifest
from assistant.wake import scan
from tests.helpers import RATE, REPO, WAKE_DEV, cli, read, write
from tests.server_helpers import encode_opus

ALEXA_CLIPS = [c.audio for c in read_manifest(REPO / "tests" / "data" / "wake-dev.jsonl") if c.wake == "alexa" and c.audio.suffix == ".flac"]


def _decode(path: Path) -> tuple[np.ndarray, list]:
    events: list = []
    audio = np.concatenate(list(FileSource(path, emit=events.append).frames()))
    return audio, [e for e in events if e.type == "error"]


def burst_error(clip: Path, folder: Path) -> Path:
    """A copy of ``clip`` in ``folder`` with 16 random bytes a third of the way in: libsndfile's FLAC decoder loses sync there."""
    raw = clip.read_bytes()
    cut = len(raw) // 3
    noise = np.random.default_rng(0).integers(0, 256, 16, dtype=np.uint8).tobytes()
    path = folder / clip.name
    path.write_bytes(raw[:cut] + noise + raw[cut + 16 :])
    return path


def _libsndfile_part(path: Path) -> np.ndarray:
    """What libsndfile alone gives of a 16 kHz mono file: the blocks before it fails (what a file source gave before)."""
    blocks = []
    with sf.SoundFile(path) as f:
        try:
            while len(block := f.read(4096, dtype="int16")):
                blocks.append(block)
        except sf.LibsndfileError:
            pass
    audio = np.concatenate(blocks)
    return np.concatenate([audio, np.zeros(-len(audio) % CHUNK_SAMPLES, np.int16)]).reshape(-1, CHUNK_SAMPLES)


@pytest.mark.parametrize("container", ["webm", "ogg"])
def test_a_browser_recording_is_a_file_like_any_other(tmp_path, container):
    """What the server accepts from a browser (opus in webm or ogg), a file source reads too."""
    speech = read(WAKE_DEV / "alexa_0.flac")
    path = tmp_path / f"alexa.{container}"
    path.write_bytes(encode_opus(speech, container))
    chunks = list(FileSource(path).frames())
    decoded = np.concatenate(chunks)
    assert all(len(c) == CHUNK_SAMPLES for c in chunks)
    assert abs(len(decoded) - len(speech)) < CHUNK_SAMPLES + 0.02 * RATE
    n = min(len(decoded), len(speech))
    assert np.corrcoef(decoded[:n].astype(float), speech[:n].astype(float))[0, 1] > 0.8


def test_assistant_run_input_hears_the_wake_word_in_a_webm_file(tmp_path):
    """`assistant run --input reply.webm`: libsndfile cannot read webm, the run reads it all the same."""
    path = tmp_path / "alexa.webm"
    path.write_bytes(encode_opus(read(WAKE_DEV / "alexa_0.flac"), "webm"))
    done = cli("run", "--input", str(path), "--json", "--set", "wake.models=[alexa]", "--set", "asr.engine=none", "--set", "tts.engine=none")
    assert done.returncode == 0, done.stderr.decode()
    events = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert [e["model"] for e in events if e["type"] == "wake"] == ["alexa"]
    assert not [e for e in events if e["type"] == "error"]


def test_ffmpeg_recovers_what_libsndfile_gives_up_on_and_the_wake_word_is_heard_again(tmp_path):
    """The 33 real "alexa" recordings, each with a burst error (16 random bytes a third of the way in).

    libsndfile loses sync at the error and stops, 0.26 to 1.28 s into each file; before decoding moved here,
    that was all a file source gave, and microWakeWord heard "alexa" in none of them. FFmpeg decodes on past
    the broken frames (dropping them): measured 27 of 33 heard, every file with a warning saying how much
    was lost. The margins leave room for another CPU's TFLite arithmetic.
    """
    assert len(ALEXA_CLIPS) == 33
    wake = make_wake(Config.model_validate({"wake": {"engine": "microwakeword", "models": ["alexa"]}}))
    before = after = 0
    stopped = []
    for clip in ALEXA_CLIPS:
        damaged = burst_error(clip, tmp_path)
        libsndfile_only = _libsndfile_part(damaged)
        stopped.append(libsndfile_only.size / RATE)
        before += bool(scan(wake, libsndfile_only).detections)
        audio, errors = _decode(damaged)
        after += bool(scan(wake, audio.reshape(-1, CHUNK_SAMPLES)).detections)
        assert len(audio) > 0.9 * sf.info(str(clip)).frames
        assert [e.code for e in errors] == ["audio_decode"] and "lost sync" in errors[0].message and " s lost" in errors[0].message
    wake.close()
    assert max(stopped) < 1.5
    assert before <= 2 and after >= 24, (before, after)


def test_a_flac_written_to_a_pipe_is_read_whole_without_a_warning(tmp_path):
    """A FLAC whose header gives no length (total samples 0, as an encoder writing to a pipe leaves it):
    libsndfile stops near the end ("psf_fseek() failed"); FFmpeg decodes the rest, and nothing is lost."""
    raw = bytearray((WAKE_DEV / "alexa_0.flac").read_bytes())
    assert raw[:4] == b"fLaC" and raw[4] & 0x7F == 0  # STREAMINFO first: its 36-bit sample count ends at byte 25
    raw[21] &= 0xF0
    raw[22:26] = bytes(4)
    path = tmp_path / "piped.flac"
    path.write_bytes(bytes(raw))
    assert sf.info(str(path)).frames > 2**62  # libsndfile: "bumping to SF_COUNT_MAX"
    audio, errors = _decode(path)
    speech = read(WAKE_DEV / "alexa_0.flac")
    assert errors == [] and np.array_equal(audio[: len(speech)], speech)


def test_a_wav_written_to_a_pipe_is_not_taken_for_a_truncated_one(tmp_path):
    """A WAV whose data size is 0xFFFFFFFF (what a program writing to a pipe puts there) is read whole,
    with no claim that hours of audio are missing."""
    speech = read(WAKE_DEV / "alexa_0.flac")
    raw = bytearray(write(tmp_path / "x.wav", speech, subtype="PCM_16").read_bytes())
    assert raw[36:40] == b"data"
    raw[40:44] = b"\xff\xff\xff\xff"
    path = tmp_path / "piped.wav"
    path.write_bytes(bytes(raw))
    audio, errors = _decode(path)
    assert errors == [] and np.array_equal(audio[: len(speech)], speech)


@pytest.mark.parametrize("kind", ["flac", "webm"])
def test_a_cut_off_file_yields_what_is_there_and_says_how_much_is_missing(tmp_path, caplog, kind):
    """The first half of a real recording's bytes: a FLAC (libsndfile loses sync at the cut) or a webm
    (FFmpeg ends early; its header said how long it was). Either way: the audio there, an error event
    with the seconds promised and decoded, the same line in the log."""
    speech = read(WAKE_DEV / "alexa_120.flac")
    whole = (WAKE_DEV / "alexa_120.flac").read_bytes() if kind == "flac" else encode_opus(speech, "webm")
    path = tmp_path / f"cut.{kind}"
    path.write_bytes(whole[: len(whole) // 2])
    with caplog.at_level(logging.WARNING, logger="assistant.audio.file"):
        audio, errors = _decode(path)
    assert 0.8 * RATE < len(audio) < 0.5 * len(speech) + CHUNK_SAMPLES
    n = min(len(audio), len(speech)) - CHUNK_SAMPLES
    assert np.corrcoef(audio[:n].astype(float), speech[:n].astype(float))[0, 1] > 0.8
    assert len(errors) == 1 and str(path) in errors[0].message and "3.1" in errors[0].message  # 3.18 s / 3.19 s promised
    assert errors[0].code == ("audio_decode" if kind == "flac" else "audio_truncated")
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == [errors[0].message]


@pytest.mark.parametrize("suffix", ["flac", "webm", "ogg", "m4a", "wav"])
def test_text_named_like_audio_is_refused_with_both_decoders_reasons(tmp_path, suffix):
    """FFmpeg may pick a format from the file name alone (a .flac of text opens as FLAC without a rate):
    that is no audio either, and the error says what each decoder found and which formats work."""
    path = tmp_path / f"notes.{suffix}"
    path.write_bytes(b"not audio at all")
    with pytest.raises(AudioInputError) as err:
        FileSource(path)
    message = str(err.value)
    assert message.startswith(f"{path}: not a readable audio file (libsndfile: ") and "; FFmpeg: " in message and "webm" in message
