"""Find and import intent plugins: the built-in ``intents/`` folder, configured
folders and files, and installed packages (entry-point group ``assistant.intents``).

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
import sys
import traceback
import types
from dataclasses import dataclass
from pathlib import Path

from assistant.intents.plugin import Plugin

_log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "assistant.intents"
BUILTIN_DIR = Path(__file__).resolve().parents[2] / "intents"
"""The repository's top-level ``intents/`` folder with the built-in skills."""


@dataclass(frozen=True)
class Found:
    """A plugin object and where it came from."""

    plugin: Plugin
    source: str
    """File path, or ``entry point NAME`` for installed packages."""


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
