"""The HTTP side: transcribe an upload, understand a sentence, speak on a device, list the intents, health, metrics,
the OpenAPI spec, the page.

Model work runs in threads (never on the event loop), at most one
transcription per core at a time so uploads cannot starve live streams.
Every failure answers ``{"error": {"code", "message"}}`` with a 4xx/5xx status
and a message saying what to do. Bodies are limited while they are read: a
Content-Length over the limit is refused before a byte of the body is read,
and a chunked body is refused as soon as what arrived passes the limit; the
refusal closes the connection, so the rest is never read either.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from assistant import __version__
from assistant.conversations import BadDevice, Conversation, TooManyAnnouncements, TooManyDevices
from assistant.errors import AssistantError, AudioInputError, ModelError
from assistant.events import Replied
from assistant.server.auth import Verdict, bearer
from assistant.server.metrics import CONTENT_TYPE
from assistant.server.openapi import spec
from assistant.server.protocol import MAX_TEXT_CHARS
from assistant.server.state import ServerState
from assistant.server.transcribe import transcribe_file
from assistant.server.untrusted import BadJson, loads

_log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
MAX_JSON_BYTES = 64 * 1024
"""The largest JSON body (``/v1/understand``, ``/v1/announce``, ``/v1/converse``): room for ``MAX_TEXT_CHARS``
many times over, even \\u-escaped."""
HTTP_DEVICE = "http"
"""The device of ``/v1/understand`` calls that name none (they share one conversation)."""
_COPY_BYTES = 1 << 20

RouteHandler = Callable[[Request], Awaitable[Response]]


def error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


def too_large(message: str) -> JSONResponse:
    """413, and the connection closes after it: the server reads no more of that body."""
    return error(413, "too_large", message, {"Connection": "close"})


class BodyTooLarge(Exception):
    """The message says how large the body is, or was when reading stopped, and the limit."""


async def body_chunks(request: Request, limit: int) -> AsyncIterator[bytes]:
    """The request body as it arrives; :class:`BodyTooLarge` as soon as it is known to pass ``limit``
    (from its Content-Length, before reading; or, chunked, once the bytes read pass it)."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise BodyTooLarge(f"the body is {declared[:20]} bytes; the limit is {limit}")
    seen = 0
    async for chunk in request.stream():
        seen += len(chunk)
        if seen > limit:
            raise BodyTooLarge(f"the body passed the limit of {limit} bytes")
        yield chunk


def _state(request: Request) -> ServerState:
    return request.app.state.assistant


def endpoint(route: str, *, protected: bool = True) -> Callable[[RouteHandler], RouteHandler]:
    """Wrap a handler: token check (when ``protected``), request metrics, errors as JSON."""

    def wrap(handler: RouteHandler) -> RouteHandler:
        async def run(request: Request) -> Response:
            state = _state(request)
            began = time.perf_counter()
            response = _refusal(state, request) if protected else None
            if response is None:
                try:
                    response = await handler(request)
                except Exception:  # a bug: logged with its traceback, answered in the API's error shape
                    _log.exception("%s failed", route)
                    response = error(500, "internal", "the server failed on this request; its log has the details")
            state.metrics.http_requests.labels(route, str(response.status_code)).inc()
            state.metrics.http_seconds.labels(route).observe(time.perf_counter() - began)
            if response.status_code >= 400 and response.media_type == "application/json":
                state.metrics.errors.labels(f"http_{response.status_code}").inc()
            return response

        return run

    return wrap


def _refusal(state: ServerState, request: Request) -> Response | None:
    """401 without the right token, 429 while the address is shut out for wrong ones; None: go ahead."""
    check = state.auth.check(request.client.host if request.client else None, bearer(request.headers))
    if check.verdict is Verdict.THROTTLED:
        wait = check.retry_seconds
        return error(429, "too_many_wrong_tokens", f"too many wrong tokens from this address: retry in {wait} s", {"Retry-After": str(wait)})
    if check.verdict is not Verdict.ACCEPTED:
        return error(401, "unauthorized", "send the server token as 'Authorization: Bearer TOKEN'", {"WWW-Authenticate": "Bearer"})
    return None


@endpoint("/v1/transcribe")
async def transcribe(request: Request) -> Response:
    state = _state(request)
    limit = state.config.server.max_upload_bytes
    declared = request.headers.get("content-length")
    if declared is None:
        return error(411, "length_required", "send the upload with a Content-Length header")
    if not declared.isdigit() or int(declared) > limit + 64 * 1024:
        return too_large(f"the upload is {declared[:20]} bytes; the limit is {limit} (server.max_upload_bytes)")
    fd, name = tempfile.mkstemp(prefix="assistant-upload-")
    os.close(fd)
    path = Path(name)
    try:
        problem = await _receive_upload(request, path, limit)
        if problem is not None:
            return problem
        if path.stat().st_size == 0:
            return error(400, "empty_upload", "the uploaded file is empty")
        async with state.transcriptions:
            return await asyncio.to_thread(_transcribe, state, path)
    finally:
        path.unlink(missing_ok=True)


async def _receive_upload(request: Request, path: Path, limit: int) -> Response | None:
    """Save the audio to ``path``: the multipart field ``file``, or a raw ``audio/*`` body."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        async with request.form(max_files=1, max_fields=8) as form:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                return error(400, "no_file", "send the audio as the multipart form field 'file'")
            if upload.size is not None and upload.size > limit:
                return too_large(f"the file is {upload.size} bytes; the limit is {limit} (server.max_upload_bytes)")
            await asyncio.to_thread(_copy, upload.file, path)
        return None
    if content_type.startswith(("audio/", "application/octet-stream")):
        try:
            with path.open("wb") as out:
                async for block in body_chunks(request, limit):
                    out.write(block)
        except BodyTooLarge as exc:
            return too_large(f"{exc} (server.max_upload_bytes)")
        return None
    return error(415, "unsupported_media_type", f"send multipart/form-data with a 'file' field (or an audio/* body), not {content_type or 'no content type'}")


def _copy(source: Any, path: Path) -> None:
    source.seek(0)
    with path.open("wb") as out:
        shutil.copyfileobj(source, out, _COPY_BYTES)


def _transcribe(state: ServerState, path: Path) -> Response:
    try:
        return JSONResponse(transcribe_file(path, state.config, state.resources.asr))
    except AudioInputError as exc:
        return error(415, "not_audio", str(exc))
    except ModelError as exc:
        return error(503, "asr_unavailable", f"speech recognition is not available: {exc}")


class BadRequest(Exception):
    """A request the API answers with an error; ``response`` says which and why."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


async def _json_body(request: Request, example: str) -> dict[str, Any]:
    """The request's JSON object, read within :data:`MAX_JSON_BYTES`; ``example`` shows a right one in errors."""
    try:
        body = loads(b"".join([chunk async for chunk in body_chunks(request, MAX_JSON_BYTES)]))
    except BodyTooLarge as exc:
        raise BadRequest(too_large(f"{exc}; send only the sentence, up to {MAX_TEXT_CHARS} characters")) from None
    except BadJson as exc:
        raise BadRequest(error(400, "bad_json", f"{exc}; send a JSON body: {example}")) from None
    return body if isinstance(body, dict) else {}  # not an object: it has none of the fields, each is named as missing


def _text(body: dict[str, Any], example: str) -> str:
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise BadRequest(error(400, "no_text", f'the body needs a non-empty "text": {example}'))
    if len(text) > MAX_TEXT_CHARS:
        raise BadRequest(error(413, "too_long", f"the text is {len(text)} characters; the limit is {MAX_TEXT_CHARS}"))
    return text


async def _device(state: ServerState, body: dict[str, Any], default: str | None = None) -> Conversation:
    """The conversation of the body's ``device`` (and ``area``), made on first use."""
    device = body.get("device", default)
    if device is None:
        raise BadRequest(error(400, "no_device", 'the body needs the "device" id to speak on, e.g. "kitchen"'))
    try:
        resources = await asyncio.to_thread(state.resources.get)
        return resources.conversations.device(device, area=body.get("area"))
    except BadDevice as exc:
        raise BadRequest(error(400, "bad_device", str(exc))) from None
    except TooManyDevices as exc:
        raise BadRequest(error(503, "too_many_devices", str(exc))) from None
    except AssistantError as exc:
        raise BadRequest(error(503, "intents_unavailable", f"the intent engine is not available: {exc}")) from None


@endpoint("/v1/understand")
async def understand(request: Request) -> Response:
    example = '{"text": "set a timer for five minutes", "device": "kitchen"}'
    try:
        body = await _json_body(request, example)
        text = _text(body, example)
        conversation = await _device(_state(request), body, HTTP_DEVICE)
    except BadRequest as exc:
        return exc.response
    turn = await asyncio.to_thread(conversation.respond, text)
    described = {event.type: event.to_dict() for event in turn.events()}
    return JSONResponse(
        {
            "text": text,
            "device": conversation.id,
            "intent": described.get("intent"),
            "no_intent": described.get("no_intent"),
            "reply": Replied(text=turn.reply, data=turn.data).to_dict(),
            "follow_up": turn.follow_up,
            "error": described.get("error"),
        }
    )


@endpoint("/v1/announce")
async def announce(request: Request) -> Response:
    """Speak on a device now; a device that is not connected hears it when it reconnects (within the hold time)."""
    example = '{"device": "kitchen", "text": "Dinner is ready."}'
    try:
        body = await _json_body(request, example)
        text = _text(body, example)
        conversation = await _device(_state(request), body)
    except BadRequest as exc:
        return exc.response
    try:
        connected = conversation.announce(text)
    except TooManyAnnouncements as exc:
        return error(429, "too_many_announcements", str(exc), {"Retry-After": "5"})
    hold = _state(request).config.assistant.announcement_hold_seconds
    return JSONResponse({"device": conversation.id, "delivered": connected, "held_seconds": None if connected else hold}, status_code=200 if connected else 202)


@endpoint("/v1/converse")
async def converse(request: Request) -> Response:
    """Ask a connected device a question: spoken, then its next command is heard without the wake word."""
    example = '{"device": "kitchen", "text": "The laundry is done. Shall I remind you in ten minutes?"}'
    try:
        body = await _json_body(request, example)
        text = _text(body, example)
        conversation = await _device(_state(request), body)
    except BadRequest as exc:
        return exc.response
    if not conversation.connected:
        return error(409, "not_connected", f"device {conversation.id!r} is not connected: a question needs someone there to answer it")
    try:
        conversation.announce(text, listen=True)
    except TooManyAnnouncements as exc:
        return error(429, "too_many_announcements", str(exc), {"Retry-After": "5"})
    return JSONResponse({"device": conversation.id, "delivered": True})


@endpoint("/v1/intents")
async def intents(request: Request) -> Response:
    """The same listing as `assistant intents`, for the page's "what I understand" panel."""
    state = _state(request)
    try:
        resources = await asyncio.to_thread(state.resources.get)
    except AssistantError as exc:
        return error(503, "intents_unavailable", f"the intent engine is not available: {exc}")
    return JSONResponse(await asyncio.to_thread(resources.intents.catalog))


@endpoint("/health", protected=False)
async def health(request: Request) -> Response:
    state = _state(request)
    return JSONResponse(
        {
            "status": "ok",
            "version": __version__,
            "uptime_seconds": round(time.monotonic() - state.started, 1),
            "connections": state.active,
            "max_connections": state.config.server.max_connections,
            "pending": state.admission.pending,
            "auth": state.auth.required,
        }
    )


@endpoint("/metrics")
async def metrics(request: Request) -> Response:
    return Response(_state(request).metrics.render(), media_type=CONTENT_TYPE)


@endpoint("/openapi.json", protected=False)
async def openapi(request: Request) -> Response:
    return JSONResponse(spec(str(request.base_url).rstrip("/")))


async def index(request: Request) -> Response:
    return FileResponse(STATIC / "index.html")
