"""The OpenAPI 3.1 description of the HTTP API (served at ``/openapi.json``).

Written out rather than generated: a handful of endpoints do not need a framework to
describe them, and the WebSocket protocol, which OpenAPI cannot express, is
documented in prose on ``/v1/stream``.
"""

from __future__ import annotations

from typing import Any

from assistant import __version__
from assistant.server.protocol import CONTAINER_ENCODINGS, MAX_TEXT_CHARS, PCM_ENCODINGS, STREAM_OPTIONS, CloseCode

_ERROR = {"$ref": "#/components/schemas/Error"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    reasons = {
        400: "Bad request (the message says what is wrong)",
        401: "Missing or wrong token",
        411: "No Content-Length",
        413: "Too large (refused from Content-Length, or as soon as a chunked body passes the limit; the connection closes)",
        409: "The device is not connected",
        415: "Not audio / unsupported content type",
        429: "Too many wrong tokens from this address: retry after the Retry-After seconds",
        500: "A server bug (logged with details)",
        503: "The model behind this endpoint is not available (the message says how to install it)",
    }
    return {str(c): _json(_ERROR, reasons[c]) for c in codes}


_STREAM_DOC = f"""WebSocket (upgrade with GET). One audio stream at a time per connection; several in sequence.

Client → server:
- `{{"type": "hello", "device": "kitchen", "area": "kitchen", "skills": ["media", "volume"]}}` (optional,
  first): this connection is that device while it lasts, streaming or not: its timers ring here and
  announcements come here. `skills`: plugins whose commands the device carries out itself (sent to it as
  `command` events).
- `{{"type": "start", "rate": 16000, "encoding": "pcm_s16le", "wake": true}}` opens a stream.
  Encodings: {", ".join(sorted(PCM_ENCODINGS))} (interleaved; `channels` optional), or a compressed
  container stream: {", ".join(sorted(set(CONTAINER_ENCODINGS)))} (no rate needed).
  Optional: `wake_models` (built-in model names of the server's `wake.engine`), `backpressure` (true: the server stops reading instead of
  dropping audio when it falls behind), `token`, `options` (per-stream config: {", ".join(STREAM_OPTIONS)}),
  `device` and `area` (as in `hello`; without either the connection is a device of its own),
  `wake_scores` (true: `wake_scores` events about five times a second).
- binary messages: audio, any length up to server.max_message_bytes.
- `{{"type": "stop"}}`: end of audio; the server sends the remaining events, then `done`.
- `{{"type": "command_done", "id": 3, "reply": "Paused."}}`: the answer to `command` 3.
- `{{"type": "text", "text": "what time is it"}}` (up to {MAX_TEXT_CHARS} characters): a command typed instead of
  spoken, into the running stream (which may send no audio at all): `transcript`, `intent`, `reply`, reply audio.
- `{{"type": "watch"}}`: also receive what every device does: each stream's turn events wrapped in a `hub` event
  (`session`, `device`, `area`, `event`), and each device's `device_status` (`state`: offline, idle, listening,
  capturing, understanding or speaking; `streams`; `timers` with `id`, `label`, `left`; ringing `alarms`;
  `forgotten`): first the recent ones, then `watching`, then live. A watching connection is not closed for being idle.
- `{{"type": "cancel", "device": "kitchen", "timer": 7}}`: cancel a device's timer (an id from its `device_status`);
  `{{"type": "cancel", "device": "kitchen", "alarm": true}}`: stop the alarms ringing on it.

Server → client: JSON events `{{"type": ..., "t": seconds, ...}}`: `ready`, `state`, `wake`, `speech_start`,
`partial`, `speech_end`, `transcript`, `intent`/`no_intent`, `reply`, `reply_audio` (followed by binary
messages totalling `bytes` bytes of mono s16le PCM at `rate`), `reply_audio_stop`, `speak_start`,
`speak_end`, `overload` (frames dropped, or `recognitions_waiting`: readings ahead of this command's), `audio_stats`, `wake_scores` (`scores` and `thresholds` per
model), `error` (`code`, `message`; the connection stays open), `done`; and, streaming or not: `alarm` (`ringing`:
an alarm rings on this device until "stop", said without the wake word, so stream meanwhile), `stopped`, `listen`
(a question was asked while no stream runs: stream one command, no wake word needed; a running stream hears the
answer by itself, `state` `capturing`), `command` (`id`, `intent`, `slots`: carry it
out); `hub`, `device_status` and `watching` when watching.

Authentication: the token in an `Authorization: Bearer` header, or else in the first message, which must be
a `start`, `hello` or `watch` sent within server.handshake_timeout_seconds. Until then the connection holds no stream slot.

Close codes: {CloseCode.UNAUTHORIZED} wrong/missing token (nothing processed), {CloseCode.TRY_LATER} too many
wrong tokens from this address (retry after the seconds in the reason), {CloseCode.TIMEOUT} idle or stalled
client, or no start with the token in time, {CloseCode.TOO_BIG} message over the size limit,
{CloseCode.INVALID_TEXT} a text message that is not UTF-8, {CloseCode.BUSY} too many connections
(streaming, or waiting to authenticate), {CloseCode.INTERNAL_ERROR} server bug, {CloseCode.RESTARTING}
server restarting (reconnect), {CloseCode.NORMAL} normal."""


def spec(server_url: str) -> dict[str, Any]:
    bearer = [{"bearer": []}]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "assistant",
            "version": __version__,
            "description": "An offline voice assistant: stream audio for wake word, speech and intents; transcribe files; understand text.",
        },
        "servers": [{"url": server_url}],
        "paths": {
            "/v1/transcribe": {
                "post": {
                    "summary": "Transcribe an audio file (VAD-segmented, no wake word)",
                    "security": bearer,
                    "requestBody": {
                        "required": True,
                        "content": {
                            "multipart/form-data": {"schema": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}, "required": ["file"]}},
                            "audio/*": {"schema": {"type": "string", "format": "binary"}},
                        },
                    },
                    "responses": {"200": _json({"$ref": "#/components/schemas/Transcription"}, "The transcript"), **_errors(400, 401, 411, 413, 415, 429, 500, 503)},
                }
            },
            "/v1/understand": {
                "post": {
                    "summary": "Recognise the intent in a sentence and run its handler",
                    "security": bearer,
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "text": {"type": "string", "maxLength": MAX_TEXT_CHARS},
                                        "device": {"type": "string", "description": "whose conversation: its timers, its pending question (default: http)"},
                                        "area": {"type": "string", "description": "where the device is (commands may name areas)"},
                                    },
                                    "required": ["text"],
                                }
                            }
                        },
                    },
                    "responses": {"200": _json({"$ref": "#/components/schemas/Understanding"}, "The intent and the reply"), **_errors(400, 401, 413, 429, 500, 503)},
                }
            },
            "/v1/announce": {
                "post": {
                    "summary": "Speak a text on a device (a satellite, a browser, the hub's own speaker)",
                    "description": "A device that is not connected hears it when it reconnects within assistant.announcement_hold_seconds (202).",
                    "security": bearer,
                    "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Speech"}}}},
                    "responses": {
                        "200": _json({"$ref": "#/components/schemas/Delivery"}, "Being spoken on the device"),
                        "202": _json({"$ref": "#/components/schemas/Delivery"}, "Held until the device reconnects"),
                        **_errors(400, 401, 413, 429, 500, 503),
                    },
                }
            },
            "/v1/converse": {
                "post": {
                    "summary": "Ask a connected device a question: speak the text, then hear its next command without the wake word",
                    "security": bearer,
                    "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Speech"}}}},
                    "responses": {"200": _json({"$ref": "#/components/schemas/Delivery"}, "Being asked"), **_errors(400, 401, 409, 413, 429, 500, 503)},
                }
            },
            "/v1/intents": {
                "get": {
                    "summary": "What the assistant understands: each plugin, its intents, slots and example sentences (as `assistant intents`)",
                    "security": bearer,
                    "responses": {"200": _json({"$ref": "#/components/schemas/Catalog"}, "The loaded plugins"), **_errors(401, 429, 500, 503)},
                }
            },
            "/v1/stream": {
                "get": {
                    "summary": "Stream audio over a WebSocket; receive events",
                    "description": _STREAM_DOC,
                    "security": bearer,
                    "responses": {"101": {"description": "Switching protocols to WebSocket"}},
                }
            },
            "/health": {"get": {"summary": "Liveness and load", "responses": {"200": _json({"type": "object"}, "Status")}}},
            "/metrics": {
                "get": {
                    "summary": "Prometheus metrics: stage latency histograms, active streams, dropped frames, errors",
                    "security": bearer,
                    "responses": {"200": {"description": "Prometheus text format", "content": {"text/plain": {"schema": {"type": "string"}}}}, **_errors(401, 429)},
                }
            },
            "/openapi.json": {"get": {"summary": "This document", "responses": {"200": _json({"type": "object"}, "OpenAPI 3.1")}}},
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "server.token; required when the server listens beyond loopback"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "properties": {"error": {"type": "object", "properties": {"code": {"type": "string"}, "message": {"type": "string"}}, "required": ["code", "message"]}},
                },
                "Event": {
                    "type": "object",
                    "description": "A pipeline event, the same shape as `assistant run --json`",
                    "properties": {"type": {"type": "string"}, "t": {"type": "number"}},
                    "required": ["type", "t"],
                    "additionalProperties": True,
                },
                "Transcription": {
                    "type": "object",
                    "properties": {
                        "text": {"type": "string"},
                        "duration": {"type": "number"},
                        "segments": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "start": {"type": "number"},
                                    "end": {"type": "number"},
                                    "text": {"type": "string"},
                                    "confidence": {"type": ["number", "null"]},
                                    "words": {"type": "array", "items": {"type": "object"}},
                                },
                            },
                        },
                        "events": {"type": "array", "items": {"$ref": "#/components/schemas/Event"}},
                        "warnings": {
                            "type": "array",
                            "items": {"type": "string"},
                            "description": "audio that could not be decoded (a corrupt or cut-off file): what and how much; empty when all of it decoded",
                        },
                    },
                    "required": ["text", "duration", "segments", "warnings"],
                },
                "Speech": {
                    "type": "object",
                    "properties": {"device": {"type": "string"}, "text": {"type": "string", "maxLength": MAX_TEXT_CHARS}},
                    "required": ["device", "text"],
                },
                "Delivery": {
                    "type": "object",
                    "properties": {"device": {"type": "string"}, "delivered": {"type": "boolean"}, "held_seconds": {"type": ["number", "null"]}},
                    "required": ["device", "delivered"],
                },
                "Catalog": {
                    "type": "object",
                    "properties": {
                        "plugins": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "name": {"type": "string"},
                                    "description": {"type": "string"},
                                    "intents": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "properties": {
                                                "name": {"type": "string"},
                                                "plugin": {"type": "string"},
                                                "description": {"type": "string"},
                                                "slots": {"type": "array", "items": {"type": "string"}},
                                                "examples": {"type": "array", "items": {"type": "string"}},
                                            },
                                        },
                                    },
                                },
                            },
                        },
                        "off": {"type": "array", "items": {"type": "string"}, "description": "Plugins available but switched off"},
                    },
                    "required": ["plugins", "off"],
                },
                "Understanding": {
                    "type": "object",
                    "properties": {
                        "text": {"type": "string"},
                        "device": {"type": "string"},
                        "intent": {"oneOf": [{"$ref": "#/components/schemas/Event"}, {"type": "null"}]},
                        "no_intent": {"oneOf": [{"$ref": "#/components/schemas/Event"}, {"type": "null"}]},
                        "reply": {"$ref": "#/components/schemas/Event"},
                        "follow_up": {"type": "boolean"},
                        "error": {"oneOf": [{"$ref": "#/components/schemas/Event"}, {"type": "null"}]},
                    },
                    "required": ["text", "intent", "reply"],
                },
            },
        },
    }
