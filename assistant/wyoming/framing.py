"""Reading events off a client's connection, within bounds, without losing the connection to bad input.

The ``wyoming`` package frames events (a JSON header line, then ``data_length``
bytes of JSON data, then ``payload_length`` bytes of payload) and its
``async_read_event`` reads them. It is written for trusted peers: on a line
that is not JSON, or longer than the stream's 64 KiB line limit, it returns
None, which its own server takes for a closed connection; a header that
declares a gigabyte of payload is read into memory whole; a header of the
wrong shape, or JSON nested a thousand deep, raises. Home Assistant's
integration has no authentication, so here the client is not trusted.

:class:`GuardedReader` is what ``async_read_event`` reads from instead of the
stream. It checks each header line before handing it over (JSON within the
bounds of :mod:`assistant.server.untrusted`, an object with a ``type`` string,
lengths that are whole numbers within ``wyoming.max_event_bytes``), and the
data part the same way once read. An event that fails is skipped, with the
bytes it declared, and :class:`FrameError` says why; the connection then
reads the next event. The framing itself stays the package's.
"""

from __future__ import annotations

import asyncio
from typing import Any

from assistant.server.untrusted import BadJson, loads
from assistant.wyoming.errors import ClientError

_NEWLINE = b"\n"
_SKIP_BYTES = 1 << 16


class FrameError(ClientError):
    """An event the connection skipped. Not a ValueError: ``async_read_event`` swallows those (and returns
    None, as at the end of the stream)."""


class GuardedReader:
    """The reader side of one connection, as ``wyoming.event.async_read_event`` uses it (``readline``, ``readexactly``)."""

    def __init__(self, reader: asyncio.StreamReader, max_event_bytes: int) -> None:
        self._reader = reader
        self.max_event_bytes = max_event_bytes
        self._owed = 0
        """Bytes the last header declared (data and payload) that nobody has read yet."""
        self._data = 0
        """The length of the data part still to come: the next read of exactly this many bytes is it."""

    def at_eof(self) -> bool:
        return self._reader.at_eof()

    async def readline(self) -> bytes:
        """The next header line, checked; b"" at the end of the stream. Raises :class:`FrameError` after skipping a bad event."""
        await self.skip_rest()
        try:
            line = await self._reader.readuntil(_NEWLINE)
        except asyncio.IncompleteReadError as exc:  # the stream ended; a last line without its newline is still a line
            line = exc.partial
        except asyncio.LimitOverrunError:
            await self._skip_line()
            raise FrameError("header_too_large", "an event header line is at most 64 KiB; that one was skipped") from None
        if not line.strip():
            if line:
                raise FrameError("bad_event", "an empty line is not an event")
            return line
        self._data, self._owed = self._check(line)
        return line

    async def readexactly(self, n: int) -> bytes:
        data = await self._reader.readexactly(n)
        self._owed -= n
        if self._data and n == self._data:
            self._data = 0
            try:
                value = loads(data)
            except BadJson as exc:
                raise FrameError("bad_event", f"the event's data is not acceptable JSON: {exc}; the event was skipped") from None
            if not isinstance(value, dict):
                raise FrameError("bad_event", "an event's data is a JSON object; the event was skipped")
        return data

    async def skip_rest(self) -> None:
        """Discard what the last header declared and was not read (its event turned out malformed)."""
        while self._owed > 0:
            data = await self._reader.read(min(self._owed, _SKIP_BYTES))
            if not data:
                self._owed = 0
                return
            self._owed -= len(data)

    def _check(self, line: bytes) -> tuple[int, int]:
        """The lengths of the data part and of data and payload together, as the header declares them;
        or :class:`FrameError` (what it declared is skipped before the next event is read)."""
        try:
            header: Any = loads(line)
        except BadJson as exc:
            raise FrameError("bad_event", f"not an event: an event starts with a JSON header line ({exc}), got {_excerpt(line)}") from None
        if not isinstance(header, dict) or not isinstance(header.get("type"), str) or not header["type"]:
            raise FrameError("bad_event", 'an event header is a JSON object with a "type" string, e.g. {"type": "describe"}')
        declared = [header.get("data_length"), header.get("payload_length")]
        if not all(n is None or (isinstance(n, int) and not isinstance(n, bool) and n >= 0) for n in declared):
            raise FrameError("bad_event", f"{_kind(header)}: data_length and payload_length must be whole numbers of bytes")
        lengths = [n or 0 for n in declared]
        if "data" in header and not isinstance(header["data"], dict):
            self._owed = sum(lengths)
            raise FrameError("bad_event", f'{_kind(header)}: "data" must be a JSON object')
        if max(lengths) > self.max_event_bytes:
            self._owed = sum(lengths)
            raise FrameError(
                "event_too_large",
                f"{_kind(header)} declares {max(lengths)} bytes; an event's data and payload are at most {self.max_event_bytes} bytes each "
                "(wyoming.max_event_bytes); it was skipped",
            )
        return lengths[0], sum(lengths)

    async def _skip_line(self) -> None:
        """Discard the rest of an over-long line, a piece at a time (memory stays within the stream's limit)."""
        while True:
            try:
                await self._reader.readuntil(_NEWLINE)
                return
            except asyncio.LimitOverrunError as exc:
                await self._reader.readexactly(exc.consumed)
            except asyncio.IncompleteReadError:
                return


def _kind(header: dict[str, Any]) -> str:
    return repr(str(header.get("type"))[:40])


def _excerpt(line: bytes) -> str:
    text = line[:40].decode("utf-8", "replace").strip()
    return repr(text + ("…" if len(line) > 40 else ""))
