"""The start message: what a client may ask for, and the error a client author gets otherwise."""

from __future__ import annotations

import pytest

from assistant.config import Config
from assistant.server.protocol import ProtocolError, parse_message, parse_start


def test_minimal_start_every_client_can_rely_on():
    request = parse_start({"type": "start", "rate": 16000, "encoding": "pcm_s16le", "wake": True})
    assert request.pcm_format == "s16le" and request.rate == 16000 and request.channels == 1
    assert request.bytes_per_second() == 32000 and request.backpressure is False


@pytest.mark.parametrize("encoding", ["webm/opus", "audio/webm;codecs=opus", "ogg/opus", "audio/ogg; codecs=opus"])
def test_browser_container_streams_need_no_rate(encoding):
    request = parse_start({"type": "start", "encoding": encoding})
    assert request.container in ("matroska", "ogg") and request.pcm_format is None


@pytest.mark.parametrize(
    ("message", "words"),
    [
        ({"rate": 4000}, "unsupported sample rate 4000"),
        ({"rate": 16000.5}, "unsupported sample rate"),
        ({"rate": None}, "unsupported sample rate None"),
        ({"rate": 16000, "encoding": "mp3"}, "unsupported encoding 'mp3'"),
        ({"rate": 16000, "channels": 0}, "channels must be"),
        ({"rate": 16000, "wake": "yes"}, "wake must be true or false"),
        ({"rate": 16000, "wake_models": ["/etc/passwd"]}, "wake_models must be a list of"),
        ({"rate": 16000, "options": {"asr.model": "x"}}, "cannot be set per stream"),
        ({"rate": 16000, "sample_rate": 16000}, "unknown start field(s) ['sample_rate']"),
    ],
)
def test_bad_start_names_the_problem(message, words):
    with pytest.raises(ProtocolError) as err:
        parse_start({"type": "start", "encoding": "pcm_s16le", **message})
    assert err.value.code == "bad_start" and words in err.value.message


def test_stream_options_apply_to_this_stream_only_and_are_validated():
    config = Config()
    request = parse_start({"type": "start", "rate": 16000, "wake": False, "options": {"vad.end_silence_ms": 400}})
    stream = request.stream_config(config)
    assert stream.vad.end_silence_ms == 400 and stream.wake.enabled is False
    assert config.vad.end_silence_ms == 700 and config.wake.enabled is True
    with pytest.raises(ProtocolError, match="end_silence_ms"):
        parse_start({"type": "start", "rate": 16000, "options": {"vad.end_silence_ms": 5}}).stream_config(config)


def test_wake_defaults_to_the_server_config():
    request = parse_start({"type": "start", "rate": 16000})
    assert request.stream_config(Config.model_validate({"wake": {"enabled": False}})).wake.enabled is False
    assert request.stream_config(Config()).wake.enabled is True


@pytest.mark.parametrize(("text", "code"), [("{not json", "bad_json"), ("[1, 2]", "bad_message"), ('{"kind": "start"}', "bad_message")])
def test_malformed_messages(text, code):
    with pytest.raises(ProtocolError) as err:
        parse_message(text)
    assert err.value.code == code
