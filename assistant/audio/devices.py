"""Find audio devices by index or name, and describe them for `assistant devices`.

Users name devices the way they see them ("USB", "ReSpeaker", "pulse",
"plughw:1,0"); a name that matches nothing is an error that lists what exists,
because the next thing the user needs is that list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from assistant.errors import DeviceError

Direction = Literal["input", "output"]


@dataclass(frozen=True)
class DeviceInfo:
    index: int
    name: str
    hostapi: str
    max_input_channels: int
    max_output_channels: int
    default_samplerate: float
    is_default_input: bool
    is_default_output: bool

    def channels(self, direction: Direction) -> int:
        return self.max_input_channels if direction == "input" else self.max_output_channels


def _sd():
    try:
        import sounddevice
    except OSError as exc:  # PortAudio missing: sounddevice raises at import
        raise DeviceError(f"PortAudio is not available ({exc}); install it with: sudo apt install libportaudio2") from None
    return sounddevice


def rescan() -> None:
    """PortAudio caches the device list at init; re-init so an unplugged/replugged mic is seen."""
    sd = _sd()
    sd._terminate()
    sd._initialize()


def list_devices() -> list[DeviceInfo]:
    sd = _sd()
    hostapis = sd.query_hostapis()
    default_in, default_out = sd.default.device
    devices = []
    for index, dev in enumerate(sd.query_devices()):
        devices.append(
            DeviceInfo(
                index=index,
                name=dev["name"],
                hostapi=hostapis[dev["hostapi"]]["name"],
                max_input_channels=dev["max_input_channels"],
                max_output_channels=dev["max_output_channels"],
                default_samplerate=dev["default_samplerate"],
                is_default_input=index == default_in,
                is_default_output=index == default_out,
            )
        )
    return devices


def resolve(spec: int | str | None, direction: Direction) -> DeviceInfo:
    """The device for a config value: None = system default, an int = index, a str = name substring."""
    devices = [d for d in list_devices() if d.channels(direction) > 0]
    if not devices:
        raise DeviceError(f"no audio {direction} devices found; check that a microphone/speaker is connected and PortAudio sees it (`assistant devices`)")
    if spec is None:
        chosen = [d for d in devices if (d.is_default_input if direction == "input" else d.is_default_output)]
        return chosen[0] if chosen else devices[0]
    if isinstance(spec, int) or (isinstance(spec, str) and spec.isdigit()):
        index = int(spec)
        for d in devices:
            if d.index == index:
                return d
        raise DeviceError(f"no {direction} device with index {index}.\n{describe(devices, direction)}")
    needle = spec.lower()
    matches = [d for d in devices if needle in d.name.lower()]
    exact = [d for d in matches if d.name.lower() == needle]
    if exact:
        return exact[0]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise DeviceError(f"no {direction} device matches {spec!r}.\n{describe(devices, direction)}")
    raise DeviceError(f"{spec!r} matches several {direction} devices; use a longer name or the index.\n{describe(matches, direction)}")


def describe(devices: list[DeviceInfo], direction: Direction) -> str:
    lines = [f"{direction.capitalize()} devices:"]
    for d in devices:
        default = d.is_default_input if direction == "input" else d.is_default_output
        mark = "*" if default else " "
        lines.append(f" {mark} {d.index:3d}  {d.name}  ({d.hostapi}, {d.channels(direction)} ch, {d.default_samplerate:g} Hz)")
    return "\n".join(lines)
