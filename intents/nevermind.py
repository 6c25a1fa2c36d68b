"""Never mind: the user changed their mind, or woke the assistant by mistake."""

from assistant.intents import Plugin

plugin = Plugin(description="")


@plugin.intent(
    "HassNevermind",
    "(never mind|nevermind|forget (it|that|about it)|cancel [that]|ignore (that|me)|nothing [at all]|no thanks|that's all)",
    "sorry (wrong|not you|my mistake)",
    "i wasn't talking to you",
    examples=("never mind", "forget it"),
)
def nevermind(req):
    return "Okay."
