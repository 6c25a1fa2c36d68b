"""Find, import and switch on intent plugins: the built-in ``intents/`` folder,
configured folders and files, and installed packages (entry-point group
``assistant.intents``). A plugin is on unless it says ``enabled=False`` (then
``intents.enable`` or ``--intents`` switches it on) or ``intents.disable`` names it.

Plugin files are imported by path under private module names, so a plugin
called ``time.py`` cannot shadow the standard library and two folders may each
have a ``timers.py``. A file that fails to import, or defines no Plugin, is
reported with its file and line and skipped: one broken plugin never stops the
others.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import logging
import re
import sys
import traceback
import types
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.config import Config
from assistant.errors import ConfigError
from assistant.intents.plugin import Plugin, PluginError
from assistant.intents.templates import CompiledIntent, compile_plugin

_log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "assistant.intents"
def _builtin_dir() -> Path:
    """The built-in skills: the checkout's top-level ``intents/`` folder, which an installed wheel carries as
    ``assistant/skills`` (pyproject.toml maps one onto the other)."""
    package = Path(__file__).resolve().parents[1]
    installed = package / "skills"
    return installed if installed.is_dir() else package.parent / "intents"


BUILTIN_DIR = _builtin_dir()


@dataclass(frozen=True)
class Found:
    """A plugin object and where it came from."""

    plugin: Plugin
    source: str
    """File path, or ``entry point NAME`` for installed packages."""


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
class LoadFailure:
    source: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        return f"{where}: {self.message}"


def plugin_files(path: Path) -> list[Path]:
    """The plugin modules in a folder (sorted, private ``_*.py`` skipped), or the file itself."""
    if path.is_dir():
        return sorted(p for p in path.glob("*.py") if not p.name.startswith("_"))
    return [path]


def load_file(path: Path) -> tuple[list[Found], LoadFailure | None]:
    """Import one plugin file and collect its Plugin objects."""
    module_name = _module_name(path)
    try:
        spec = importlib.util.spec_from_file_location(module_name, path)
        if spec is None or spec.loader is None:
            return [], LoadFailure(str(path), None, "not a Python file")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module  # dataclasses and pickling look modules up here
        spec.loader.exec_module(module)
    except Exception as exc:  # a plugin may raise anything while importing; it must not stop the others
        sys.modules.pop(module_name, None)
        return [], describe_failure(path, exc)
    plugins = _plugins_in(module, default_name=path.stem)
    if not plugins:
        return [], LoadFailure(str(path), None, "defines no Plugin (expected e.g. `plugin = Plugin(...)` at module level)")
    return [Found(p, str(path)) for p in plugins], None


def load_entry_points() -> tuple[list[Found], list[LoadFailure]]:
    """Plugins of installed packages: an entry point names a module or a Plugin object."""
    found: list[Found] = []
    failures: list[LoadFailure] = []
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        source = f"entry point {ep.name} ({ep.value})"
        try:
            obj = ep.load()
        except Exception as exc:  # same rule as files: report and go on
            failures.append(describe_failure(Path(ep.value), exc, source))
            continue
        if isinstance(obj, Plugin):
            obj.name = obj.name or ep.name
            found.append(Found(obj, source))
        elif isinstance(obj, types.ModuleType) and (plugins := _plugins_in(obj, default_name=ep.name)):
            found.extend(Found(p, source) for p in plugins)
        else:
            failures.append(LoadFailure(source, None, "is neither a Plugin nor a module defining one"))
    return found, failures


def discover(config: Config, extra_paths: Sequence[str] = ()) -> tuple[list[Found], list[LoadFailure], set[str]]:
    """Import every plugin file and installed plugin; also the names ``extra_paths`` asks to switch on."""
    explicit: set[str] = set()
    sources: list[Path] = [BUILTIN_DIR] if BUILTIN_DIR.is_dir() else []
    if not sources:
        _log.warning("the built-in skills folder %s is missing: only configured and installed plugins are loaded", BUILTIN_DIR)
    sources += [Path(p).expanduser() for p in config.intents.paths]
    extra_files: set[Path] = set()
    for item in extra_paths:
        path = Path(item).expanduser()
        if path.exists():
            sources.append(path)
            extra_files.update(p.resolve() for p in plugin_files(path))
        elif re.fullmatch(r"[A-Za-z_][\w-]*", item):
            explicit.add(item)
        else:
            raise ConfigError(f"--intents {item}: no such file or folder")
    for path in sources:
        if not path.exists():
            raise ConfigError(f"intents.paths: {path} does not exist")

    found: list[Found] = []
    failures: list[LoadFailure] = []
    seen: set[Path] = set()
    for file in (f for source in sources for f in plugin_files(source)):
        if file.resolve() in seen:
            continue
        seen.add(file.resolve())
        plugins, failure = load_file(file)
        if file.resolve() in extra_files:
            explicit.update(p.plugin.name for p in plugins if p.plugin.name)
        found.extend(plugins)
        failures.extend([failure] if failure else [])
    installed, broken = load_entry_points()
    found += installed
    failures += broken

    known = sorted(name for name in {f.plugin.name for f in found} if name)
    if explicit - set(known):
        raise ConfigError(f"--intents {', '.join(sorted(explicit - set(known)))}: no such plugin file or plugin name; known plugins: {', '.join(known)}")
    for name in sorted(set(config.intents.enable) - set(known)):
        _log.warning("intents.enable: no plugin named %r (known: %s)", name, ", ".join(known))
    for name in sorted(set(config.plugins) - set(known)):
        _log.warning("plugins.%s: no plugin of that name is installed; its settings are unused", name)
    return found, failures, explicit


def activate(found: Sequence[Found], config: Config, explicit: AbstractSet[str] = frozenset()) -> tuple[list[LoadedPlugin], list[str], list[LoadFailure]]:
    """Switch plugins on or off and compile the ones that are on: (loaded, names off, failures)."""
    loaded: list[LoadedPlugin] = []
    off: list[str] = []
    failures: list[LoadFailure] = []
    sources: dict[str, str] = {}
    intent_owner: dict[str, str] = {}
    for item in found:
        plugin = item.plugin
        if plugin.name is None:
            failures.append(LoadFailure(item.source, None, "several Plugins in one file: give each a name"))
            continue
        wanted = plugin.enabled or plugin.name in config.intents.enable or plugin.name in explicit
        if not wanted or plugin.name in config.intents.disable:
            off.append(plugin.name)
            continue
        if plugin.name in sources:
            failures.append(LoadFailure(item.source, None, f"a plugin named {plugin.name!r} is already loaded from {sources[plugin.name]}"))
            continue
        settings = _merge(plugin.config, config.plugins.get(plugin.name, {}))
        try:
            if plugin.check is not None:
                plugin.check(settings)
            compiled = compile_plugin(plugin, settings, config.assistant.areas)
            clash = next((c.name for c in compiled if c.name in intent_owner), None)
            if clash:
                raise PluginError(f"intent {clash!r} is already defined by plugin {intent_owner[clash]!r}")
        except Exception as exc:  # a plugin's check, lists callable or templates may fail in any way
            failures.append(_declaration_failure(item.source, exc))
            continue
        sources[plugin.name] = item.source
        intent_owner.update((c.name, plugin.name) for c in compiled)
        loaded.append(LoadedPlugin(plugin, item.source, settings, compiled))
    return loaded, off, failures


def _plugins_in(module: types.ModuleType, default_name: str) -> list[Plugin]:
    plugins = [value for value in vars(module).values() if isinstance(value, Plugin)]
    for plugin in plugins:
        if plugin.name is None:
            plugin.name = default_name if len(plugins) == 1 else None
    return plugins


def _module_name(path: Path) -> str:
    base = "assistant_plugin_" + "".join(c if c.isalnum() else "_" for c in path.stem)
    name, n = base, 1
    while name in sys.modules and getattr(sys.modules[name], "__file__", None) != str(path):
        n += 1
        name = f"{base}_{n}"
    return name


def describe_failure(path: Path, exc: BaseException, source: str | None = None) -> LoadFailure:
    """Point at the line in the plugin file that failed, not at the importer."""
    if isinstance(exc, SyntaxError):
        return LoadFailure(exc.filename or str(path), exc.lineno, f"SyntaxError: {exc.msg}")
    frames = traceback.extract_tb(exc.__traceback__)
    in_plugin = [f for f in frames if Path(f.filename).resolve() == path.resolve()] if path.suffix == ".py" else []
    frame = (in_plugin or frames or [None])[-1]
    message = f"{type(exc).__name__}: {exc}"
    if frame is None:
        return LoadFailure(source or str(path), None, message)
    return LoadFailure(frame.filename, frame.lineno, message if source is None else f"{source}: {message}")


def _merge(defaults: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    merged = dict(defaults)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _declaration_failure(source: str, exc: Exception) -> LoadFailure:
    if isinstance(exc, PluginError):
        return LoadFailure(exc.source or source, exc.line, exc.message)
    return describe_failure(Path(source), exc)
