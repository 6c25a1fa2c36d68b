"""A test plugin whose handlers misbehave on purpose (and one follow-up question)."""

import time

from assistant.intents import Plugin, Range

plugin = Plugin(
    description="test misbehaving handlers",
    config={"greeting": "hello", "hang_seconds": 30},
    lists={"seconds": Range(1, 60), "size": ["small", "medium", "large"]},
)


@plugin.intent("Explode", "explode [now]")
def explode(req):
    raise RuntimeError("boom")


@plugin.intent("Hang", "hang forever")
def hang(req):
    time.sleep(req.config["hang_seconds"])
    return "I'm back."


@plugin.intent("WrongReturn", "give me a number")
def wrong_return(req):
    return 42


@plugin.intent("Greet", "greet me")
def greet(req):
    return f"{req.config['greeting']}!"


@plugin.intent("OrderPizza", "order [a] pizza")
def order_pizza(req):
    def size_given(answer):
        size = answer.intent.slots["size"] if answer.intent and answer.intent.name == "PizzaSize" else answer.text
        return f"A {size} pizza, coming up."

    return req.ask("Which size?", size_given)


@plugin.intent("PizzaSize", "[a] {size} [one|pizza]")
def pizza_size(req):
    return f"Size {req.slots['size']} noted."


@plugin.intent("Remind", "remind me in {seconds} second[s]")
def remind(req):
    req.scheduler.call_later(req.slots["seconds"], lambda: "Reminder!")
    return "Okay."
