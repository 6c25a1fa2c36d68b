"""Load and validate the configuration.

One YAML file, validated completely at start so a typo fails fast with the key,
the value and what is allowed, instead of surfacing as an odd behaviour an hour
later. The defaults here are the source of truth; the top-level ``config.yaml``
repeats them with comments (a test keeps the two identical).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from platformdirs import user_config_path
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from assistant.errors import ConfigError

DEFAULT_CONFIG_ENV = "ASSISTANT_CONFIG"

DEVICE_ID = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"
"""What a device id may be (config, the WebSocket ``hello``/``start``, HTTP bodies): short, no spaces."""

AREA = r"^[A-Za-z][A-Za-z0-9' -]{0,47}$"
"""What an area name may be: a few words, as it is said ("living room", "kid's room")."""

AreaName = Annotated[str, StringConstraints(pattern=AREA)]
SkillName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_-]{0,39}$")]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ProcessingConfig(_Section):
    """The audio front end (assistant/audio/processing.py): WebRTC noise suppression and automatic gain."""

    enabled: bool = False
    noise_suppression: int = Field(default=2, ge=0, le=4)
    auto_gain: int = Field(default=0, ge=0, le=31)
    """The level automatic gain aims at, in -dBFS (1-31); 0 = no automatic gain."""


class AudioConfig(_Section):
    input_device: int | str | None = None
    output_device: int | str | None = None
    device_rate: int | None = Field(default=None, ge=8000, le=192000)
    channel: Literal["mix"] | int = "mix"
    queue_seconds: float = Field(default=2.0, gt=0, le=30)
    retry_seconds: float = Field(default=3.0, gt=0, le=60)
    block_ms: int = Field(default=20, ge=10, le=80, multiple_of=10)
    """``assistant run``'s microphone hands over this much audio at a time: the end of a command is seen up to one
    block after it happens. The wake engines still score 80 ms frames (:mod:`assistant.wake.framed`)."""
    processing: ProcessingConfig = Field(default_factory=ProcessingConfig)

    @property
    def block_samples(self) -> int:
        """``block_ms`` in samples at the pipeline's rate (imported here: the config loads before any audio)."""
        from assistant.audio.convert import SAMPLE_RATE

        return self.block_ms * SAMPLE_RATE // 1000


WakeEngine = Literal["microwakeword", "openwakeword"]


class WakeConfig(_Section):
    enabled: bool = True
    engine: WakeEngine = "microwakeword"
    models: list[str] = Field(default_factory=lambda: ["hey_jarvis"], min_length=1)
    threshold: float | None = Field(default=None, gt=0, lt=1)
    """None: the engine's own default (0.5 for openWakeWord, each microWakeWord model's probability_cutoff)."""
    thresholds: dict[str, float] = Field(default_factory=dict)
    sliding_windows: dict[str, Annotated[int, Field(ge=1, le=100)]] = Field(default_factory=dict)
    trigger_frames: int = Field(default=1, ge=1, le=20)
    refractory_seconds: float = Field(default=2.0, ge=0, le=30)
    buffer_seconds: float = Field(default=1.5, ge=0.5, le=10)


class VadConfig(_Section):
    aggressiveness: int = Field(default=2, ge=0, le=3)
    frame_ms: Literal[10, 20, 30] = 30
    start_ms: int = Field(default=210, ge=10, le=1000)
    end_silence_ms: int = Field(default=700, ge=100, le=5000)
    no_speech_timeout_seconds: float = Field(default=4.0, gt=0, le=60)
    max_command_seconds: float = Field(default=10.0, gt=0, le=120)
    pre_roll_ms: int = Field(default=300, ge=0, le=2000)
    adaptive_end: bool = True
    speculate_ms: int = Field(default=50, ge=30, le=5000)
    noisy_speculate_ms: int = Field(default=100, ge=30, le=5000)
    closed_silence_ms: int = Field(default=150, ge=30, le=5000)
    open_silence_ms: int = Field(default=300, ge=30, le=5000)
    open_min_snr_db: float = Field(default=30.0, ge=0, le=100)


class AsrConfig(_Section):
    engine: Literal["vosk", "whisper", "none"] = "vosk"
    model: str | None = None
    grammar: bool = True
    auto_download: bool = False
    beam_size: int = Field(default=5, ge=1, le=10)
    cpu_threads: int | None = Field(default=1, ge=1, le=64)
    """whisper: threads for one decode; None = one per core, at most 4. One is faster for commands: a decoder
    step of tiny.en is too small to share (README "Speed": the A/B that chose it); more help the 30 s windows
    of long audio."""
    workers: int = Field(default=2, ge=1, le=16)
    """Commands read at once in this process (every stream of a server shares them; whisper loads one replica
    per worker): more than the cores only queue inside them (README "Backpressure and limits": the table that chose it)."""
    window: Literal["cascade", "short", "full"] = "cascade"
    greedy_first: bool = True
    """whisper, commands: a greedy reading of the short window first, kept when whisper is sure of it and a
    template matches it word for word without a free-text slot; the beam search (the n-best) only otherwise
    (README "Speed": the table)."""
    rescore: bool = False
    """whisper: score the templates' nearest sentences on the audio when no reading matches one (README "In kitchen noise")."""
    compute_type: Literal["int8", "int8_float32", "float32"] = "int8"
    model_url: str = "https://alphacephei.com/vosk/models/"


class IntentsConfig(_Section):
    paths: list[str] = Field(default_factory=list)
    enable: list[str] = Field(default_factory=list)
    disable: list[str] = Field(default_factory=list)
    fuzzy_threshold: float = Field(default=0.75, ge=0, le=1)
    handler_timeout_seconds: float = Field(default=5.0, gt=0, le=300)


class TtsConfig(_Section):
    engine: Literal["pyttsx3", "piper", "none"] = "pyttsx3"
    voice: str | None = None
    rate: int = Field(default=175, ge=50, le=500)
    volume: float = Field(default=1.0, ge=0, le=1)
    piper_model: str | None = None


class FeedbackConfig(_Section):
    chimes: bool = True
    barge_in: bool = True
    echo_tail_seconds: float = Field(default=0.3, ge=0, le=5)


class ServerConfig(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8765, ge=1, le=65535)
    token: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    max_connections: int = Field(default=32, ge=1, le=10000)
    """Stream slots; only a connection that has shown the token takes one."""
    max_message_bytes: int = Field(default=1_048_576, ge=1024)
    idle_timeout_seconds: float = Field(default=60.0, gt=0)
    stall_timeout_seconds: float = Field(default=10.0, gt=0)
    queue_seconds: float = Field(default=5.0, gt=0, le=120)
    feeder_threads: int | None = Field(default=None, ge=1, le=64)
    """Threads that feed every live stream's audio to its pipeline (wake word, VAD); None = what suits the
    wake engine (see :func:`assistant.server.feeders.feeder_threads`)."""
    max_upload_bytes: int = Field(default=50 * 1024 * 1024, ge=1024)
    handshake_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    """A WebSocket without an Authorization header must send its start message, with the token, this soon."""
    max_pending_connections: int = Field(default=16, ge=1, le=10000)
    """WebSockets still waiting to show their token: a budget of their own, apart from ``max_connections``."""
    max_pending_per_address: int = Field(default=4, ge=1, le=10000)
    """Of those, how many one address may hold, so one stranger cannot take the whole budget."""
    auth_failures_allowed: int = Field(default=5, ge=0)
    """Wrong tokens an address may send before it is shut out."""
    auth_backoff_max_seconds: float = Field(default=60.0, gt=0, le=86400)
    """Each wrong token past those shuts the address out for 1, 2, 4, ... seconds, at most this long."""


class SatelliteConfig(_Section):
    server: str = Field(default="ws://127.0.0.1:8765", pattern=r"^wss?://")
    token: str | None = None
    wake: Literal["hub", "local"] = "hub"
    tls_ca: str | None = None
    playback: bool = True
    reconnect_min_seconds: float = Field(default=0.5, gt=0, le=60)
    reconnect_max_seconds: float = Field(default=10.0, gt=0, le=600)
    device: str | None = Field(default=None, pattern=DEVICE_ID)
    area: str | None = Field(default=None, pattern=AREA)
    skills: list[SkillName] = Field(default_factory=list, max_length=16)


class WyomingConfig(_Section):
    """`assistant wyoming`: the Wyoming server Home Assistant uses for wake word, speech to text, speech and intents."""

    uri: str = Field(default="tcp://127.0.0.1:10700", pattern=r"^(tcp://(\[[0-9A-Fa-f:.]+\]|[^/:\[\]]+):[0-9]{1,5}|unix://.+)$")
    zeroconf: bool = True
    name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9 _-]{0,62}$")
    """The zeroconf service name Home Assistant discovers; None = ``assistant-<host name>``."""
    language: str = Field(default="en", pattern=r"^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})*$")
    """Told to Home Assistant for what does not say its own language (the intents, a vosk model given by path)."""
    max_connections: int = Field(default=16, ge=1, le=1000)
    max_event_bytes: int = Field(default=1_048_576, ge=1024, le=64 * 1_048_576)
    """The largest data or payload of one event (a header line is at most 64 KiB)."""
    max_audio_seconds: float = Field(default=30.0, gt=0, le=300)
    """Audio transcribed per request; more is ignored (an error says so)."""
    timeout_seconds: float = Field(default=60.0, gt=0, le=3600)
    """A client that sends nothing, or reads nothing we send, this long is disconnected."""


class AssistantConfig(_Section):
    """This machine as a device, the areas commands can name, and how devices' announcements and alarms behave."""

    device: str = Field(default="local", pattern=DEVICE_ID)
    area: str | None = Field(default=None, pattern=AREA)
    areas: list[AreaName] = Field(
        default_factory=lambda: [
            "kitchen", "living room", "dining room", "bedroom", "bathroom", "office",
            "hallway", "garage", "basement", "kids room", "guest room", "garden",
        ],  # fmt: skip
        max_length=200,
    )
    announcement_hold_seconds: float = Field(default=600.0, ge=0, le=7 * 86400)
    alarm_seconds: float = Field(default=60.0, gt=0, le=3600)
    alarm_pause_seconds: float = Field(default=2.0, ge=0, le=60)
    max_devices: int = Field(default=1000, ge=1, le=100_000)
    device_idle_seconds: float = Field(default=3600.0, gt=0)


class LoggingConfig(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "WARNING"


class Config(_Section):
    assistant: AssistantConfig = Field(default_factory=AssistantConfig)
    audio: AudioConfig = Field(default_factory=AudioConfig)
    wake: WakeConfig = Field(default_factory=WakeConfig)
    vad: VadConfig = Field(default_factory=VadConfig)
    asr: AsrConfig = Field(default_factory=AsrConfig)
    intents: IntentsConfig = Field(default_factory=IntentsConfig)
    plugins: dict[str, dict[str, Any]] = Field(default_factory=dict)
    tts: TtsConfig = Field(default_factory=TtsConfig)
    feedback: FeedbackConfig = Field(default_factory=FeedbackConfig)
    server: ServerConfig = Field(default_factory=ServerConfig)
    satellite: SatelliteConfig = Field(default_factory=SatelliteConfig)
    wyoming: WyomingConfig = Field(default_factory=WyomingConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)


def default_config_path() -> Path | None:
    """Where ``assistant`` looks when ``--config`` is not given: env, ./config.yaml, the user config dir."""
    env = os.environ.get(DEFAULT_CONFIG_ENV)
    candidates = [Path(env)] if env else []
    candidates += [Path("config.yaml"), user_config_path("assistant") / "config.yaml"]
    return next((p for p in candidates if p.is_file()), None)


def load_config(path: Path | str | None = None, overrides: dict[str, Any] | None = None) -> Config:
    """Read ``path`` (or the default location), apply dotted-key ``overrides`` and validate.

    Raises :class:`ConfigError` naming the file, the key, the value and what is allowed.
    """
    source = Path(path) if path is not None else default_config_path()
    data: dict[str, Any] = {}
    if source is not None:
        data = _read_yaml(source)
    for key, value in (overrides or {}).items():
        _set_dotted(data, key, value)
    where = str(source) if source is not None else "built-in defaults"
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, data, where)) from None


def parse_override(text: str) -> tuple[str, Any]:
    """``wake.threshold=0.6`` → ("wake.threshold", 0.6); the value is parsed as a YAML scalar."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--set expects KEY=VALUE (for example wake.threshold=0.6), got {text!r}")
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError as exc:
        raise ConfigError(f"--set {key}: the value {raw!r} is not valid YAML: {exc}") from None
    return key.strip(), value


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the configuration file {path}: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of sections (audio:, wake:, ...)")
    return data


def _set_dotted(data: dict[str, Any], key: str, value: Any) -> None:
    node = data
    *parents, leaf = key.split(".")
    for part in parents:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[leaf] = value


def _describe(exc: ValidationError, data: dict[str, Any], where: str) -> str:
    lines = [f"invalid configuration ({where}):"]
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        key = ".".join(loc)
        if err["type"] == "extra_forbidden":
            allowed = ", ".join(_allowed_keys(loc[:-1]))
            lines.append(f"  unknown key '{key}'; allowed here: {allowed}")
        else:
            value = _lookup(data, err["loc"])
            lines.append(f"  {key} = {value!r}: {err['msg']}")
    return "\n".join(lines)


def _allowed_keys(parent: list[str]) -> list[str]:
    model: type[BaseModel] = Config
    for part in parent:
        annotation = model.model_fields[part].annotation
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return list(model.model_fields)


def _lookup(data: Any, loc: tuple[Any, ...]) -> Any:
    for part in loc:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
        else:
            return None
    return data
