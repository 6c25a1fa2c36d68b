"""Score the whole loop on recorded speech: each clip through the pipeline `assistant run --input` runs.

A clip is decoded as :class:`FileSource` decodes it, optionally mixed with
noise, and fed in 80 ms chunks to a fresh pipeline from :func:`make_pipeline`
(file mode: each turn completes before more audio is heard), so the endpointer,
recognizer, intent engine and handlers are exactly the ones a user runs; only
the spoken reply is left out. The wake word is off unless the clip says one;
with ``wake_models`` the clips without a wake word also go once through a
pipeline that listens for those models, and every detection is a false accept.

The command a clip is scored on is what the pipeline acted on: the first
``intent`` event, and any further intent event (a command split in two by the
endpointer, a hallucination in the noise after it) makes the clip wrong,
because a user would have seen two actions.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from assistant.assembly import Resources, make_pipeline
from assistant.audio.file import FileSource
from assistant.audio.source import CHUNK_SAMPLES
from assistant.config import Config
from assistant.errors import AssistantError
from assistant.evaluate.manifest import Case
from assistant.evaluate.noise import NoiseMixer
from assistant.evaluate.report import Outcome, Report
from assistant.events import Event, EventEmitter, EventSink
from assistant.intents.engine import IntentMatch
from assistant.wake import model_name

EVAL_DEVICE = "eval"
"""The device every clip is heard as, forgotten after each clip."""


def load_audio(path: Path, emit: EventSink | None = None) -> np.ndarray:
    """A file as pipeline audio, converted (and zero-padded to whole chunks) exactly as ``run --input`` does."""
    return np.concatenate(list(FileSource(path, emit=emit).frames()))


class AudioEvaluator:
    """Runs clips through pipelines built from one configuration and one set of loaded models."""

    def __init__(
        self,
        config: Config,
        resources: Resources,
        *,
        noise: NoiseMixer | None = None,
        wake_models: Sequence[str] = (),
        extra_sinks: Sequence[EventSink] = (),
    ) -> None:
        self.config = config
        self.resources = resources
        self.noise = noise
        self.wake_models = tuple(model_name(config.wake.engine, m) for m in wake_models)
        self.extra_sinks = tuple(extra_sinks)
        """Also see every event (a latency tracker, a log)."""
        self._configs: dict[tuple[str, ...], Config] = {}

    def conditions(self) -> dict[str, Any]:
        asr = self.config.asr
        return {
            "asr": "none" if asr.engine == "none" else f"{asr.engine} {asr.model or '(default model)'}",
            "noise": self.noise.describe() if self.noise is not None else "none (clean)",
            "snr_db": self.noise.snr_db if self.noise is not None else None,
        }

    def evaluate(self, cases: Iterable[Case], *, progress: bool | None = None, on_outcome: Callable[[Outcome], None] | None = None) -> Report:
        """Every clip in turn; ``progress`` None draws a bar on stderr only when it is a terminal."""
        cases = list(cases)
        outcomes = []
        bar = tqdm(cases, desc="clips", unit="clip", disable=None if progress is None else not progress, leave=False, dynamic_ncols=True)
        with bar:
            for case in bar:
                outcome = self.run(case)
                outcomes.append(outcome)
                if on_outcome is not None:
                    on_outcome(outcome)
                right = sum(o.right for o in outcomes if o.case.scored and o.case.intent is not None)
                scored = sum(o.case.scored and o.case.intent is not None for o in outcomes)
                if scored:
                    bar.set_postfix_str(f"accepted {right}/{scored}", refresh=False)
        return Report(outcomes, conditions=self.conditions(), wake_models=self.wake_models)

    def run(self, case: Case) -> Outcome:
        if case.audio is None:
            raise ValueError(f"line {case.line} has no audio")
        began = time.perf_counter()
        errors: list[str] = []

        def collect_errors(event: Event) -> None:
            if event.type == "error":
                errors.append(f"{event.code}: {event.message}")

        try:
            audio = load_audio(case.audio, emit=collect_errors)
        except AssistantError as exc:
            return Outcome(case, "", None, time.perf_counter() - began, error=str(exc))
        if self.noise is not None:
            audio = self.noise.mix(audio, case.line)
        models = (wake := model_name(self.config.wake.engine, case.wake), *(m for m in self.wake_models if m != wake)) if case.wake else ()
        understand = case.scored or case.text is not None
        events = self._feed(audio, models, understand, collect_errors)
        false_wakes = 0
        if case.wake is None and self.wake_models:
            false_wakes = sum(e.type == "wake" for e in self._feed(audio, self.wake_models, False, collect_errors))
        intents = [e for e in events if e.type == "intent"]
        return Outcome(
            case,
            heard=" ".join(e.text for e in events if e.type == "transcript" and e.text),
            match=self._match(intents[0]) if intents else None,
            seconds=time.perf_counter() - began,
            extra_actions=max(0, len(intents) - 1),
            audio_seconds=len(audio) / 16000,
            wake_detected=any(e.type == "wake" and e.model == models[0] for e in events) if case.wake else None,
            false_wakes=false_wakes,
            error="; ".join(errors) or None,
        )

    def _feed(self, audio: np.ndarray, wake_models: tuple[str, ...], understand: bool, on_error: EventSink) -> list[Event]:
        """One fresh pipeline over the clip, heard as a device of its own that is forgotten after it (no
        question or timer of one clip reaches the next); ``understand`` False = wake word and VAD only."""
        events: list[Event] = []
        emitter = EventEmitter([events.append, on_error, *self.extra_sinks])
        resources = self.resources if understand else None
        conversation = resources.conversations.device(EVAL_DEVICE) if resources is not None else None
        pipeline = make_pipeline(self._config(wake_models), emitter, resources, synchronous=True, conversation=conversation)
        try:
            for chunk in audio.reshape(-1, CHUNK_SAMPLES):
                pipeline.feed(chunk)
            pipeline.finish()
        finally:
            pipeline.close()
            if resources is not None:
                resources.conversations.forget(EVAL_DEVICE)
        return events

    def _config(self, wake_models: tuple[str, ...]) -> Config:
        """The configuration with the wake word off, or on with these models."""
        if wake_models not in self._configs:
            wake = {"enabled": bool(wake_models)} | ({"models": list(wake_models)} if wake_models else {})
            self._configs[wake_models] = self.config.model_copy(
                update={"wake": self.config.wake.model_copy(update=wake), "feedback": self.config.feedback.model_copy(update={"chimes": False})}
            )
        return self._configs[wake_models]

    def _match(self, event: Event) -> IntentMatch:
        plugin = self.resources.intents.owner(event.name).name
        return IntentMatch(event.name, event.slots, event.confidence, event.text, plugin)
