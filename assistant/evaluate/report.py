"""What an evaluation found, per utterance and in total.

An utterance counts as right only when the intent and every slot are right
(no missing, extra or wrong slot) and nothing else was acted on: Picovoice's
*command acceptance*, the figure of its speech-to-intent benchmark. The
summary keeps the same keys for text and audio runs and adds, for audio,
word error rate, wake word detection and false accepts per hour.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

from assistant.evaluate.manifest import Case
from assistant.evaluate.wer import word_errors, words
from assistant.intents.engine import IntentMatch

OUT_OF_SCOPE = "(out of scope)"


@dataclass
class Outcome:
    case: Case
    heard: str
    """The text the intents saw: the manifest's text, or everything the recognizer heard in the clip."""
    match: IntentMatch | None
    """The first intent acted on (None: rejected, or nothing heard)."""
    seconds: float
    """Processing time: the intent match for text, the whole clip through the pipeline for audio."""
    extra_actions: int = 0
    """Further intents one clip fired (a command split in two, a hallucination): each would have acted."""
    audio_seconds: float | None = None
    wake_detected: bool | None = None
    """For a clip that says a wake word: whether that model fired."""
    false_wakes: int = 0
    """Wake detections in a clip without a wake word (only counted when a wake model is on for them)."""
    error: str | None = None
    """Why the clip could not be run, or the pipeline's error events."""

    @property
    def intent_right(self) -> bool:
        return (self.match.name if self.match else None) == self.case.intent

    @property
    def right(self) -> bool:
        if not self.intent_right or self.extra_actions:
            return False
        return self.match is None or _same_slots(self.match.slots, self.case.slots)

    @property
    def word_errors(self) -> int | None:
        return word_errors(self.case.text, self.heard) if self.case.audio is not None and self.case.text is not None else None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"line": self.case.line}
        if self.case.audio is not None:
            data["audio"] = str(self.case.audio)
        data["text"] = self.heard
        if self.case.scored:
            data["expected"] = {"intent": self.case.intent, "slots": self.case.slots}
            data["got"] = {"intent": self.match.name, "slots": self.match.slots, "confidence": self.match.confidence} if self.match else {"intent": None}
            data["right"] = self.right
        if self.extra_actions:
            data["extra_actions"] = self.extra_actions
        if self.word_errors is not None:
            data["reference"] = self.case.text
            data["word_errors"] = self.word_errors
        if self.case.wake is not None:
            data["wake"] = {"expected": self.case.wake, "detected": self.wake_detected}
        if self.false_wakes:
            data["false_wakes"] = self.false_wakes
        if self.error is not None:
            data["error"] = self.error
        data["ms"] = round(self.seconds * 1000, 3)
        return data


@dataclass
class Report:
    outcomes: list[Outcome]
    conditions: dict[str, Any] = field(default_factory=dict)
    """How the audio was run: recognizer, noise and SNR, wake models (shown in the summary)."""
    wake_models: tuple[str, ...] = ()
    """Wake models listening on the clips without a wake word (their detections are false accepts)."""

    @property
    def audio(self) -> bool:
        return any(o.case.audio is not None for o in self.outcomes)

    def per_intent(self) -> dict[str, tuple[int, int]]:
        """Expected intent (or OUT_OF_SCOPE) → (utterances, right)."""
        table: dict[str, list[int]] = {}
        for o in self.outcomes:
            if not o.case.scored:
                continue
            row = table.setdefault(o.case.intent or OUT_OF_SCOPE, [0, 0])
            row[0] += 1
            row[1] += o.right
        return {k: (n, right) for k, (n, right) in sorted(table.items())}

    def summary(self) -> dict[str, Any]:
        scored = [o for o in self.outcomes if o.case.scored]
        in_scope = [o for o in scored if o.case.intent is not None]
        out_scope = [o for o in scored if o.case.intent is None]
        times = [o.seconds for o in self.outcomes]
        acceptance = _ratio(sum(o.right for o in in_scope), len(in_scope))
        found: dict[str, Any] = {
            "n": len(self.outcomes),
            "command_acceptance": acceptance,
            "intent_accuracy": acceptance,  # the name text runs have always used for the same figure
            "intent_only_accuracy": _ratio(sum(o.intent_right for o in in_scope), len(in_scope)),
            "rejection_accuracy": _ratio(sum(o.right for o in out_scope), len(out_scope)),
            "false_accepts": sum(o.match is not None or o.extra_actions > 0 for o in out_scope),
            "median_ms": round(statistics.median(times) * 1000, 3) if times else None,
        }
        if self.audio:
            found.update(self._audio_summary())
        return found

    def _audio_summary(self) -> dict[str, Any]:
        audio_seconds = sum(o.audio_seconds or 0.0 for o in self.outcomes)
        with_text = [o for o in self.outcomes if o.word_errors is not None]
        reference_words = sum(len(words(o.case.text)) for o in with_text)
        woken = [o for o in self.outcomes if o.case.wake is not None]
        unwoken_seconds = sum(o.audio_seconds or 0.0 for o in self.outcomes if o.case.wake is None)
        false_wakes = sum(o.false_wakes for o in self.outcomes)
        processing = sum(o.seconds for o in self.outcomes)
        return {
            "audio_seconds": round(audio_seconds, 2),
            "realtime_factor": round(processing / audio_seconds, 4) if audio_seconds else None,
            "wer": _ratio(sum(o.word_errors for o in with_text), reference_words),
            "reference_words": reference_words,
            "wake_detection_rate": _ratio(sum(bool(o.wake_detected) for o in woken), len(woken)),
            "wake_clips": len(woken),
            "wake_false_accepts": false_wakes if self.wake_models else None,
            "false_accepts_per_hour": round(false_wakes / (unwoken_seconds / 3600), 2) if self.wake_models and unwoken_seconds else None,
            "errors": sum(o.error is not None for o in self.outcomes),
            **self.conditions,
        }

    def format(self, errors: int = 20) -> str:
        """A per-intent table, the audio figures and the first ``errors`` mistakes, for people."""
        lines = [f"{'intent':<28} {'n':>5} {'right':>6} {'accuracy':>9}"]
        for name, (n, right) in self.per_intent().items():
            lines.append(f"{name:<28} {n:>5} {right:>6} {right / n:>9.1%}")
        if self.audio:
            lines += self._audio_lines()
        wrong = [o for o in self.outcomes if (o.case.scored and not o.right) or o.wake_detected is False or o.error]
        if wrong:
            lines.append(f"\n{len(wrong)} wrong" + (f" (first {errors})" if len(wrong) > errors else "") + ":")
            for o in wrong[:errors]:
                lines.append(_describe(o))
        return "\n".join(lines)

    def _audio_lines(self) -> list[str]:
        s = self.summary()
        lines = [""]
        if s["command_acceptance"] is not None:
            lines.append(f"command acceptance     {_percent(s['command_acceptance'])}  (intent and every slot right, nothing else acted on)")
        if s["wer"] is not None:
            lines.append(f"word error rate        {_percent(s['wer'])}  ({s['reference_words']} reference words)")
        if s["wake_detection_rate"] is not None:
            lines.append(f"wake word detected     {_percent(s['wake_detection_rate'])}  ({s['wake_clips']} clips)")
        if s["false_accepts_per_hour"] is not None:
            lines.append(f"wake false accepts     {s['wake_false_accepts']} = {s['false_accepts_per_hour']:g} per hour ({', '.join(self.wake_models)})")
        lines.append(f"audio                  {s['audio_seconds']:.1f} s, processed at {s['realtime_factor']:.3f} x real time")
        lines += [f"{key:<22} {value}" for key, value in self.conditions.items()]
        return lines


def _describe(o: Outcome) -> str:
    where = f"line {o.case.line}" + (f" ({o.case.audio.name})" if o.case.audio is not None else "")
    parts = [f"  {where}: {o.heard!r}"]
    if o.case.scored and not o.right:
        got = f"{o.match.name} {o.match.slots} ({o.match.confidence:.2f})" if o.match else "rejected"
        if o.extra_actions:
            got += f" and {o.extra_actions} more intent(s)"
        parts += [f"    expected {o.case.intent} {o.case.slots}", f"    got      {got}"]
    if o.wake_detected is False:
        parts.append(f"    wake word {o.case.wake!r} not detected")
    if o.error:
        parts.append(f"    error    {o.error}")
    return "\n".join(parts)


def _same_slots(got: dict[str, Any], expected: dict[str, Any]) -> bool:
    return set(got) == set(expected) and all(_same_value(got[k], expected[k]) for k in expected)


def _same_value(got: Any, expected: Any) -> bool:
    if isinstance(got, str) and isinstance(expected, str):
        return got.casefold() == expected.casefold()
    return bool(got == expected)


def _ratio(right: int, n: int) -> float | None:
    return round(right / n, 4) if n else None


def _percent(value: float) -> str:
    return f"{100 * value:5.1f}%"
