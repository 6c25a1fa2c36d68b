"""Printing events for people and for programs.

``--json`` gives one event per line exactly as ``Event.to_dict`` shapes it (the
same as the WebSocket stream); otherwise a short aligned line per event.
"""

from __future__ import annotations

import sys
import threading
from typing import TextIO

from assistant.events import Event, EventSink

_HIDDEN_FIELDS = {"type", "t"}


def format_event(event: Event) -> str:
    data = event.to_dict()
    details = " ".join(f"{k}={v!r}" if isinstance(v, str) else f"{k}={v}" for k, v in data.items() if k not in _HIDDEN_FIELDS and v is not None)
    return f"[{event.t:8.3f}s] {event.type:<12} {details}".rstrip()


def event_printer(json_lines: bool, stream: TextIO | None = None) -> EventSink:
    """A sink that writes each event as one line and flushes (consumers read it live through a pipe)."""
    out = stream or sys.stdout
    lock = threading.Lock()

    def sink(event: Event) -> None:
        line = event.to_json() if json_lines else format_event(event)
        with lock:
            out.write(line + "\n")
            out.flush()

    return sink
