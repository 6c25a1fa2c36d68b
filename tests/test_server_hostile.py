"""Hostile input against a running server: every malformed message gets an ``error`` event, a close code or
a 4xx JSON answer, one log line and no traceback; HTTP bodies are refused while they are read.

Each case was a crash or a silent drop before issue 12 (a 5,000-digit integer: dropped without a close
frame and a ValueError traceback; 5,000-deep nesting: dropped, nothing logged; ``"token": 12345``:
AttributeError; a lone surrogate: UnicodeEncodeError; 100,000 nested brackets over HTTP: a plain-text
500; a 200 MB body: read whole before the 413).
"""

from __future__ import annotations

import asyncio
import json
import logging

import httpx
import psutil
import pytest
import websockets

from tests.server_helpers import START, config, running_server

TOKEN = "correct horse battery staple"
START_TEXT = json.dumps(START)


def _start_with(extra: str) -> str:
    """The start message with a raw JSON member appended, for values json.dumps cannot produce."""
    return START_TEXT[:-1] + ", " + extra + "}"


HOSTILE_JSON = {
    "5000-digit integer": (_start_with('"channels": ' + "9" * 5000), "at most 40"),
    "300-digit exponent": (_start_with('"channels": 1e' + "9" * 300), "at most 40"),
    "float out of range": (_start_with('"channels": 1e999'), "out of range"),
    "NaN": (_start_with('"options": {"wake.threshold": NaN}'), "NaN is not JSON"),
    "nested 5000 deep": (_start_with('"options": ' + "[" * 5000 + "]" * 5000), "nested too deeply"),
    "nested 500 deep": (_start_with('"options": ' + "{\"a\": " * 500 + "1" + "}" * 500), "nested too deeply"),
    "lone surrogate": ('{"type": "start", "encoding": "\\ud800"}', "lone surrogate"),
    "lone surrogate in a key": ('{"type": "stop", "\\udfff": 1}', "lone surrogate"),
    "not json": ("{type: start}", "not JSON"),
}

WRONG_TYPES = [
    ("type", 5, "bad_message", '"type"'),
    ("type", None, "bad_message", '"type"'),
    ("type", ["start"], "bad_message", '"type"'),
    ("encoding", 16000, "bad_start", "encoding must be a string"),
    ("encoding", {"pcm_s16le": True}, "bad_start", "encoding must be a string"),
    ("rate", "16000", "bad_start", "unsupported sample rate '16000'"),
    ("rate", True, "bad_start", "unsupported sample rate True"),
    ("rate", [16000], "bad_start", "unsupported sample rate [16000]"),
    ("channels", "1", "bad_start", "channels must be an integer"),
    ("channels", 1.0, "bad_start", "channels must be an integer"),
    ("wake", "yes", "bad_start", "wake must be true or false"),
    ("wake", 1, "bad_start", "wake must be true or false"),
    ("wake_models", "alexa", "bad_start", "wake_models must be a list"),
    ("wake_models", 0, "bad_start", "wake_models must be a list"),
    ("wake_models", [1], "bad_start", "wake_models must be a list"),
    ("wake_models", [["alexa"]], "bad_start", "wake_models must be a list"),
    ("backpressure", "no", "bad_start", "backpressure must be true or false"),
    ("token", 12345, "bad_start", "token must be a string, got int"),
    ("token", ["secret"], "bad_start", "token must be a string, got list"),
    ("options", [1], "bad_start", "options must be an object"),
    ("options", 0, "bad_start", "options must be an object"),
    ("options", {"vad.start_ms": "lots"}, "bad_start", "start_ms"),
    ("options", {"vad.start_ms": [300]}, "bad_start", "start_ms"),
    ("options", {"wake.threshold": {"a": 1}}, "bad_start", "threshold"),
]


@pytest.fixture(scope="module")
def open_server():
    """No token (loopback): messages reach the protocol, so each gets its own error event."""
    with running_server(config()) as running:
        yield running


@pytest.fixture(scope="module")
def guarded_server():
    """A token and plenty of tolerance for wrong ones, so the many cases here do not shut 127.0.0.1 out."""
    with running_server(config(server={"token": TOKEN, "auth_failures_allowed": 1000})) as running:
        yield running


@pytest.fixture
def log(caplog):
    """Everything the server logs, uvicorn's own loggers included (they do not propagate to the root)."""
    uvicorn = logging.getLogger("uvicorn")
    uvicorn.addHandler(caplog.handler)
    caplog.set_level(logging.INFO, logger="assistant.server")
    try:
        yield caplog
    finally:
        uvicorn.removeHandler(caplog.handler)


def _no_traceback(log) -> None:
    with_trace = [r.getMessage() for r in log.records if r.exc_info or r.exc_text]
    assert not with_trace and "Traceback" not in log.text, f"logged with a traceback: {with_trace}"


async def _answer(url: str, message: str | bytes, *, text_frame: bool = True) -> tuple[list[dict], int | None, str | None]:
    """Send ``message``, then a ``stop`` (answered with an error while no stream runs, proving the connection
    still works), and collect events until that answer or the close."""
    events: list[dict] = []
    async with websockets.connect(url) as ws:
        await ws.send(message, text=text_frame)
        try:
            await ws.send(json.dumps({"type": "stop"}))
            while True:
                events.append(json.loads(await asyncio.wait_for(ws.recv(), 10)))
                if events[-1].get("code") == "not_started":
                    return events, None, None
        except websockets.ConnectionClosed:
            return events, ws.close_code, ws.close_reason


@pytest.mark.parametrize("case", list(HOSTILE_JSON))
def test_hostile_json_gets_an_error_event_and_the_connection_lives_on(open_server, log, case):
    text, words = HOSTILE_JSON[case]
    events, code, _ = asyncio.run(_answer(open_server.ws_url, text))
    assert code is None, f"closed with {code}"
    error, still_working = events
    assert error["type"] == "error" and error["code"] == "bad_json" and words in error["message"]
    assert still_working["code"] == "not_started"
    assert "client error bad_json" in log.text
    _no_traceback(log)


@pytest.mark.parametrize(("field", "value", "code", "words"), WRONG_TYPES, ids=[f"{f}={json.dumps(v)}" for f, v, _, _ in WRONG_TYPES])
def test_a_wrong_type_in_any_field_is_named_in_an_error_event(open_server, log, field, value, code, words):
    events, closed, _ = asyncio.run(_answer(open_server.ws_url, json.dumps({**START, field: value})))
    assert closed is None, f"closed with {closed}"
    error = events[0]
    assert error["type"] == "error" and error["code"] == code and words in error["message"], error
    assert events[-1]["code"] == "not_started"
    assert f"client error {code}" in log.text
    _no_traceback(log)


def test_error_messages_quote_what_was_sent_only_briefly(open_server):
    """An error echoes a client's value so its author can see the mistake, but cut short: a megabyte of
    garbage is not sent back, nor logged."""
    events, _, _ = asyncio.run(_answer(open_server.ws_url, json.dumps({**START, "encoding": "x" * 500_000, "rate": 16000})))
    assert events[0]["code"] == "bad_start" and len(events[0]["message"]) < 400


@pytest.mark.parametrize("case", [*HOSTILE_JSON, "token 12345", "binary first"])
def test_hostile_first_message_without_the_token_is_refused_with_4401(guarded_server, log, case):
    """Before authentication nothing is answered but the close code, whatever the message."""
    message: str | bytes = {"token 12345": json.dumps({**START, "token": 12345}), "binary first": b"\xff" * 100}.get(case) or HOSTILE_JSON[case][0]
    events, code, reason = asyncio.run(_answer(guarded_server.ws_url, message, text_frame=isinstance(message, str)))
    assert events == [] and code == 4401 and "token" in reason
    assert "4401" in log.text
    _no_traceback(log)


@pytest.mark.parametrize("server", ["open_server", "guarded_server"])
def test_a_text_frame_that_is_not_utf8_closes_1007(request, log, server):
    running = request.getfixturevalue(server)
    events, code, _ = asyncio.run(_answer(running.ws_url, b'{"type": "start", "token": "\xff\xfe"}', text_frame=True))
    assert events == [] and code == 1007
    assert any(r.levelno == logging.WARNING and "Invalid UTF-8" in r.getMessage() for r in log.records)
    _no_traceback(log)


@pytest.mark.parametrize(
    ("body", "status", "code", "words"),
    [
        (b"[" * 100_000 + b"]" * 100_000, 413, "too_large", "65536"),
        (b'{"text": ' + b"[" * 30_000 + b"]" * 30_000 + b"}", 400, "bad_json", "nested too deeply"),
        (b'{"text": ' + b"9" * 5000 + b"}", 400, "bad_json", "at most 40"),
        (b'{"text": NaN}', 400, "bad_json", "NaN"),
        (b'{"text": "\\ud800 what time is it"}', 400, "bad_json", "lone surrogate"),
        ('{"text": "caf\u00e9"}'.encode("latin-1"), 400, "bad_json", "not UTF-8"),
        (b'{"text": 12345}', 400, "no_text", '"text"'),
        (b'{"text": ["what time is it"]}', 400, "no_text", '"text"'),
        (b"null", 400, "no_text", '"text"'),
    ],
    ids=["100k-nested-brackets", "30k-nested-within-the-size-limit", "5000-digits", "nan", "lone-surrogate", "latin-1", "text-int", "text-list", "null"],
)
def test_hostile_understand_bodies_get_a_4xx_json_error(open_server, log, body, status, code, words):
    response = httpx.post(f"{open_server.url}/v1/understand", content=body, headers={"Content-Type": "application/json"}, timeout=30)
    assert response.status_code == status and response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == code and words in error["message"]
    _no_traceback(log)


_MiB = 1 << 20


@pytest.mark.parametrize(
    ("route", "content_type", "declared"),
    [
        ("/v1/understand", "application/json", True),
        ("/v1/understand", "application/json", False),
        ("/v1/transcribe", "audio/wav", True),
    ],
    ids=["understand-content-length", "understand-chunked", "transcribe-content-length"],
)
def test_a_200_mb_body_is_refused_while_it_is_read(open_server, log, route, content_type, declared):
    """The client offers 200 MB, generated as it is sent (so the client itself holds 1 MiB); RSS of this
    process, which runs the server, is sampled before every MiB the client sends and after the answer.
    The server answers 413 after reading at most the limit, then closes, so the client stops early."""
    process = psutil.Process()
    samples: list[int] = []
    chunk = b"[" * _MiB

    def body():
        for _ in range(200):
            samples.append(process.memory_info().rss)
            yield chunk

    headers = {"Content-Type": content_type, **({"Content-Length": str(200 * _MiB)} if declared else {})}
    response = httpx.post(f"{open_server.url}{route}", content=body(), headers=headers, timeout=60)
    samples.append(process.memory_info().rss)
    assert response.status_code == 413 and response.json()["error"]["code"] == "too_large"
    sent = len(samples) - 1
    assert sent < 20, f"the client got to send {sent} MiB before the server stopped reading"
    grown = max(samples) - samples[0]
    assert grown < 32 * _MiB, f"RSS grew by {grown / _MiB:.0f} MiB"
    _no_traceback(log)
