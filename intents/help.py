"""What can you do? The answer is built from the plugins that are loaded."""

from assistant.intents import Plugin

plugin = Plugin(description="")


@plugin.intent(
    "Help",
    "what (can|do) you do [for me]",
    "what [else] can you do",
    "what (can|do) you (know|understand)",
    "what can i (say|ask [you])",
    "what are your (skills|commands|abilities)",
    "how (do|can) i use you",
    "help [me] [please]",
    "i need help",
    examples=("what can you do", "help"),
)
def help_(req):
    skills = [(p.plugin.description, p.intents) for p in req.engine.plugins if p.plugin.description]
    if not skills:
        return "I can't do anything yet: no skills are loaded."
    things = [description for description, _ in skills]
    listing = things[0] if len(things) == 1 else ", ".join(things[:-1]) + " and " + things[-1]
    example = next((e for _, intents in skills for i in intents for e in i.spec.examples), None)
    return f"I can {listing}." + (f" For example, say: {example}." if example else "")
