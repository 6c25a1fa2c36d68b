"""The time and the date (Home Assistant's HassGetCurrentTime / HassGetCurrentDate)."""

from datetime import datetime

from assistant.intents import Plugin, say

plugin = Plugin(
    description="tell the time and date",
    config={"hour_format": 12},  # 12 → "3:05 PM", 24 → "15:05"
    rules={"what_is": "(what's|what is|tell me|say)"},
)


@plugin.intent(
    "HassGetCurrentTime",
    "<what_is> the [current] time [[right] now]",
    "what time is it [[right] now]",
    "[do you know|can you tell me] what time it is [[right] now]",
    "(have you got|do you have) the time",
    "what's the time please",
    "time check",
    examples=("what time is it", "what's the time"),
)
def current_time(req):
    return f"It's {say.time(datetime.now(), req.config.get('hour_format', 12))}."


@plugin.intent(
    "HassGetCurrentDate",
    "<what_is> [the] (today's|todays|the current) date",
    "<what_is> the date [today]",
    "what date is it [today]",
    "what day is (it|today) [today]",
    "what's today",
    "what is today",
    "which day is it [today]",
    examples=("what's the date today", "what day is it"),
)
def current_date(req):
    return f"Today is {say.date(datetime.now())}."
