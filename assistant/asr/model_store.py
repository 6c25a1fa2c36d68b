"""Where speech models live and how a name in the config becomes a model directory.

Models are installed under the user data dir (``~/.local/share/assistant/models``
on Linux), one directory per model name. Installing is atomic: the archive is
unpacked into a hidden staging directory beside the target and renamed into
place, so an interrupted ``assistant models pull`` (Ctrl-C, power cut) leaves
either no model or the whole model, never half of one.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from platformdirs import user_data_path

from assistant.asr.catalog import CATALOG, DEFAULT_MODEL, VOSK_MODEL_URL, CatalogEntry, Engine, find
from assistant.asr.download import fetch
from assistant.asr.vosk_backend import _not_a_model, is_vosk_model
from assistant.asr.whisper_backend import is_whisper_model
from assistant.errors import ModelError

_log = logging.getLogger(__name__)

_IS_MODEL: dict[str, Callable[[Path], bool]] = {"vosk": is_vosk_model, "whisper": is_whisper_model}


def default_models_dir() -> Path:
    return user_data_path("assistant") / "models"


@dataclass(frozen=True)
class ModelStatus:
    entry: CatalogEntry
    path: Path
    installed: bool


class ModelStore:
    def __init__(
        self,
        root: Path | None = None,
        *,
        catalog: tuple[CatalogEntry, ...] = CATALOG,
        base_url: str = VOSK_MODEL_URL,
        progress: bool = True,
    ) -> None:
        self.root = Path(root) if root is not None else default_models_dir()
        self.catalog = catalog
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.progress = progress

    def entry(self, name: str) -> CatalogEntry:
        found = self._find(name)
        if found is None:
            known = ", ".join(e.name for e in self.catalog)
            raise ModelError(f"unknown model {name!r}; known models: {known} (or set asr.model to a model directory)")
        return found

    def path(self, name: str) -> Path:
        return self.root / self.entry(name).name

    def is_installed(self, entry: CatalogEntry) -> bool:
        return _IS_MODEL[entry.engine](self.root / entry.name)

    def status(self) -> list[ModelStatus]:
        return [ModelStatus(e, self.root / e.name, self.is_installed(e)) for e in self.catalog]

    def pull(self, name: str, *, force: bool = False) -> Path:
        """Download and install ``name``; returns its directory (at once when already installed)."""
        entry = self.entry(name)
        target = self.root / entry.name
        if self.is_installed(entry) and not force:
            return target
        self.root.mkdir(parents=True, exist_ok=True)
        if entry.engine == "whisper":
            return self._pull_whisper(entry, target)
        archive = self.root / ".downloads" / (entry.archive + ".part")
        fetch(self.base_url + entry.archive, archive, size=entry.size, sha256=entry.sha256, progress=self.progress)
        install_zip(archive, target, is_vosk_model)
        archive.unlink()
        return target

    def resolve(self, engine: Engine, spec: str | None, *, auto_download: bool = False) -> Path:
        """``asr.model`` (a catalog name or a path; None = the engine's default) → a model directory."""
        spec = spec or DEFAULT_MODEL[engine]
        if _looks_like_path(spec):
            return _check_model_dir(engine, Path(spec).expanduser())
        entry = self._find(spec)
        if entry is None:
            names = ", ".join(e.name for e in self.catalog if e.engine == engine)
            raise ModelError(f"unknown {engine} model {spec!r}: use one of {names}, or a path to a model directory")
        if entry.engine != engine:
            raise ModelError(f"{spec} is a {entry.engine} model but asr.engine is {engine}: pass --asr {entry.engine}, or pick a {engine} model from `assistant models list`")
        target = self.root / entry.name
        if self.is_installed(entry):
            return target
        if entry.engine == "whisper" and (cached := _hub_cache(entry.name)) is not None:
            return cached
        if auto_download:
            _log.warning("the speech model %s is not installed; downloading it (asr.auto_download is on)", entry.name)
            return self.pull(entry.name)
        raise ModelError(
            f"the speech model {entry.name} is not installed. Fetch it with:\n"
            f"    assistant models pull {entry.name}\n"
            "or set asr.auto_download: true to fetch missing models at start."
        )

    def _find(self, name: str) -> CatalogEntry | None:
        """A catalog entry, or any other model name faster-whisper knows (medium.en, large-v3, ...)."""
        found = find(name, self.catalog)
        if found is None and name in _whisper_names():
            found = CatalogEntry(name, "whisper", "?", 0, description="a faster-whisper model")
        return found

    def _pull_whisper(self, entry: CatalogEntry, target: Path) -> Path:
        try:
            from faster_whisper.utils import download_model
        except ImportError:
            raise ModelError("whisper models need faster-whisper: pip install 'assistant[whisper]'") from None
        staging = Path(tempfile.mkdtemp(prefix=f".{entry.name}.", dir=self.root))
        try:
            _log.warning("downloading whisper model %s from the Hugging Face Hub (no progress is shown)", entry.name)
            try:
                with warnings.catch_warnings():  # faster-whisper passes an argument huggingface_hub deprecated
                    warnings.simplefilter("ignore", UserWarning)
                    download_model(entry.name, output_dir=str(staging / entry.name))
            except Exception as exc:  # huggingface_hub raises many unrelated types for "offline"
                raise ModelError(
                    f"cannot download the whisper model {entry.name} ({type(exc).__name__}: {exc}). Are you offline? "
                    "Copy a faster-whisper model directory to this machine and set asr.model to its path."
                ) from None
            _move_into_place(staging / entry.name, target, is_whisper_model, staging)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return target


def install_zip(archive: Path, target: Path, is_model: Callable[[Path], bool]) -> None:
    """Unpack ``archive`` (a model at its top or in one folder) and atomically rename it to ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        try:
            with zipfile.ZipFile(archive) as z:
                broken = z.testzip()
                if broken is not None:
                    raise ModelError(f"{archive.name}: the archive is damaged ({broken} fails its CRC check); run the command again")
                for member in z.namelist():
                    if PurePosixPath(member).is_absolute() or ".." in PurePosixPath(member).parts:
                        raise ModelError(f"{archive.name}: refusing to unpack {member!r}, which points outside the model directory")
                z.extractall(staging)
        except zipfile.BadZipFile as exc:
            raise ModelError(f"{archive.name} is not a valid zip archive ({exc}); delete it and run the command again") from None
        root = staging if is_model(staging) else next((p for p in staging.iterdir() if p.is_dir() and is_model(p)), None)
        if root is None:
            raise ModelError(f"{archive.name} does not contain a model")
        _move_into_place(root, target, is_model, staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _move_into_place(source: Path, target: Path, is_model: Callable[[Path], bool], staging: Path) -> None:
    if not is_model(source):
        raise ModelError(f"the download of {target.name} does not look like a model; nothing was installed")
    if source == staging:  # the archive had the model at its top level: give it a folder of its own
        source = staging / target.name
        os.mkdir(source)
        for item in staging.iterdir():
            if item != source:
                item.rename(source / item.name)
    if target.exists():  # --force: the old model goes into staging and is deleted with it
        target.rename(staging / (".previous-" + target.name))
    source.rename(target)  # atomic within one file system


def _whisper_names() -> list[str]:
    try:
        from faster_whisper.utils import available_models
    except ImportError:
        return []
    return available_models()


def _hub_cache(name: str) -> Path | None:
    """A whisper model faster-whisper already downloaded into the Hugging Face cache."""
    try:
        from faster_whisper.utils import download_model

        path = Path(download_model(name, local_files_only=True))
    except Exception:  # not cached, or faster-whisper missing: either way, not usable here
        return None
    return path if is_whisper_model(path) else None


def _looks_like_path(spec: str) -> bool:
    return os.sep in spec or "/" in spec or spec.startswith((".", "~")) or Path(spec).exists()


def _check_model_dir(engine: Engine, path: Path) -> Path:
    if _IS_MODEL[engine](path):
        return path
    if engine == "vosk":
        raise ModelError(_not_a_model(path))
    if not path.exists():
        raise ModelError(f"{path} does not exist: set asr.model to a whisper model name (tiny.en, base.en, ...) or a faster-whisper model directory")
    raise ModelError(f"{path} is not a faster-whisper model (a CTranslate2 model directory has model.bin and config.json)")
