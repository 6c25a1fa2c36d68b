"""System volume through the desktop mixer: PulseAudio/PipeWire (``pactl``) or ALSA (``amixer``).

Mixer commands are argument lists run without a shell; nothing from speech
reaches them except a number the template already checked (0..100). A command
naming an area ("volume up in the living room") is carried out by a device in
that area (see :mod:`assistant.conversations`).
"""

import re
import shutil
import subprocess

from assistant.intents import Area, Plugin, Range, Reply

plugin = Plugin(
    description="change the volume",
    config={
        "mixer": "auto",  # auto, pactl or amixer
        "step": 10,  # percent for "volume up" / "louder"
        "sink": "@DEFAULT_SINK@",  # pactl sink
        "control": "Master",  # amixer simple control
    },
    lists={
        "volume_level": Range(0, 100),
        "amount": Range(1, 100),
        "volume_step": ["up", "down"],
        "step": {"up": "up", "increase": "up", "raise": "up", "down": "down", "decrease": "down", "lower": "down", "reduce": "down"},
        "louder": {"louder": "up", "higher": "up", "quieter": "down", "softer": "down", "lower": "down"},
        "area": Area(),
    },
    rules={
        "the": "(the|my|our)",
        "volume": "(volume|sound)",
        "level": "{volume_level} [percent]",
        "by": "[by] {amount} [percent]",
        "set": "(set|change|make|put|increase|decrease|turn [(up|down)])",
        "in_area": "[(in|on|at|of|across|around|throughout)] [<the>] {area}",
        "set_volume": "(<set> [<the>] <volume> [level] to <level>|<volume> [to] <level>|turn [<the>] [<volume>] (up|down) to <level>)",
        "change": "([turn] [<the>] <volume> {step:volume_step}|[turn] {step:volume_step} [<the>] <volume>)",
    },
)


class MixerError(Exception):
    """The mixer command is missing or failed; the message says which and why."""


@plugin.intent(
    "HassSetVolume",
    "[<in_area>] <set_volume> [<in_area>]",
    "<set> [<the>] <volume> [level] <in_area> to <level>",
    "<set> [<the>] {area} <volume> to <level>",
    "turn [<the>] {area} [<volume>] (up|down) to <level>",
    examples=("set the volume to 40 percent", "volume 70"),
)
def set_volume(req):
    return _mixer_call(req, lambda mixer: mixer.set(req.slots["volume_level"]), "Volume set to {} percent.")


@plugin.intent(
    "HassSetVolumeRelative",
    "[<in_area>] <change> [<by>] [<in_area>]",
    "<change> <in_area> <by>",
    "[turn] {step:volume_step} [<the>] {area} <volume> [<by>]",
    "[<the>] {area} <volume> {step:volume_step} [<by>]",
    "turn it {volume_step} [a (bit|little)]",
    "[(make it|speak|be)] [a (bit|little)] {louder:volume_step} [please]",
    examples=("turn the volume up", "louder"),
)
def change_volume(req):
    step = req.slots.get("amount", req.config["step"])
    sign = 1 if req.slots["volume_step"] == "up" else -1
    return _mixer_call(req, lambda mixer: mixer.set(mixer.get() + sign * step), "Volume {} percent.")


@plugin.intent("HassMediaPlayerMute", "mute [the] [(volume|sound|audio|speakers)]", "(turn|switch) off the sound", examples=("mute", "mute the sound"))
def mute(req):
    return _mixer_call(req, lambda mixer: mixer.mute(True), "Muted.")


@plugin.intent("HassMediaPlayerUnmute", "unmute [the] [(volume|sound|audio|speakers)]", "(turn|switch) [the] sound [back] on", examples=("unmute", "turn the sound back on"))
def unmute(req):
    return _mixer_call(req, lambda mixer: mixer.mute(False), "Unmuted.")


def _mixer_call(req, action, reply):
    try:
        mixer = Mixer(req.config)
        level = action(mixer)
    except MixerError as exc:
        req.log.warning("volume: %s", exc)
        return Reply("Sorry, I can't reach the volume control.", data={"error": str(exc)})
    return Reply(reply.format(level), data={"volume": level} if level is not None else None)


class Mixer:
    """The system mixer: ``get``/``set`` in percent (clamped to 0..100), ``mute``."""

    def __init__(self, config):
        self.sink = config["sink"]
        self.control = config["control"]
        self.kind = self._pick(config["mixer"])

    def get(self):
        if self.kind == "pactl":
            out = _run(["pactl", "get-sink-volume", self.sink])
        else:
            out = _run(["amixer", "sget", self.control])
        found = re.search(r"(\d+)%", out)
        if found is None:
            raise MixerError(f"cannot read the volume from: {out.strip()[:200]}")
        return int(found[1])

    def set(self, level):
        level = max(0, min(100, int(level)))
        if self.kind == "pactl":
            _run(["pactl", "set-sink-volume", self.sink, f"{level}%"])
        else:
            _run(["amixer", "-q", "sset", self.control, f"{level}%"])
        return level

    def mute(self, on):
        if self.kind == "pactl":
            _run(["pactl", "set-sink-mute", self.sink, "1" if on else "0"])
        else:
            _run(["amixer", "-q", "sset", self.control, "mute" if on else "unmute"])

    @staticmethod
    def _pick(wanted):
        if wanted in ("auto", "pactl") and shutil.which("pactl"):
            try:
                _run(["pactl", "info"])
                return "pactl"
            except MixerError:
                if wanted == "pactl":
                    raise
        if wanted in ("auto", "amixer") and shutil.which("amixer"):
            return "amixer"
        raise MixerError(f"no usable mixer (plugins.volume.mixer = {wanted}): install pulseaudio-utils or alsa-utils")


def _run(argv):
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=3)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise MixerError(f"{argv[0]} failed: {exc}") from None
    if done.returncode != 0:
        raise MixerError(f"{' '.join(argv)}: {(done.stderr or done.stdout).strip()[:200]}")
    return done.stdout
