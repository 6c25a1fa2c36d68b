"""Test skills for the end-to-end pipeline tests: a reply that says the wake word, a handler that fails."""

from assistant.intents import Plugin

plugin = Plugin(description="party tricks")


@plugin.intent("SayWakeWord", "say your name", "what is your name")
def say_name(req):
    return "Hey Jarvis, hey Jarvis, that is my name."


@plugin.intent("BreakSomething", "break (something|the machine)")
def break_something(req):
    raise RuntimeError("the machine is broken on purpose")
