"""Text in, intent out: exact hassil matching first, the fuzzy matcher when that fails.

Both see the same normalised text and the same normalised templates. An exact
match has confidence 1.0; a fuzzy one its alignment score, and below
``intents.fuzzy_threshold`` the utterance is out of scope (``None``).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from hassil import Intents, recognize_best
from hassil.intents import Intent

from assistant.config import Config
from assistant.intents import loader
from assistant.intents.alignment import FuzzyResult
from assistant.intents.fuzzy import Completion, FuzzyMatcher
from assistant.intents.loader import LoadedPlugin
from assistant.intents.normalize import normalize, without_repeats
from assistant.intents.plugin import Handler
from assistant.intents.slots import type_slots
from assistant.intents.templates import CompiledIntent
from assistant.intents.tokens import tokenize
from assistant.intents.vocab import build_vocabulary, slot_names
from assistant.intents.vocab import examples as make_examples
from assistant.vocabulary import Vocabulary

_log = logging.getLogger(__name__)

MAX_CANDIDATES = 8
"""Grammar sentences offered to the recognizer per utterance (whisper scores them on the audio in one batch;
README "In kitchen noise" has what that costs)."""

OTHER_READING_MARGIN = 0.05
"""How much more confident the repair of one of the recognizer's other readings must be to replace the repair
of its first, which must reach the threshold itself: whisper's second beam "... americano with soy" is soy
milk where its first, "... americano whistling", had to drop a word. Other readings only choose between
repairs, never make a command of speech whose first reading is out of scope (taking the likeliest repair of any
beam acted on "do you like espresso" for "like espresso"). README "In kitchen noise" has the table that chose
it."""

CANDIDATES_PER_REPAIR = 4
"""Like values tried per repaired slot ("skin" → skim milk, milk, ...)."""

SKIP_WORDS = ["please", "can you", "could you", "would you", "will you", "for me", "um", "uh"]
"""Said around commands, never meaningful: hassil tries with and without them."""


@dataclass
class IntentMatch:
    name: str
    slots: dict[str, Any]
    confidence: float
    text: str
    plugin: str
    complete: bool = True
    """False when it matched one of the intent's ``incomplete`` templates (its handler will ask for the rest)."""


@dataclass(frozen=True)
class Recognition:
    """What one pass over a sentence found: the command to act on, and how close the best guess came."""

    match: IntentMatch | None
    """The intent :meth:`IntentEngine.recognize` acts on; None when nothing reaches the fuzzy threshold."""
    closest: float
    """The confidence of the nearest intent, whether or not it reached the threshold (0.0: nothing near)."""


@dataclass(frozen=True)
class IntentInfo:
    """For listings (``assistant intents``, the help intent)."""

    name: str
    plugin: str
    description: str
    slots: tuple[str, ...]
    examples: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "plugin": self.plugin, "description": self.description, "slots": list(self.slots), "examples": list(self.examples)}


class IntentEngine:
    def __init__(
        self,
        plugins: Sequence[LoadedPlugin],
        *,
        fuzzy_threshold: float = 0.75,
        failures: Iterable[loader.LoadFailure] = (),
        available_off: Iterable[str] = (),
    ) -> None:
        self.plugins = list(plugins)
        self.failures = list(failures)
        self.available_off = sorted(available_off)
        """Plugins found but switched off (by default or by intents.disable)."""
        self.fuzzy_threshold = fuzzy_threshold
        self._intents: dict[str, CompiledIntent] = {}
        self._owners: dict[str, LoadedPlugin] = {}
        for loaded in self.plugins:
            for compiled in loaded.intents:
                self._intents[compiled.name] = compiled
                self._owners[compiled.name] = loaded
        self._hassil = Intents(
            language="en",
            intents={name: Intent(name=name, data=[d for d in (c.data, c.incomplete) if d is not None]) for name, c in self._intents.items()},
            skip_words=SKIP_WORDS,
        )
        self._fuzzy = FuzzyMatcher({c.name: c.templates for c in self._intents.values()})
        self._vocabulary: Vocabulary | None = None
        self._warm_up()

    @classmethod
    def from_config(cls, config: Config, extra_paths: Sequence[str] = ()) -> IntentEngine:
        """Load the built-in, configured and installed plugins; ``extra_paths`` (``--intents``) are switched on.

        An ``extra_paths`` entry that is not a file or folder is taken as the
        name of a plugin to switch on (``--intents coffee``).
        """
        found, failures, explicit = loader.discover(config, extra_paths)
        loaded, off, broken = loader.activate(found, config, explicit)
        for failure in failures + broken:
            _log.warning("intent plugin skipped: %s", failure)
        return cls(loaded, fuzzy_threshold=config.intents.fuzzy_threshold, failures=failures + broken, available_off=off)

    # -- recognition --
    def recognize(self, text: str, alternatives: Sequence[str] = ()) -> IntentMatch | None:
        """The intent in ``text``, or None when nothing reaches the fuzzy threshold (out of scope).

        ``alternatives`` are the recognizer's other readings of the same audio,
        best first (whisper's beams). The first reading a template matches
        exactly wins ("with whole milk" third in the beam beats "with home
        milk", which only fuzzily matches "some milk"); when none does, fuzzy
        matching repairs ``text``, or another reading whose repair is clearly
        more confident (see ``OTHER_READING_MARGIN``). The match's ``text``
        says which reading it was. Exact matching is cheap (well under a
        millisecond a reading).
        """
        readings = [(reading, normalize(reading)) for reading in (text, *alternatives)]
        for reading, normalised in readings:
            exact = self._exact(reading, normalised)
            if exact is not None:
                return exact
        repaired = self._fuzzy_match(text, readings[0][1], self.fuzzy_threshold)
        return self._prefer_other_reading(readings, repaired) if repaired is not None else None

    def interpret(self, text: str, alternatives: Sequence[str] = ()) -> Recognition:
        """:meth:`recognize`, and when nothing is understood how close the best guess came (what a turn reports
        as its ``no_intent`` confidence), in one pass: the fuzzy search is not pruned at the threshold, which
        costs about what the pruned one does and spares out-of-scope speech a second search."""
        readings = [(reading, normalize(reading)) for reading in (text, *alternatives)]
        for reading, normalised in readings:
            exact = self._exact(reading, normalised)
            if exact is not None:
                return Recognition(exact, 1.0)
        guess = self._fuzzy_match(text, readings[0][1], 0.0)
        if guess is None:
            return Recognition(None, 0.0)
        if guess.confidence < self.fuzzy_threshold:
            return Recognition(None, guess.confidence)
        match = self._prefer_other_reading(readings, guess)
        return Recognition(match, match.confidence)

    def completion(self, text: str, alternatives: Sequence[str] = ()) -> Completion:
        """How complete the command in ``text`` is (see :class:`Completion`), judged on the reading
        :meth:`recognize` would act on: the first one a template matches exactly, else ``text`` itself.

        The endpointer asks this of a transcript made in the trailing silence, to end a finished command
        sooner than an unfinished one. Skip words ("please", "can you") are read as hassil reads them.
        """
        readings = [(reading, normalize(reading)) for reading in (text, *alternatives)]
        matches = [(normalised, self._exact(reading, normalised)) for reading, normalised in readings]
        if not any(m is not None and m.complete for _, m in matches) and any(m is not None for _, m in matches):
            return Completion.PARTIAL  # "set a timer": a whole command, but a pause often comes before the rest
        chosen = next((normalised for normalised, m in matches if m is not None), readings[0][1])
        words = without_repeats(chosen).split()
        if not words:
            return Completion.NONE
        return self._fuzzy.completion([tokenize(" ".join(words)), tokenize(" ".join(_without_skip_words(words)))])

    def _closest(self, text: str, threshold: float) -> IntentMatch | None:
        normalised = normalize(text)
        return self._exact(text, normalised) or self._fuzzy_match(text, normalised, threshold)

    def _exact(self, text: str, normalised: str) -> IntentMatch | None:
        result = self._parse(normalised)
        if result is None:
            return None
        raw = {name: entity.value for name, entity in result.entities.items()}
        match = self._make(result.intent.name, raw, 1.0, text)
        match.complete = not (result.intent_metadata or {}).get("incomplete", False)
        return match

    def _parse(self, normalised: str):
        """hassil's best exact match (its ``RecognizeResult``) or None."""
        # as said first, so a title like "new york new york" keeps its repeat; then with repeats collapsed
        for candidate in dict.fromkeys((normalised, without_repeats(normalised))):
            result = recognize_best(candidate, self._hassil, language="en") if candidate else None
            if result is not None:
                return result
        return None

    def _fuzzy_match(self, text: str, normalised: str, threshold: float) -> IntentMatch | None:
        tokens = tokenize(without_repeats(normalised))
        if not tokens:
            return None
        fuzzy = self._fuzzy.match(tokens, max_cost=_cost_bound(threshold, len(tokens)))
        if fuzzy is None or fuzzy.confidence < threshold:
            return None
        return self._make(fuzzy.intent, fuzzy.slots, fuzzy.confidence, text)

    def _prefer_other_reading(self, readings: list[tuple[str, str]], repaired: IntentMatch) -> IntentMatch:
        """``repaired`` (the first reading's accepted repair), or the repair of a later reading that is
        ``OTHER_READING_MARGIN`` more confident than the best so far: the search for it is pruned at that
        confidence, so a reading that cannot win costs little."""
        for reading, normalised in readings[1:]:
            other = self._fuzzy_match(reading, normalised, repaired.confidence + OTHER_READING_MARGIN)
            if other is not None:
                repaired = other
        return repaired

    def _make(self, name: str, raw: dict[str, Any], confidence: float, text: str) -> IntentMatch:
        compiled = self._intents[name]
        slots = type_slots(raw, compiled.durations)
        return IntentMatch(name, slots, confidence, text, compiled.plugin)

    def _warm_up(self) -> None:
        """hassil builds its number tries and template indexes on first use: pay that at load, not on the first command."""
        for info in self.intents(examples=1):
            for example in info.examples:
                self._closest(example, 1.0)

    # -- what is loaded --
    def handler(self, intent: str) -> Handler:
        return self._intents[intent].spec.handler

    def owner(self, intent: str) -> LoadedPlugin:
        return self._owners[intent]

    def intents(self, examples: int = 2) -> list[IntentInfo]:
        return [
            IntentInfo(c.name, c.plugin, c.spec.description, slot_names(c), make_examples(c, examples))
            for c in self._intents.values()
        ]

    def catalog(self, examples: int = 2) -> dict[str, Any]:
        """What the assistant understands, by plugin (``assistant intents``, ``GET /v1/intents``):
        ``{"plugins": [{"name", "description", "intents": [IntentInfo.to_dict(), ...]}], "off": [names]}``."""
        infos = sorted(self.intents(examples), key=lambda i: i.name)
        plugins = [
            {"name": p.name, "description": p.plugin.description, "intents": [i.to_dict() for i in infos if i.plugin == p.name]}
            for p in sorted(self.plugins, key=lambda p: p.name)
        ]
        return {"plugins": [p for p in plugins if p["intents"]], "off": list(self.available_off)}

    def vocabulary(self) -> Vocabulary:
        """Words and phrases the templates can produce, for recognizer biasing, and the exact matcher (computed once)."""
        if self._vocabulary is None:
            self._vocabulary = dataclasses.replace(build_vocabulary(list(self._intents.values())), understood=self.understands, candidates=self.candidates)
        return self._vocabulary

    def understands(self, text: str, alternatives: Sequence[str] = (), *, free_text: bool = True) -> bool:
        """Whether a template matches ``text`` or one of its alternatives exactly (what :meth:`recognize` acts on
        with full confidence). ``free_text=False``: only a match whose words all come from the templates (no
        wildcard slot such as a timer's name, which any words fill, so it says little about how well they were heard)."""
        for reading in (text, *alternatives):
            result = self._parse(normalize(reading))
            if result is not None and (free_text or not any(entity.is_wildcard for entity in result.entities.values())):
                return True
        return False

    def candidates(self, readings: Sequence[str]) -> list[str]:
        """The grammar's sentences nearest to what the recognizer heard, for it to score on the audio.

        Only when :meth:`recognize` would repair the first reading (no reading matches exactly, and the fuzzy
        matcher takes the first at ``intents.fuzzy_threshold``), so speech the engine rejects stays rejected:
        the repaired sentence of each reading the matcher takes, then each with one repaired slot value swapped
        for a like one ("a bit of skin" → "a bit of milk", "a bit of skim milk", ...). At most ``MAX_CANDIDATES``.
        """
        found: list[FuzzyResult] = []
        for reading in readings:
            normalised = normalize(reading)
            if self._exact(reading, normalised) is not None:
                return []
            tokens = tokenize(without_repeats(normalised))
            fuzzy = self._fuzzy.match(tokens, max_cost=_cost_bound(self.fuzzy_threshold, len(tokens))) if tokens else None
            if fuzzy is not None and fuzzy.confidence >= self.fuzzy_threshold:
                found.append(fuzzy)
            elif not found:
                return []  # the first reading is out of scope
        sentences = [s for fuzzy in found for s in fuzzy.sentences(0)]
        sentences += [s for fuzzy in found for s in fuzzy.sentences(CANDIDATES_PER_REPAIR)]
        return list(dict.fromkeys(sentences))[:MAX_CANDIDATES]

    @property
    def fuzzy_graph_size(self) -> int:
        return self._fuzzy.size


def _without_skip_words(words: list[str]) -> list[str]:
    skips = sorted((w.split() for w in SKIP_WORDS), key=len, reverse=True)
    out: list[str] = []
    i = 0
    while i < len(words):
        skip = next((len(s) for s in skips if words[i : i + len(s)] == s), 0)
        if not skip:
            out.append(words[i])
        i += skip or 1
    return out


def _cost_bound(threshold: float, words: int) -> float:
    """The largest alignment cost that can still reach ``threshold`` (prunes the fuzzy search).

    confidence = 1 - cost / max(words, L) and every template word skipped costs
    at least 0.5, so L <= words + 2·cost; solving gives the bound below.
    """
    if threshold <= 0.5:
        return float("inf")
    return (1 - threshold) * words / (2 * threshold - 1) + 1e-9
