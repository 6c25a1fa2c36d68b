"""Shared by the benchmark scripts: the recordings, a results folder, a table printer."""

from __future__ import annotations

import json
import os
import platform
import statistics
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data"
RESULTS = Path(os.environ.get("ASSISTANT_BENCH_RESULTS") or REPO / "bench" / "results")
"""Where results go; `assistant bench` passes its own folder (tests use a temporary one)."""


def load_16k(path: Path) -> np.ndarray:
    """A recording as pipeline audio, converted the way the pipeline's FileSource converts it."""
    from assistant.audio.file import FileSource

    return np.concatenate(list(FileSource(path).frames()))


def machine() -> str:
    try:
        model = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        model = platform.processor() or "unknown CPU"
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}"


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def table(headers: list[str], rows: list[list[object]]) -> str:
    cells = [headers] + [[_cell(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = [" | ".join(c.ljust(w) for c, w in zip(r, widths)) for r in cells]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"
    return str(value)


def headline(metric: str, value: float | str | None, unit: str = "", *, raw: float | None = None, raw_name: str = "raw library") -> dict:
    """One row of `assistant bench`'s summary table; ``raw`` is the same measure for the library we wrap."""
    row: dict = {"metric": metric, "value": value, "unit": unit}
    if raw is not None:
        row.update(raw=raw, raw_name=raw_name)
    return row


def save(name: str, payload: dict, headline: list[dict] | None = None) -> Path:
    """Write bench/results/NAME.json; ``headline`` rows are what `assistant bench` shows of this benchmark."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), **({"headline": headline} if headline else {}), **payload}, indent=2))
    return path
