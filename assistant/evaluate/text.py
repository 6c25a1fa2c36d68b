"""Score the intent engine alone on a text manifest: no audio, no recognizer, no handlers."""

from __future__ import annotations

import time
from collections.abc import Iterable

from assistant.evaluate.manifest import Case
from assistant.evaluate.report import Outcome, Report
from assistant.intents.engine import IntentEngine


def evaluate_text(engine: IntentEngine, cases: Iterable[Case]) -> Report:
    outcomes = []
    for case in cases:
        heard = case.text or ""
        start = time.perf_counter()
        match = engine.recognize(heard)
        outcomes.append(Outcome(case, heard, match, time.perf_counter() - start))
    return Report(outcomes)
