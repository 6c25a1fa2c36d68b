"""Open desktop apps by name: only the apps declared in config, never a command from speech.

``plugins.apps.apps`` maps a spoken name to the command as an argument list,
``plugins.apps.aliases`` other names for them::

    plugins:
      apps:
        apps: {firefox: [firefox], terminal: [x-terminal-emulator], editor: [gedit]}
        aliases: {browser: firefox, web browser: firefox}
"""

import shutil
import subprocess

from assistant.intents import Plugin, PluginError, Reply


def _check(config):
    for name, argv in (config.get("apps") or {}).items():
        if not (isinstance(argv, list) and argv and all(isinstance(a, str) for a in argv)):
            raise PluginError(f"plugins.apps.apps.{name} must be a command as a list of arguments, e.g. [{name}]")


def _app_names(config):
    apps = config.get("apps") or {}
    aliases = {alias: target for alias, target in (config.get("aliases") or {}).items() if target in apps}
    return {name: name for name in apps} | aliases


plugin = Plugin(
    description="open apps",
    config={
        "apps": {"firefox": ["firefox"], "terminal": ["x-terminal-emulator"]},
        "aliases": {"browser": "firefox", "web browser": "firefox"},
    },
    check=_check,
    lists={"app": _app_names},
)


@plugin.intent(
    "LaunchApp",
    "(open|start|launch|run|fire up|bring up) [the|a|an|my] {app} [(app|application|program|window)]",
    examples=("open firefox", "start the terminal"),
)
def launch(req):
    name = req.slots["app"]
    argv = req.config["apps"][name]
    if shutil.which(argv[0]) is None:
        return f"I can't open {name}: {argv[0]} is not installed."
    subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    return Reply(f"Opening {name}.", data={"app": name, "argv": argv})
