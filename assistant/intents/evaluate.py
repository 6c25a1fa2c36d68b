"""Score the intent engine on a labelled manifest.

A manifest is JSON lines ``{"text": ..., "intent": NAME or null, "slots": {...}}``;
``intent: null`` means the text is out of scope and must be rejected. An
utterance counts as right only when the intent and every slot are right (no
missing, extra or wrong slot). The scoring takes any ``text_of(case)``, so an
audio manifest can be scored the same way once a recognizer has produced the
text.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.errors import AssistantError
from assistant.intents.engine import IntentEngine, IntentMatch

OUT_OF_SCOPE = "(out of scope)"


@dataclass
class Case:
    intent: str | None
    slots: dict[str, Any] = field(default_factory=dict)
    text: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    """The other fields of the manifest line (e.g. ``audio``), kept for richer manifests."""
    line: int = 0


@dataclass
class Outcome:
    case: Case
    heard: str
    match: IntentMatch | None
    seconds: float

    @property
    def intent_right(self) -> bool:
        return (self.match.name if self.match else None) == self.case.intent

    @property
    def right(self) -> bool:
        if not self.intent_right:
            return False
        return self.match is None or _same_slots(self.match.slots, self.case.slots)

    def to_dict(self) -> dict[str, Any]:
        return {
            "line": self.case.line,
            "text": self.heard,
            "expected": {"intent": self.case.intent, "slots": self.case.slots},
            "got": {"intent": self.match.name, "slots": self.match.slots, "confidence": self.match.confidence} if self.match else {"intent": None},
            "right": self.right,
            "ms": round(self.seconds * 1000, 3),
        }


@dataclass
class Report:
    outcomes: list[Outcome]

    def per_intent(self) -> dict[str, tuple[int, int]]:
        """Expected intent (or OUT_OF_SCOPE) → (utterances, right)."""
        table: dict[str, list[int]] = {}
        for o in self.outcomes:
            row = table.setdefault(o.case.intent or OUT_OF_SCOPE, [0, 0])
            row[0] += 1
            row[1] += o.right
        return {k: (n, right) for k, (n, right) in sorted(table.items())}

    def summary(self) -> dict[str, Any]:
        in_scope = [o for o in self.outcomes if o.case.intent is not None]
        out_scope = [o for o in self.outcomes if o.case.intent is None]
        times = sorted(o.seconds for o in self.outcomes)
        return {
            "n": len(self.outcomes),
            "intent_accuracy": _ratio(sum(o.right for o in in_scope), len(in_scope)),
            "intent_only_accuracy": _ratio(sum(o.intent_right for o in in_scope), len(in_scope)),
            "rejection_accuracy": _ratio(sum(o.match is None for o in out_scope), len(out_scope)),
            "false_accepts": sum(o.match is not None for o in out_scope),
            "median_ms": round(times[len(times) // 2] * 1000, 3) if times else None,
        }

    def format(self, errors: int = 20) -> str:
        """A per-intent table and the first ``errors`` mistakes, for people."""
        lines = [f"{'intent':<28} {'n':>5} {'right':>6} {'accuracy':>9}"]
        for name, (n, right) in self.per_intent().items():
            lines.append(f"{name:<28} {n:>5} {right:>6} {right / n:>9.1%}")
        wrong = [o for o in self.outcomes if not o.right]
        if wrong:
            lines.append(f"\n{len(wrong)} wrong" + (f" (first {errors})" if len(wrong) > errors else "") + ":")
            for o in wrong[:errors]:
                got = f"{o.match.name} {o.match.slots} ({o.match.confidence:.2f})" if o.match else "rejected"
                lines.append(f"  line {o.case.line}: {o.heard!r}\n    expected {o.case.intent} {o.case.slots}\n    got      {got}")
        return "\n".join(lines)


def read_manifest(path: Path | str, require_text: bool = True) -> list[Case]:
    """Parse a JSONL manifest; a bad line is reported with its number."""
    path = Path(path)
    try:
        raw_lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise AssistantError(f"cannot read the manifest {path}: {exc.strerror}") from None
    cases = []
    for number, raw in enumerate(raw_lines, 1):
        if not raw.strip():
            continue
        try:
            item = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise AssistantError(f"{path}:{number}: not valid JSON: {exc.msg}") from None
        if not isinstance(item, dict) or "intent" not in item:
            raise AssistantError(f'{path}:{number}: expected an object with "intent" (a name or null), "slots" and "text"')
        if require_text and not isinstance(item.get("text"), str):
            raise AssistantError(f'{path}:{number}: "text" is missing (this command scores text manifests)')
        slots = item.get("slots") or {}
        if not isinstance(slots, dict):
            raise AssistantError(f'{path}:{number}: "slots" must be an object')
        extra = {k: v for k, v in item.items() if k not in ("intent", "slots", "text")}
        cases.append(Case(item["intent"], slots, item.get("text"), extra, number))
    if not cases:
        raise AssistantError(f"{path}: the manifest has no lines")
    return cases


def evaluate(engine: IntentEngine, cases: Iterable[Case], text_of: Callable[[Case], str] = lambda c: c.text or "") -> Report:
    outcomes = []
    for case in cases:
        heard = text_of(case)
        start = time.perf_counter()
        match = engine.recognize(heard)
        outcomes.append(Outcome(case, heard, match, time.perf_counter() - start))
    return Report(outcomes)


def _same_slots(got: dict[str, Any], expected: dict[str, Any]) -> bool:
    return set(got) == set(expected) and all(_same_value(got[k], expected[k]) for k in expected)


def _same_value(got: Any, expected: Any) -> bool:
    if isinstance(got, str) and isinstance(expected, str):
        return got.casefold() == expected.casefold()
    return bool(got == expected)


def _ratio(right: int, n: int) -> float | None:
    return round(right / n, 4) if n else None
