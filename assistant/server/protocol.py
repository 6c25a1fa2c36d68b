"""The WebSocket protocol of ``/v1/stream``: client messages, their validation, close codes.

Client → server:

- ``{"type": "hello", "device": "kitchen", "area": "kitchen", "skills": ["media"]}`` (optional, first):
  this connection is that device, for as long as it lasts, streaming or not: the device's
  timers ring here and announcements come here; ``skills`` are plugins whose commands the
  device carries out itself (sent to it as ``command`` events). Optional ``token``.
- ``{"type": "start", "rate": 16000, "encoding": "pcm_s16le", "wake": true}`` opens a stream.
  Optional: ``channels`` (PCM, interleaved), ``wake_models`` (built-in names of the server's ``wake.engine``),
  ``backpressure`` (true: the server stops reading instead of dropping audio when it falls behind,
  for recordings sent faster than real time), ``token``, ``options`` (per-stream config overrides,
  e.g. ``{"vad.end_silence_ms": 500}``; only the keys in :data:`STREAM_OPTIONS`), ``device`` and
  ``area`` (as in ``hello``, for clients that send no ``hello``; without either the connection is
  a device of its own, forgotten when it closes).
- binary messages: audio in the announced encoding, any length up to ``server.max_message_bytes``.
- ``{"type": "stop"}``: end of audio; the server answers with the remaining events and ``done``.
  A new ``start`` may follow on the same connection.
- ``{"type": "command_done", "id": 3, "reply": "Paused.", "data": {...}}``: the answer to ``command`` 3.
- ``{"type": "text", "text": "what time is it"}``: a command typed instead of spoken, into the running
  stream: the same turn as a transcript (``transcript``, ``intent``, ``reply``, reply audio).
- ``{"type": "watch"}``: also receive what every device does (the page's hub view): each stream's turn
  events as ``hub`` events, and each device's ``device_status`` (state, running timers, ringing alarms).
  Like ``start`` and ``hello``, it may be the first message and carry the ``token``.
- ``{"type": "cancel", "device": "kitchen", "timer": 7}``: cancel that device's timer 7 (an id from its
  ``device_status``); ``{"type": "cancel", "device": "kitchen", "alarm": true}``: stop its ringing alarms.

Server → client: JSON events (``Event.to_dict``): the pipeline's (:mod:`assistant.events`) and the
transport's own (:mod:`assistant.server.messages`), plus binary messages right after a
``reply_audio`` event carrying its PCM. This module has no server dependencies so
clients (the satellite) share it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from assistant.audio.raw import PCM_FORMATS
from assistant.config import Config
from assistant.conversations.device import BadDevice, area_name, device_id
from assistant.server.untrusted import BadJson, loads, shown
from assistant.wake import BUILTIN

PATH = "/v1/stream"

PCM_ENCODINGS = {"pcm_s16le": "s16le", "pcm_f32le": "f32le"}
"""Raw encodings → the sample format name :mod:`assistant.audio.raw` knows."""

CONTAINER_ENCODINGS = {
    "webm/opus": "matroska",
    "webm": "matroska",
    "audio/webm": "matroska",
    "audio/webm;codecs=opus": "matroska",
    "ogg/opus": "ogg",
    "ogg": "ogg",
    "audio/ogg": "ogg",
    "audio/ogg;codecs=opus": "ogg",
}
"""Compressed container streams (what browsers' MediaRecorder produces) → the FFmpeg demuxer."""

MIN_RATE, MAX_RATE = 8000, 192000
MAX_CHANNELS = 8
MAX_TEXT_CHARS = 2000
"""The longest sentence a client may type (``text`` messages, ``POST /v1/understand``)."""

STREAM_OPTIONS = (
    "vad.aggressiveness",
    "vad.start_ms",
    "vad.end_silence_ms",
    "vad.no_speech_timeout_seconds",
    "vad.max_command_seconds",
    "vad.pre_roll_ms",
    "wake.threshold",
    "wake.trigger_frames",
)
"""Config keys a client may set for its own stream; anything touching files or models stays server-side."""


class CloseCode:
    """WebSocket close codes the server uses (4000-4999 are application codes)."""

    NORMAL = 1000
    GOING_AWAY = 1001
    UNSUPPORTED_DATA = 1003
    INVALID_TEXT = 1007
    """Sent by the protocol layer for a text message that is not UTF-8."""
    TOO_BIG = 1009
    """Sent by the protocol layer for a message over ``server.max_message_bytes``."""
    INTERNAL_ERROR = 1011
    RESTARTING = 1012
    """Sent by uvicorn when the server shuts down: clients should reconnect."""
    BUSY = 1013
    """``server.max_connections`` streams are already open: try again later."""
    UNAUTHORIZED = 4401
    """Missing or wrong token: nothing was processed."""
    TIMEOUT = 4408
    """Idle (nothing received for ``idle_timeout_seconds``), stalled (not reading for ``stall_timeout_seconds``),
    or no start message with the token within ``handshake_timeout_seconds``."""
    TRY_LATER = 4429
    """Too many wrong tokens from this address: it is shut out for the seconds the reason gives."""


class ProtocolError(ValueError):
    """A client message the server cannot act on; ``code`` is the ``error`` event's code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class StartRequest:
    encoding: str
    rate: int | None
    channels: int = 1
    wake: bool | None = None
    """None: the server's ``wake.enabled``."""
    wake_models: tuple[str, ...] = ()
    backpressure: bool = False
    token: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    device: Hello | None = None
    """The device the client says it is (``device``/``area`` fields), None when it did not say."""
    wake_scores: bool = False
    """Send ``wake_scores`` events: how close each wake model came to firing."""

    @property
    def pcm_format(self) -> str | None:
        """The raw sample format for PCM encodings, None for compressed containers."""
        return PCM_ENCODINGS.get(self.encoding)

    @property
    def container(self) -> str | None:
        return CONTAINER_ENCODINGS.get(self.encoding)

    def bytes_per_second(self) -> float:
        """Bytes of input per second of audio (an upper estimate for compressed streams: 128 kbit/s)."""
        fmt = self.pcm_format
        if fmt is None:
            return 16_000.0
        assert self.rate is not None
        return float(self.rate * self.channels * PCM_FORMATS[fmt].itemsize)

    def stream_config(self, config: Config) -> Config:
        """The server's config with this stream's wake choice and options applied (validated)."""
        sections: dict[str, dict[str, Any]] = {"wake": config.wake.model_dump(), "vad": config.vad.model_dump()}
        if self.wake is not None:
            sections["wake"]["enabled"] = self.wake
        if self.wake_models:
            engine = config.wake.engine
            if not set(self.wake_models) <= set(BUILTIN[engine]):
                raise ProtocolError("bad_start", f"this server's wake engine ({engine}) has the models {list(BUILTIN[engine])}, not {list(self.wake_models)}")
            sections["wake"]["models"] = list(self.wake_models)
            for per_model in ("thresholds", "sliding_windows"):
                sections["wake"][per_model] = {k: v for k, v in getattr(config.wake, per_model).items() if k in self.wake_models}
        for key, value in self.options.items():
            section, name = key.split(".", 1)
            sections[section][name] = value
        try:
            return config.model_copy(update={name: type(getattr(config, name)).model_validate(data) for name, data in sections.items()})
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
            raise ProtocolError("bad_start", f"invalid stream options: {problems}") from None


@dataclass(frozen=True)
class Hello:
    """Which device a connection is (``hello``, or ``device``/``area`` in ``start``)."""

    device: str
    area: str | None = None
    skills: frozenset[str] = frozenset()


MAX_SKILLS = 16


@dataclass(frozen=True)
class Cancel:
    """A ``cancel`` message: a device's timer (its job id), or with ``timer`` None its ringing alarms."""

    device: str
    timer: int | None = None


@dataclass(frozen=True)
class CommandDone:
    """A device's answer to a ``command``."""

    id: int
    reply: str
    data: dict[str, Any] | None = None


def parse_message(text: str) -> dict[str, Any]:
    """A text message as a JSON object with a string ``type``; anything else is a :class:`ProtocolError`."""
    try:
        message = loads(text)
    except BadJson as exc:
        raise ProtocolError("bad_json", f"text messages must be JSON within limits: {exc}") from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise ProtocolError("bad_message", 'a message must be a JSON object with a "type", e.g. {"type": "start", ...}')
    return message


def parse_start(message: dict[str, Any]) -> StartRequest:
    """Validate a ``start`` message; every problem is named so a client author can fix it."""
    known = {"type", "encoding", "rate", "channels", "wake", "wake_models", "backpressure", "token", "options", "device", "area", "wake_scores"}
    unknown = sorted(set(message) - known)
    if unknown:
        raise ProtocolError("bad_start", f"unknown start field(s) {shown(unknown)}; allowed: {sorted(known)}")
    device = _device(message, "bad_start") if "device" in message or "area" in message else None
    encoding = message.get("encoding", "pcm_s16le")
    if not isinstance(encoding, str):
        raise ProtocolError("bad_start", f'encoding must be a string such as "pcm_s16le", got {shown(encoding)}')
    encoding = encoding.strip().lower().replace(" ", "")
    if encoding not in PCM_ENCODINGS and encoding not in CONTAINER_ENCODINGS:
        raise ProtocolError("bad_start", f"unsupported encoding {shown(message.get('encoding'))}; use one of {sorted(PCM_ENCODINGS)} or {sorted(set(CONTAINER_ENCODINGS))}")
    rate = message.get("rate")
    if encoding in PCM_ENCODINGS or rate is not None:
        if not _integer(rate) or not MIN_RATE <= rate <= MAX_RATE:
            needs = "PCM streams need" if encoding in PCM_ENCODINGS else "rate, when given, must be"
            raise ProtocolError("bad_start", f"unsupported sample rate {shown(rate)}: {needs} an integer from {MIN_RATE} to {MAX_RATE} Hz")
    channels = message.get("channels", 1)
    if not _integer(channels) or not 1 <= channels <= MAX_CHANNELS:
        raise ProtocolError("bad_start", f"channels must be an integer from 1 to {MAX_CHANNELS}, got {shown(channels)}")
    wake = message.get("wake")
    backpressure = message.get("backpressure", False)
    wake_scores = message.get("wake_scores", False)
    for name, value in (("wake", wake), ("backpressure", backpressure), ("wake_scores", wake_scores)):
        if value is not None and not isinstance(value, bool):
            raise ProtocolError("bad_start", f"{name} must be true or false, got {shown(value)}")
    models = message.get("wake_models")
    models = [] if models is None else models
    known = sorted(set().union(*BUILTIN.values()))
    if not isinstance(models, list) or not all(isinstance(m, str) and m in known for m in models):
        raise ProtocolError("bad_start", f"wake_models must be a list of {known}, got {shown(models)}")
    options = message.get("options")
    options = {} if options is None else options
    if not isinstance(options, dict):
        raise ProtocolError("bad_start", f"options must be an object of config keys, got {shown(options)}")
    refused = sorted(set(options) - set(STREAM_OPTIONS))
    if refused:
        raise ProtocolError("bad_start", f"options {shown(refused)} cannot be set per stream; allowed: {list(STREAM_OPTIONS)}")
    token = message.get("token")
    if token is not None and not isinstance(token, str):
        raise ProtocolError("bad_start", f"token must be a string, got {type(token).__name__}")
    return StartRequest(
        encoding=encoding,
        rate=rate,
        channels=channels,
        wake=wake,
        wake_models=tuple(models),
        backpressure=backpressure,
        token=token,
        options=dict(options),
        device=device,
        wake_scores=wake_scores,
    )


def parse_hello(message: dict[str, Any]) -> Hello:
    """Validate a ``hello`` message (which device this connection is)."""
    known = {"type", "device", "area", "skills", "token"}
    unknown = sorted(set(message) - known)
    if unknown:
        raise ProtocolError("bad_hello", f"unknown hello field(s) {shown(unknown)}; allowed: {sorted(known)}")
    if "device" not in message:
        raise ProtocolError("bad_hello", 'hello needs the "device" id, e.g. {"type": "hello", "device": "kitchen", "area": "kitchen"}')
    hello = _device(message, "bad_hello")
    skills = message.get("skills", [])
    if not isinstance(skills, list) or len(skills) > MAX_SKILLS or not all(isinstance(x, str) and re.fullmatch(_SKILL, x) for x in skills):
        raise ProtocolError("bad_hello", f"skills must be a list of up to {MAX_SKILLS} plugin names such as \"media\", got {shown(skills)}")
    return Hello(hello.device, hello.area, frozenset(skills))


def parse_command_done(message: dict[str, Any]) -> CommandDone:
    reply, data, ident = message.get("reply", ""), message.get("data"), message.get("id")
    if not _integer(ident) or not isinstance(reply, str) or (data is not None and not isinstance(data, dict)):
        raise ProtocolError("bad_command_done", 'command_done needs the command\'s integer "id", a "reply" string and optionally a "data" object')
    return CommandDone(ident, reply, data)


def parse_text(message: dict[str, Any]) -> str:
    """A ``text`` message: the sentence, stripped; anything else is a :class:`ProtocolError`."""
    unknown = sorted(set(message) - {"type", "text"})
    if unknown:
        raise ProtocolError("bad_text", f'unknown text field(s) {shown(unknown)}; send {{"type": "text", "text": "what time is it"}}')
    text = message.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ProtocolError("bad_text", f'a text message needs a non-empty "text", e.g. {{"type": "text", "text": "what time is it"}}; got {shown(text)}')
    if len(text) > MAX_TEXT_CHARS:
        raise ProtocolError("bad_text", f"the text is {len(text)} characters; the limit is {MAX_TEXT_CHARS}")
    return text.strip()


def parse_cancel(message: dict[str, Any]) -> Cancel:
    """Validate a ``cancel`` message: the device, and either a ``timer`` id or ``"alarm": true``."""
    example = '{"type": "cancel", "device": "kitchen", "timer": 7} or {"type": "cancel", "device": "kitchen", "alarm": true}'
    unknown = sorted(set(message) - {"type", "device", "timer", "alarm"})
    if unknown:
        raise ProtocolError("bad_cancel", f"unknown cancel field(s) {shown(unknown)}; send {example}")
    device = _device(message, "bad_cancel").device
    timer, alarm = message.get("timer"), message.get("alarm")
    if (timer is None) == (alarm is None) or (timer is not None and not _integer(timer)) or (alarm is not None and alarm is not True):
        raise ProtocolError("bad_cancel", f"cancel needs either a timer's integer id or \"alarm\": true; send {example}")
    return Cancel(device, timer)


_SKILL = r"[A-Za-z_][A-Za-z0-9_-]{0,39}"


def _device(message: dict[str, Any], code: str) -> Hello:
    """The ``device`` and ``area`` of a message, validated (a missing device is an error)."""
    try:
        return Hello(device_id(message.get("device")), area_name(message.get("area")))
    except BadDevice as exc:
        raise ProtocolError(code, str(exc)) from None


def _integer(value: Any) -> bool:
    """An integer, and not a bool (JSON true is not a count)."""
    return isinstance(value, int) and not isinstance(value, bool)
