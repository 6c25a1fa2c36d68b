"""Media playback on the desktop through MPRIS (``playerctl``): next, previous, pause, resume."""

import shutil
import subprocess

from assistant.intents import Plugin, Reply

plugin = Plugin(
    description="control music and video playback",
    config={"player": None},  # a playerctl player name (e.g. spotify, vlc); null = whichever plays
    rules={
        "track": "(song|track|item|video|episode|one)",
        "media": "(music|song|track|video|movie|show|podcast|media|playback|player)",
    },
)

NO_PLAYER = "No media player is running."


@plugin.intent(
    "HassMediaNext",
    "next [<track>] [please]",
    "skip [(this|the)] [<track>]",
    "(skip|go|jump) to [the] next [<track>]",
    "play [the] next <track>",
    examples=("next song", "skip this track"),
)
def next_track(req):
    return _playerctl(req, "next", "Next track.")


@plugin.intent(
    "HassMediaPrevious",
    "previous [<track>]",
    "go back [to the (previous|last) [<track>]]",
    "(play|replay) [the] (previous|last) <track> [again]",
    "last <track>",
    examples=("previous track", "go back to the last song"),
)
def previous_track(req):
    return _playerctl(req, "previous", "Previous track.")


@plugin.intent(
    "HassMediaPause",
    "pause [[the] <media>]",
    "stop [playing] [[the] <media>]",
    "hold [the] <media>",
    examples=("pause the music", "stop playing"),
)
def pause(req):
    return _playerctl(req, "pause", "Paused.")


@plugin.intent(
    "HassMediaUnpause",
    "(resume|unpause|continue) [[the] <media>]",
    "(play|start) [the] <media> [again]",
    "keep playing",
    examples=("resume the music", "unpause"),
)
def unpause(req):
    return _playerctl(req, "play", "Resuming.")


def _playerctl(req, command, reply):
    if shutil.which("playerctl") is None:
        return "Media control needs playerctl, which is not installed."
    player = req.config.get("player")
    argv = ["playerctl", *(["--player", str(player)] if player else []), command]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=3)
    except subprocess.TimeoutExpired:
        return "Sorry, the media player didn't respond."
    if done.returncode == 0:
        return reply
    problem = (done.stderr or done.stdout).strip()
    req.log.info("%s: %s", " ".join(argv), problem)
    if "No player" in problem or "D-Bus" in problem or "connect to players" in problem:
        return Reply(NO_PLAYER, data={"error": problem})
    return Reply("Sorry, the media player didn't respond.", data={"error": problem})
