"""What a device is to the rest of the system: an id, an area, and where its speech goes.

A device is a place a person talks to: the machine's own microphone
(``assistant.device``), a satellite, a browser tab, a program calling the HTTP
API. Its conversation (plugin state, timers, a pending question) outlives the
pipelines and connections it is heard through; while one is attached it is
connected, and announcements go to the most recent :class:`Outlet`.
"""

from __future__ import annotations

import re
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, Protocol

from assistant.config import AREA, DEVICE_ID
from assistant.intents.normalize import normalize

if TYPE_CHECKING:
    from assistant.intents.engine import IntentMatch

_DEVICE_ID = re.compile(DEVICE_ID)
_AREA = re.compile(AREA)


class BadDevice(ValueError):
    """A device id or area a client sent is not acceptable; the message says what is."""


def device_id(value: Any) -> str:
    """``value`` as a device id, or :class:`BadDevice` naming what is allowed."""
    if not isinstance(value, str) or not _DEVICE_ID.fullmatch(value):
        shown = repr(value)[:40] if isinstance(value, str) else type(value).__name__
        raise BadDevice(f"a device id is 1 to 64 letters, digits and . _ : - (starting with a letter or digit), got {shown}")
    return value


def area_name(value: Any) -> str | None:
    """``value`` as an area ("Living Room" → "living room"), None for none, or :class:`BadDevice`."""
    if value is None:
        return None
    if not isinstance(value, str) or not _AREA.fullmatch(value):
        shown = repr(value)[:40] if isinstance(value, str) else type(value).__name__
        raise BadDevice(f'an area is a few words, up to 48 characters, e.g. "living room"; got {shown}')
    return normalize(value)


class Outlet(Protocol):
    """Where a device's announcements are heard: a live pipeline (its microphone and speaker), a connection."""

    live: bool
    """Someone there can hear it and say "stop": an alarm keeps ringing. False for a file run: it rings once."""

    def say(self, text: str, *, chime: bool = False, listen: bool = False) -> Future[bool]:
        """Speak ``text`` (after the alarm chime); ``listen``: then take one command without the wake word.

        Never blocks. The future is True once it was played, False when this outlet went away
        before playing it (the device's next outlet then gets it)."""
        ...

    def hush(self) -> None:
        """Stop what it is playing now (the user said "stop")."""
        ...

    def alarm(self, ringing: bool, text: str) -> None:
        """An alarm started or stopped ringing on the device."""
        ...


class Remote(Protocol):
    """A connected device that carries out some plugins' commands itself (a satellite's own player and volume)."""

    skills: frozenset[str]

    def carry_out(self, match: IntentMatch) -> Future[tuple[str, dict[str, Any] | None]]:
        """Send the command; the future is the device's reply text and data."""
        ...
