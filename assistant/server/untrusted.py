"""JSON from clients the server does not trust: parsed within bounds, every problem one :class:`BadJson`.

Python's ``json`` accepts things a hostile client can turn against a server: integers thousands of
digits long (slow to convert, and past 4,300 digits a bare ``ValueError``), nesting down to the
interpreter's recursion limit (a ``RecursionError``), ``NaN`` and ``Infinity`` (not JSON at all), and
``\\ud800`` escapes, which make a ``str`` no UTF-8 encoder takes (the next token comparison or reply
raises ``UnicodeEncodeError``). The server's messages are small and flat, so tight bounds cost a real
client nothing, and every handler downstream only ever sees plain, encodable, shallow data.
"""

from __future__ import annotations

import json
import math
import reprlib
from typing import Any

MAX_DEPTH = 8
"""Containers inside containers; the deepest real message (a start with ``options``) needs 2."""

MAX_NUMBER_CHARS = 40
"""Characters of one number literal (digits, sign, point, exponent); a 64-bit integer has 20."""

_SHOWN = reprlib.Repr()
_SHOWN.maxstring = _SHOWN.maxother = 60
_SHOWN.maxlist = _SHOWN.maxdict = 6
_SHOWN.maxlevel = 2


class BadJson(ValueError):
    """The text is not JSON the server accepts; the message says which rule it broke."""


def loads(data: str | bytes) -> Any:
    """Parse ``data`` (bytes must be UTF-8) or raise :class:`BadJson`."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadJson(f"not UTF-8: byte {exc.start} is {data[exc.start:exc.start + 1]!r}") from None
    else:
        text = data
    try:
        value = json.loads(text, parse_int=_integer, parse_float=_real, parse_constant=_constant)
    except RecursionError:
        raise BadJson(f"nested too deeply: at most {MAX_DEPTH} levels of objects and arrays") from None
    except json.JSONDecodeError as exc:
        raise BadJson(f"not JSON: {exc.msg} at character {exc.pos}") from None
    _check(value)
    return value


def shown(value: Any) -> str:
    """``repr(value)`` cut to a readable length, for error messages and logs that echo what a client sent."""
    return _SHOWN.repr(value)


def _integer(literal: str) -> int:
    if len(literal) > MAX_NUMBER_CHARS:
        raise BadJson(f"a number of {len(literal)} characters; at most {MAX_NUMBER_CHARS} are accepted")
    return int(literal)


def _real(literal: str) -> float:
    if len(literal) > MAX_NUMBER_CHARS:
        raise BadJson(f"a number of {len(literal)} characters; at most {MAX_NUMBER_CHARS} are accepted")
    value = float(literal)
    if not math.isfinite(value):
        raise BadJson(f"the number {literal} is out of range")
    return value


def _constant(name: str) -> float:
    raise BadJson(f"{name} is not JSON; send a number")


def _check(value: Any) -> None:
    """Depth and strings, walked with a stack: a recursive walk would itself be a way to exhaust recursion."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            _encodable(item)
        elif isinstance(item, dict | list):
            if depth > MAX_DEPTH:
                raise BadJson(f"nested too deeply: at most {MAX_DEPTH} levels of objects and arrays")
            if isinstance(item, dict):
                for key, inner in item.items():
                    _encodable(key)
                    pending.append((inner, depth + 1))
            else:
                pending.extend((inner, depth + 1) for inner in item)


def _encodable(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise BadJson(f"a string holds the lone surrogate \\u{ord(text[exc.start]):04x} (half of a pair); send valid Unicode") from None
