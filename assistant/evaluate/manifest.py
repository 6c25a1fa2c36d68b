"""Labelled manifests: JSON lines of text or audio with the intent they should produce.

Text lines are ``{"text": ..., "intent": NAME or null, "slots": {...}}``.
Audio lines carry ``"audio"`` (a path relative to the manifest) and any of
``"text"`` (the words said, for word error rate), ``"intent"``/``"slots"``
(``null`` = out of scope, must not be acted on; no ``"intent"`` key = the
line scores no command, e.g. a wake word alone) and ``"wake"`` (the wake word
said at the start). The coffee-dev manifest of Picovoice's speech-to-intent
benchmark has exactly this shape.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.errors import AssistantError

_KNOWN = ("intent", "slots", "text", "audio", "wake")


@dataclass
class Case:
    intent: str | None
    slots: dict[str, Any] = field(default_factory=dict)
    text: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    """The other fields of the manifest line, kept for richer manifests."""
    line: int = 0
    audio: Path | None = None
    """The clip, resolved against the manifest's folder (audio manifests only)."""
    wake: str | None = None
    """The wake word said at the start of the clip; None = none (wake word off for the command)."""
    scored: bool = True
    """The line names an intent (or null): its command is scored. False for a wake-word-only clip."""


def read_manifest(path: Path | str) -> list[Case]:
    """Parse a JSONL manifest; a bad line is reported with its number.

    All lines are text lines or all are audio lines (a line with ``"audio"``):
    the two are scored by different runs.
    """
    path = Path(path)
    try:
        raw_lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise AssistantError(f"cannot read the manifest {path}: {exc.strerror}") from None
    cases = []
    for number, raw in enumerate(raw_lines, 1):
        if raw.strip():
            cases.append(_case(_parse(raw, path, number), path, number))
    if not cases:
        raise AssistantError(f"{path}: the manifest has no lines")
    kinds = {case.audio is not None for case in cases}
    if len(kinds) > 1:
        first_text = next(c.line for c in cases if c.audio is None)
        raise AssistantError(f'{path}:{first_text}: no "audio" in an audio manifest (text and audio lines cannot be mixed)')
    return cases


def is_audio(cases: list[Case]) -> bool:
    return bool(cases) and cases[0].audio is not None


def _parse(raw: str, path: Path, number: int) -> dict[str, Any]:
    try:
        item = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise AssistantError(f"{path}:{number}: not valid JSON: {exc.msg}") from None
    if not isinstance(item, dict):
        raise AssistantError(f'{path}:{number}: expected an object like {{"text": ..., "intent": ..., "slots": {{...}}}} or {{"audio": ..., "intent": ...}}')
    return item


def _case(item: dict[str, Any], path: Path, number: int) -> Case:
    where = f"{path}:{number}"
    audio = item.get("audio")
    if audio is not None and not isinstance(audio, str):
        raise AssistantError(f'{where}: "audio" must be a path (relative to the manifest)')
    for key in ("text", "wake"):
        if item.get(key) is not None and not isinstance(item[key], str):
            raise AssistantError(f'{where}: "{key}" must be a string')
    if audio is None:
        if "intent" not in item:
            raise AssistantError(f'{where}: expected an object with "intent" (a name or null), "slots" and "text"')
        if not isinstance(item.get("text"), str):
            raise AssistantError(f'{where}: "text" is missing (a text line needs the text; an audio line needs "audio")')
    elif "intent" not in item and not isinstance(item.get("wake"), str):
        raise AssistantError(f'{where}: an audio line needs "intent" (a name or null) or "wake" (the wake word said)')
    slots = item.get("slots") or {}
    if not isinstance(slots, dict):
        raise AssistantError(f'{where}: "slots" must be an object')
    return Case(
        intent=item.get("intent"),
        slots=slots,
        text=item.get("text"),
        extra={k: v for k, v in item.items() if k not in _KNOWN},
        line=number,
        audio=(path.parent / audio) if audio is not None else None,
        wake=item.get("wake"),
        scored="intent" in item,
    )
