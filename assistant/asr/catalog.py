"""The speech models ``assistant models`` knows by name.

vosk models come from the official model site as zip archives. alphacephei
publishes sizes and MD5s in its model-list.json, which is not reachable from
where this was written; the byte sizes and SHA-256 digests below are those
that several unrelated projects pin for the very same archive URLs (Arch and
Yocto recipes, app download managers), each value seen identically in at least
three of them. A download is checked against both before it is unpacked.

whisper models come from the Hugging Face Hub through faster-whisper, whose
client verifies every file by its SHA-256 itself; their sizes are approximate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

VOSK_MODEL_URL = "https://alphacephei.com/vosk/models/"

Engine = Literal["vosk", "whisper"]


@dataclass(frozen=True)
class CatalogEntry:
    name: str
    engine: Engine
    language: str
    size: int
    """Bytes to download: exact for vosk archives (verified), approximate for whisper."""
    sha256: str | None = None
    """Of the vosk zip archive; None for whisper (the Hub client checks each file)."""
    description: str = ""

    @property
    def archive(self) -> str:
        return f"{self.name}.zip"

    @property
    def size_text(self) -> str:
        if not self.size:
            return "?"
        approx = "" if self.sha256 else "~"
        return f"{approx}{self.size / 1_048_576:.0f} MB"


CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry(
        "vosk-model-small-en-us-0.15", "vosk", "en-us", 41_205_931,
        "30f26242c4eb449f948e42cb302dd7a686cb29a3423a8367f99ff41780942498",
        "US English, small (default)",
    ),
    CatalogEntry(
        "vosk-model-small-de-0.15", "vosk", "de", 46_499_967,
        "b7e53c90b1f0a38456f4cd62b366ecd58803cd97cd42b06438e2c131713d5e43",
        "German, small",
    ),
    CatalogEntry(
        "vosk-model-small-fr-0.22", "vosk", "fr", 42_233_323,
        "cabf6180e177eb9b3a9a9d43a437bd5e549f3a7d09525e5d69a3fed787be12ad",
        "French, small",
    ),
    CatalogEntry(
        "vosk-model-small-es-0.42", "vosk", "es", 39_817_833,
        "09b239888f633ef2f0b4e09736e3d9936acfd810bc65d53fad45261762c6511f",
        "Spanish, small",
    ),
    CatalogEntry(
        "vosk-model-small-ru-0.22", "vosk", "ru", 46_236_750,
        "961d5ff98a17f4aa6de69864d0aa71fa5bac682301d2b5d17a3f24c5c99a46d4",
        "Russian, small",
    ),
    CatalogEntry(
        "vosk-model-small-ko-0.22", "vosk", "ko", 86_914_329,
        "eea36124087fed26c59996a4761519458e3bd185e8ea9d9865ad8760c4a1d989",
        "Korean, small",
    ),
    CatalogEntry("tiny.en", "whisper", "en", 78_000_000, description="whisper tiny, English only (default for asr.engine: whisper)"),
    CatalogEntry("base.en", "whisper", "en", 148_000_000, description="whisper base, English only: more accurate, ~2x slower"),
    CatalogEntry("small.en", "whisper", "en", 487_000_000, description="whisper small, English only: desktop class"),
    CatalogEntry("tiny", "whisper", "multilingual", 78_000_000, description="whisper tiny, 99 languages"),
    CatalogEntry("base", "whisper", "multilingual", 148_000_000, description="whisper base, 99 languages"),
)

DEFAULT_MODEL: dict[Engine, str] = {"vosk": "vosk-model-small-en-us-0.15", "whisper": "tiny.en"}


def find(name: str, catalog: tuple[CatalogEntry, ...] = CATALOG) -> CatalogEntry | None:
    return next((e for e in catalog if e.name == name), None)
