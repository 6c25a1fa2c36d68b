"""Media playback on the desktop through MPRIS (``playerctl``): next, previous, pause, resume.

Any command may name an area, as Home Assistant's sentences do ("pause the
music in the living room", "next track in the kitchen"): it is carried out by
a device in that area (see :mod:`assistant.conversations`).
"""

import shutil
import subprocess

from assistant.intents import Area, Plugin, Reply

plugin = Plugin(
    description="control music and video playback",
    config={"player": None},  # a playerctl player name (e.g. spotify, vlc); null = whichever plays
    lists={"area": Area()},
    rules={
        "the": "(the|my|our)",
        "track": "(song|track|item|video|episode|one)",
        "media": "(music|song|track|video|movie|[tv] show[s]|podcast|media [player[s]]|playback|player)",
        "in_area": "[(in|on|at|of|across|around|throughout)] [<the>] {area}",
        "pause": "(pause [[<the>] <media>]|stop [playing] [[<the>] <media>]|hold [<the>] <media>)",
        "unpause": "((resume|unpause|continue) [[<the>] <media>]|(play|start) [<the>] <media> [again]|keep playing)",
        "next": "(next [<track>] [please]|skip [(this|the)] [<track>]|(skip|go|jump) to [the] next [<track>]|play [the] next <track>)",
        "previous": (
            "(previous [<track>]|go back [to the (previous|last) [<track>]]|(play|replay) [the] (previous|last) [<track>] [again]"
            "|replay [again]|last <track>)"
        ),
    },
)

NO_PLAYER = "No media player is running."


@plugin.intent(
    "HassMediaNext",
    "[<in_area>] <next> [<in_area>]",
    examples=("next song", "skip this track"),
)
def next_track(req):
    return _playerctl(req, "next", "Next track.")


@plugin.intent(
    "HassMediaPrevious",
    "[<in_area>] <previous> [<in_area>]",
    examples=("previous track", "go back to the last song"),
)
def previous_track(req):
    return _playerctl(req, "previous", "Previous track.")


@plugin.intent(
    "HassMediaPause",
    "[<in_area>] <pause> [<in_area>]",
    "(pause|stop) [<the>] {area} <media>",
    examples=("pause the music", "stop playing"),
)
def pause(req):
    return _playerctl(req, "pause", "Paused.")


@plugin.intent(
    "HassMediaUnpause",
    "[<in_area>] <unpause> [<in_area>]",
    "(resume|unpause|continue|play|start) [<the>] {area} <media>",
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
