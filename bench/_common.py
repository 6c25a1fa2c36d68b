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


SYNTHESISED_COMMANDS = (
    "what time is it",
    "what's the date today",
    "what day is it",
    "set a timer for ten minutes",
    "set a pizza timer for twelve minutes",
    "set a timer for one hour and thirty minutes",
    "set a timer for forty five seconds",
    "how much time is left on my timer",
    "cancel the timer",
    "pause the timer",
    "set a timer for two and a half minutes",
    "what's the time",
    "next track",
    "pause the music",
    "previous song",
    "what can you do",
    "never mind",
    "stop the timer",
    "can I get a large latte with soy milk",
    "make me a double shot espresso with a little bit of sugar",
)
"""Commands for the built-in skills and the coffee plugin, synthesised in two voices (Piper, espeak-ng).
No volume or app commands: their handlers would change the volume or open apps on the machine running it."""


COFFEE_CHATTER = (
    "the coffee here is too strong",
    "i spilled my latte this morning",
    "do you like espresso",
    "my cappuccino is getting cold",
    "we are out of oat milk",
    "how much caffeine is in a double shot",
    "the barista made me a mocha yesterday",
    "i prefer tea to coffee",
    "a large americano costs three dollars",
    "she ordered a latte with soy milk",
    "where is the nearest coffee shop",
    "the espresso machine is broken",
)
"""Talk about coffee that orders nothing: the coffee plugin's own words, where a forgiving matcher would slip."""


def synthesised_cases(folder: Path, engine, texts: tuple[str, ...] = SYNTHESISED_COMMANDS, *, commands: bool = True) -> list:
    """Each text spoken by Piper and by espeak-ng, written to ``folder`` as WAV. A command is labelled with the
    intent and slots the engine finds in the text itself (what it means, whatever the recognizer hears); with
    ``commands=False`` each text must match no template and is labelled out of scope: nothing may be done."""
    from assistant.evaluate.manifest import Case
    from tests.helpers import espeak, piper, silence, trim, write

    folder.mkdir(parents=True, exist_ok=True)
    cases = []
    for i, text in enumerate(texts):
        meaning = engine.recognize(text)
        if commands and (meaning is None or meaning.confidence < 1.0):
            raise ValueError(f"no template matches {text!r} exactly: it cannot label itself")
        if not commands and meaning is not None:
            raise ValueError(f"{text!r} is a command ({meaning.name}): it cannot stand for speech that is not one")
        for name, voice in (("piper", piper), ("espeak", espeak)):
            path = write(folder / f"{i:02d}-{name}.wav", np.concatenate([silence(0.5), trim(voice(text)), silence(1.5)]))
            cases.append(Case(intent=meaning.name if commands else None, slots=meaning.slots if commands else {}, text=text, line=len(cases) + 1, audio=path))
    return cases


def not_command_cases(folder: Path, engine) -> list:
    """Sound that is not a command, labelled out of scope: the tests' out-of-scope sentences and
    :data:`COFFEE_CHATTER` in both voices; real voices that order nothing (wake-dev's 33 people saying "alexa", and
    "hey jane, turn the lights off"); and coffee-dev's kitchen noise alone, in 5 s pieces (in ``folder``)."""
    from assistant.evaluate.manifest import Case
    from tests.helpers import write
    from tests.intents_helpers import OUT_OF_SCOPE

    cases = synthesised_cases(folder / "spoken", engine, (*OUT_OF_SCOPE, *COFFEE_CHATTER), commands=False)
    real = [*sorted((DATA / "wake-dev").glob("alexa_*.flac")), DATA / "wake-dev" / "hey_jane.wav"]
    noise = load_16k(DATA / "coffee-dev" / "kitchen_noise.flac")
    piece = 5 * 16000
    real += [write(folder / f"kitchen-{i:02d}.wav", noise[start : start + piece]) for i, start in enumerate(range(0, len(noise) - piece + 1, piece))]
    return cases + [Case(intent=None, line=len(cases) + n + 1, audio=path) for n, path in enumerate(real)]
