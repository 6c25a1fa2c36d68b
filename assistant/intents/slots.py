"""Raw matched values → the typed slots a handler gets.

Numbers come out as ``int`` (hassil reports "5" as 5.0), list values as their
canonical value, and the parts of a spoken duration ("an hour and a half",
"two and a half minutes") as one number of seconds, or as Home Assistant's
``hours``/``minutes``/``seconds`` when the Duration was declared with split=True.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from assistant.intents.plugin import Duration

_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0}


def type_slots(raw: Mapping[str, Any], durations: Mapping[str, Duration]) -> dict[str, Any]:
    slots: dict[str, Any] = {}
    parts: dict[str, dict[str, float]] = {}
    for name, value in raw.items():
        if value is None:  # a fuzzy match that could not fill the slot (only seen below the threshold)
            continue
        base, sep, part = name.rpartition("__")
        if sep and base in durations:
            bucket = parts.setdefault(base, {})
            bucket[part[0]] = bucket.get(part[0], 0.0) + float(value)
            continue
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        slots[name] = value
    for base, amounts in parts.items():
        units = durations[base].units()
        if units:
            slots.update(split_duration(amounts, units))
        else:
            slots[base] = round(sum(amount * _UNIT_SECONDS[unit] for unit, amount in amounts.items()))
    return slots


def split_duration(amounts: Mapping[str, float], units: tuple[str, str, str] = ("hours", "minutes", "seconds")) -> dict[str, int]:
    """{"h": 1.5} → {"hours": 1, "minutes": 30}: fractions carried to the next unit, zeros left out."""
    hours_f = amounts.get("h", 0.0)
    hours = int(hours_f)
    minutes_f = amounts.get("m", 0.0) + (hours_f - hours) * 60
    minutes = int(minutes_f)
    seconds = round(amounts.get("s", 0.0) + (minutes_f - minutes) * 60)
    return {unit: value for unit, value in zip(units, (hours, minutes, seconds), strict=True) if value}
