"""What can you do? The answer is built from the plugins that are loaded."""

from assistant.intents import Plugin, say

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
    skills = [skill for skill in req.skills if skill.description]
    if not skills:
        return "I can't do anything yet: no skills are loaded."
    example = next((e for skill in skills for e in skill.examples), None)
    return f"I can {say.listing([skill.description for skill in skills])}." + (f" For example, say: {example}." if example else "")
