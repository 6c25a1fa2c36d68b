"""Text in, intent out: exact hassil matching first, the fuzzy matcher when that fails.

Both see the same normalised text and the same normalised templates. An exact
match has confidence 1.0; a fuzzy one its alignment score, and below
``intents.fuzzy_threshold`` the utterance is out of scope (``None``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hassil import Intents, recognize_best
from hassil.intents import Intent

from assistant.config import Config
from assistant.errors import ConfigError
from assistant.intents import loader
from assistant.intents.fuzzy import FuzzyMatcher, TemplateSet, tokenize
from assistant.intents.normalize import normalize
from assistant.intents.plugin import Handler, Plugin, PluginError
from assistant.intents.slots import type_slots
from assistant.intents.templates import CompiledIntent, compile_plugin
from assistant.intents.vocab import build_vocabulary, slot_names
from assistant.intents.vocab import examples as make_examples
from assistant.vocabulary import Vocabulary

_log = logging.getLogger(__name__)

SKIP_WORDS = ["please", "can you", "could you", "would you", "will you", "for me", "um", "uh"]
"""Said around commands, never meaningful: hassil tries with and without them."""


@dataclass
class IntentMatch:
    name: str
    slots: dict[str, Any]
    confidence: float
    text: str
    plugin: str


@dataclass
class LoadedPlugin:
    """A plugin that is on and compiled, with its merged settings."""

    plugin: Plugin
    source: str
    config: dict[str, Any]
    intents: list[CompiledIntent] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.plugin.name or ""


@dataclass(frozen=True)
class IntentInfo:
    """For listings (``assistant intents``, the help intent)."""

    name: str
    plugin: str
    description: str
    slots: tuple[str, ...]
    examples: tuple[str, ...]


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
            intents={name: Intent(name=name, data=[c.data]) for name, c in self._intents.items()},
            skip_words=SKIP_WORDS,
        )
        self._fuzzy = FuzzyMatcher([TemplateSet(c.name, c.sentences, c.slot_lists, c.rules) for c in self._intents.values()])
        self._vocabulary: Vocabulary | None = None
        self._warm_up()

    @classmethod
    def from_config(cls, config: Config, extra_paths: Sequence[str] = ()) -> IntentEngine:
        """Load the built-in, configured and installed plugins; ``extra_paths`` (``--intents``) are switched on.

        An ``extra_paths`` entry that is not a file or folder is taken as the
        name of a plugin to switch on (``--intents coffee``).
        """
        enable = set(config.intents.enable)
        explicit: set[str] = set()
        sources: list[Path] = [loader.BUILTIN_DIR] if loader.BUILTIN_DIR.is_dir() else []
        if not sources:
            _log.warning("the built-in skills folder %s is missing: only configured and installed plugins are loaded", loader.BUILTIN_DIR)
        sources += [Path(p).expanduser() for p in config.intents.paths]
        extra_files: set[Path] = set()
        for item in extra_paths:
            path = Path(item).expanduser()
            if path.exists():
                sources.append(path)
                extra_files.update(p.resolve() for p in loader.plugin_files(path))
            elif re.fullmatch(r"[A-Za-z_][\w-]*", item):
                explicit.add(item)
            else:
                raise ConfigError(f"--intents {item}: no such file or folder")
        for path in sources:
            if not path.exists():
                raise ConfigError(f"intents.paths: {path} does not exist")

        found: list[loader.Found] = []
        failures: list[loader.LoadFailure] = []
        seen_files: set[Path] = set()
        for source in sources:
            for file in loader.plugin_files(source):
                if file.resolve() in seen_files:
                    continue
                seen_files.add(file.resolve())
                plugins, failure = loader.load_file(file)
                if file.resolve() in extra_files:
                    explicit.update(p.plugin.name for p in plugins if p.plugin.name)
                found.extend(plugins)
                if failure:
                    failures.append(failure)
        installed, broken = loader.load_entry_points()
        found += installed
        failures += broken

        known = {f.plugin.name for f in found}
        unknown = (enable | explicit) - known
        if unknown & explicit:
            raise ConfigError(f"--intents {', '.join(sorted(unknown & explicit))}: no such plugin file or plugin name; known plugins: {', '.join(sorted(n for n in known if n))}")
        for name in sorted(unknown):
            _log.warning("intents.enable: no plugin named %r (known: %s)", name, ", ".join(sorted(n for n in known if n)))
        for name in sorted(set(config.plugins) - known):
            _log.warning("plugins.%s: no plugin of that name is installed; its settings are unused", name)

        loaded: list[LoadedPlugin] = []
        off: list[str] = []
        names: dict[str, str] = {}
        intent_owner: dict[str, str] = {}
        for item in found:
            plugin = item.plugin
            if plugin.name is None:
                failures.append(loader.LoadFailure(item.source, None, "several Plugins in one file: give each a name"))
                continue
            on = (plugin.enabled or plugin.name in enable or plugin.name in explicit) and plugin.name not in config.intents.disable
            if not on:
                off.append(plugin.name)
                continue
            if plugin.name in names:
                failures.append(loader.LoadFailure(item.source, None, f"a plugin named {plugin.name!r} is already loaded from {names[plugin.name]}"))
                continue
            settings = _merge(plugin.config, config.plugins.get(plugin.name, {}))
            try:
                compiled = compile_plugin(plugin, settings)
                clash = next((c.name for c in compiled if c.name in intent_owner), None)
                if clash:
                    raise PluginError(f"intent {clash!r} is already defined by plugin {intent_owner[clash]!r}")
            except Exception as exc:  # a plugin's lists callable or templates may fail in any way
                failures.append(_declaration_failure(item.source, exc))
                continue
            names[plugin.name] = item.source
            intent_owner.update((c.name, plugin.name) for c in compiled)
            loaded.append(LoadedPlugin(plugin, item.source, settings, compiled))
        for failure in failures:
            _log.warning("intent plugin skipped: %s", failure)
        return cls(loaded, fuzzy_threshold=config.intents.fuzzy_threshold, failures=failures, available_off=off)

    # -- recognition --
    def recognize(self, text: str) -> IntentMatch | None:
        """The intent in ``text``, or None when nothing reaches the fuzzy threshold (out of scope)."""
        return self._match(text, self.fuzzy_threshold)

    def best(self, text: str) -> IntentMatch | None:
        """The closest intent whatever its confidence (for diagnostics: ``ask --json``, eval)."""
        return self._match(text, 0.0)

    def _match(self, text: str, threshold: float) -> IntentMatch | None:
        normalised = normalize(text)
        if not normalised:
            return None
        result = recognize_best(normalised, self._hassil, language="en")
        if result is not None:
            raw = {name: entity.value for name, entity in result.entities.items()}
            return self._make(result.intent.name, raw, 1.0, text)
        tokens = tokenize(normalised)
        fuzzy = self._fuzzy.match(tokens, max_cost=_cost_bound(threshold, len(tokens)))
        if fuzzy is None or fuzzy.confidence < threshold:
            return None
        return self._make(fuzzy.intent, fuzzy.slots, fuzzy.confidence, text)

    def _make(self, name: str, raw: dict[str, Any], confidence: float, text: str) -> IntentMatch:
        compiled = self._intents[name]
        slots = type_slots(raw, compiled.durations)
        return IntentMatch(name, slots, confidence, text, compiled.plugin)

    def _warm_up(self) -> None:
        """hassil builds its number tries and template indexes on first use: pay that at load, not on the first command."""
        for info in self.intents(examples=1):
            for example in info.examples:
                self._match(example, 1.0)

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

    def vocabulary(self) -> Vocabulary:
        """Words and phrases the templates can produce, for recognizer biasing (computed once)."""
        if self._vocabulary is None:
            self._vocabulary = build_vocabulary(list(self._intents.values()))
        return self._vocabulary

    @property
    def fuzzy_graph_size(self) -> int:
        return self._fuzzy.size


def _cost_bound(threshold: float, words: int) -> float:
    """The largest alignment cost that can still reach ``threshold`` (prunes the fuzzy search).

    confidence = 1 - cost / max(words, L) and every template word skipped costs
    at least 0.5, so L <= words + 2·cost; solving gives the bound below.
    """
    if threshold <= 0.5:
        return float("inf")
    return (1 - threshold) * words / (2 * threshold - 1) + 1e-9


def _merge(defaults: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    merged = dict(defaults)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _declaration_failure(source: str, exc: Exception) -> loader.LoadFailure:
    if isinstance(exc, PluginError):
        return loader.LoadFailure(exc.source or source, exc.line, exc.message)
    return loader.describe_failure(Path(source), exc)
