"""Configuration: the shipped config.yaml, validation messages, CLI overrides."""

from __future__ import annotations

import yaml
import pytest

from assistant.config import Config, load_config, parse_override
from assistant.errors import ConfigError
from tests.helpers import REPO, cli


def test_shipped_config_yaml_is_exactly_the_defaults():
    """config.yaml documents every key with its default; the two must never drift apart."""
    shipped = yaml.safe_load((REPO / "config.yaml").read_text())
    assert Config.model_validate(shipped) == Config()
    assert set(shipped) == set(Config.model_fields)
    for section, model in Config.model_fields.items():
        if isinstance(shipped[section], dict) and hasattr(model.annotation, "model_fields"):
            assert set(shipped[section]) == set(model.annotation.model_fields), section


def test_unknown_key_names_the_key_and_what_is_allowed(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("vad:\n  silence_ms: 500\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    text = str(err.value)
    assert "vad.silence_ms" in text and "end_silence_ms" in text and str(path) in text


def test_bad_value_names_key_value_and_range(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("vad:\n  aggressiveness: 5\nasr:\n  engine: kaldi\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    text = str(err.value)
    assert "vad.aggressiveness = 5" in text and "less than or equal to 3" in text
    assert "asr.engine = 'kaldi'" in text and "'vosk'" in text and "'whisper'" in text


def test_overrides_apply_and_are_validated():
    config = load_config(None, {"wake.threshold": 0.7, "vad.frame_ms": 20})
    assert config.wake.threshold == 0.7 and config.vad.frame_ms == 20
    with pytest.raises(ConfigError, match="wake.threshold = 3"):
        load_config(None, {"wake.threshold": 3})


def test_parse_override_reads_yaml_scalars():
    assert parse_override("wake.models=[alexa, hey_jarvis]") == ("wake.models", ["alexa", "hey_jarvis"])
    assert parse_override("audio.input_device=2") == ("audio.input_device", 2)
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        parse_override("wake.threshold")


def test_cli_config_error_exits_2_without_traceback(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("wake:\n  treshold: 0.4\n")
    result = cli("wake", "--config", str(path), "x.wav")
    assert result.returncode == 2
    err = result.stderr.decode()
    assert "wake.treshold" in err and "threshold" in err and "Traceback" not in err


def test_cli_flag_overrides_config_file(tmp_path):
    """--threshold beats the file; a bad flag value is reported like a bad config line."""
    path = tmp_path / "c.yaml"
    path.write_text("wake:\n  threshold: 0.5\n")
    result = cli("wake", "--config", str(path), "--threshold", "1.5", "x.wav")
    assert result.returncode == 2 and "wake.threshold = 1.5" in result.stderr.decode()


def test_not_yaml_is_a_clear_error(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("wake: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(path)
