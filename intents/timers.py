"""Timers: several at once, named ("a pizza timer") or known by length ("the 10 minute timer").

A finished timer rings on the device that set it (an alarm: a chime and the
announcement, again, until "stop"). Timers belong to that device: another
device neither sees nor cancels them (the page's hub view, which holds the
server's token, shows every device's and can cancel them). Pause, resume, add
or take time off, ask what is left, cancel one or all. "Set a timer" asks for
how long; a command that fits several timers asks which one; the answer needs
no wake word. Intent and slot names are Home Assistant's (HassStartTimer with
hours/minutes/seconds, ...).
"""

from dataclasses import dataclass

from rapidfuzz.distance import Indel

from assistant.intents import Duration, Job, Plugin, Reply, Wildcard, say

plugin = Plugin(
    description="set timers",
    lists={
        "duration": Duration(split=True),
        "start": Duration(split="start_"),
        "name": Wildcard(examples=("pizza", "tea", "pasta", "egg", "laundry", "oven", "bread", "rice")),
    },
    rules={
        "set": "(set|start|create|make|put on)",
        "cancel": "(cancel|stop|delete|remove|turn off|end)",
        "named": "(called|named)",
        "timer": "[the|my] (timer [(<named>|for) {name}]|timer for {start}|{name} timer|{start} timer)",
        "timers": "(<timer>|[all] [of] [the|my] timers)",
    },
    state=list,  # a device's timers
)


@dataclass(eq=False)
class Timer:
    name: str | None
    length: int
    """Seconds as first set: "the 10 minute timer" keeps its name when time is added."""
    job: Job | None = None
    """None while paused."""
    paused_left: float = 0.0

    def left(self) -> float:
        return self.job.remaining() if self.job else self.paused_left

    @property
    def label(self) -> str:
        return f"{self.name} timer" if self.name else f"{say.duration(self.length, adjective=True)} timer"


@plugin.intent(
    "HassStartTimer",
    "<set> [a|an|the|my] timer for {duration} [<named> {name}]",
    "<set> [a|an|the|my] {duration} timer [(<named>|for) {name}]",
    "<set> [a|an|the|my] {name} timer for {duration}",
    "<set> [a|an|the|my] timer <named> {name} for {duration}",
    "[a] timer for {duration}",
    "[a] {duration} timer",
    examples=("set a timer for 5 minutes", "start a pizza timer for 12 minutes"),
    incomplete=("<set> [a|an|the|my] timer [<named> {name}]", "<set> [a|an|the|my] {name} timer"),
)
def start_timer(req):
    seconds = req.duration()
    name = req.slots.get("name")
    timers = _timers(req)
    if name and any(t.name == name for t in timers):
        return f"You already have a {name} timer."
    if not seconds:
        return req.ask("For how long?", start_timer, expect="duration")
    timer = Timer(name, seconds)
    _run(req, timer, seconds)
    timers.append(timer)
    what = f"{name.capitalize()} timer" if name else "Timer"
    return Reply(f"{what} set for {say.duration(seconds)}.", data={"timer": {"name": name, "seconds": seconds}})


@plugin.intent("HassCancelTimer", "<cancel> <timer>", examples=("cancel the timer", "stop the pizza timer"))
def cancel_timer(req):
    def cancel(timer):
        timer.job and timer.job.cancel()
        req.state.remove(timer)
        return f"Cancelled the {timer.label}."

    return _with_timer(req, cancel)


@plugin.intent(
    "HassCancelAllTimers",
    "<cancel> (all [[of] (the|my)] timers|every timer|[the|my] timers)",
    "clear [all] [[of] (the|my)] timers",
    examples=("cancel all timers", "clear my timers"),
)
def cancel_all_timers(req):
    timers = _timers(req)
    if not timers:
        return "You have no timers running."
    count = len(timers)
    for timer in timers:
        timer.job and timer.job.cancel()
    timers.clear()
    return "Cancelled your timer." if count == 1 else f"Cancelled all {count} timers."


@plugin.intent(
    "HassIncreaseTimer",
    "add {duration} [more] to <timer>",
    "(increase|extend) <timer> by {duration}",
    examples=("add 5 minutes to the timer", "extend the pizza timer by 2 minutes"),
)
def increase_timer(req):
    return _with_timer(req, lambda timer: _change(req, timer, req.duration()))


@plugin.intent(
    "HassDecreaseTimer",
    "(remove|take|subtract) {duration} (from|off) <timer>",
    "(decrease|reduce|shorten) <timer> by {duration}",
    examples=("take 2 minutes off the timer", "shorten the tea timer by 30 seconds"),
)
def decrease_timer(req):
    return _with_timer(req, lambda timer: _change(req, timer, -req.duration()))


@plugin.intent("HassPauseTimer", "(pause|hold|freeze) <timer>", "put <timer> on hold", examples=("pause the timer", "pause the pasta timer"))
def pause_timer(req):
    def pause(timer):
        timer.paused_left = timer.left()
        timer.job.cancel()
        timer.job = None
        return f"Paused the {timer.label} with {say.duration(timer.paused_left)} left."

    return _with_timer(req, pause, lambda t: t.job is not None, "running")


@plugin.intent("HassUnpauseTimer", "(resume|continue|unpause|unfreeze|restart) <timer>", examples=("resume the timer", "continue the pasta timer"))
def unpause_timer(req):
    def resume(timer):
        _run(req, timer, timer.paused_left)
        return f"Resumed the {timer.label}: {say.duration(timer.paused_left)} left."

    return _with_timer(req, resume, lambda t: t.job is None, "paused")


@plugin.intent(
    "HassTimerStatus",
    "[how much] time [is] left [on <timers>]",
    "how long [is] left [on <timers>]",
    "how long until <timer> (is done|goes off|rings)",
    "(status of|check) <timers>",
    "[the|my] timer[s] status",
    "what timers (are running|are set|do i have)",
    "(do|have) i (have|got) any timers [running|set]",
    examples=("how much time is left on the timer", "how long is left on the pizza timer"),
)
def timer_status(req):
    timers = _timers(req)
    found = _targets(req, timers)
    if not timers:
        return "You have no timers running."
    if not found:
        return _not_found(req)
    lines = [f"The {t.label} has {say.duration(t.left())} left{', paused' if t.job is None else ''}." for t in found]
    if len(found) == 1:
        return Reply(lines[0].replace("The ", "Your ", 1), data={"timers": [_describe(t) for t in found]})
    return Reply(f"You have {len(found)} timers. " + " ".join(lines), data={"timers": [_describe(t) for t in found]})


def _run(req, timer, seconds):
    timers = req.state  # not pruned: _change cancelled this timer's job a moment ago

    def finished():
        if timer in timers:
            timers.remove(timer)
            return f"Your {timer.label} is done."
        return None

    timer.job = req.scheduler.call_later(seconds, finished, alarm=True, label=timer.label)


def _timers(req):
    """This device's timers; one cancelled from outside a turn (the page's hub view) is gone."""
    timers = req.state
    timers[:] = [t for t in timers if t.job is None or not t.job.cancelled]
    return timers


def _change(req, timer, delta):
    left = max(0.0, timer.left() + delta)
    if timer.job is None:
        timer.paused_left = left
    else:
        timer.job.cancel()
        _run(req, timer, left)
    verb = f"Added {say.duration(delta)} to" if delta > 0 else f"Took {say.duration(-delta)} off"
    return f"{verb} the {timer.label}: {say.duration(left)} left."


def _targets(req, timers):
    """The timers a command is about: by name, by length, or all of them."""
    name = req.slots.get("name")
    if name:
        exact = [t for t in timers if t.name == name]
        return exact or [t for t in timers if t.name and Indel.normalized_similarity(t.name, name) >= 0.75]
    length = req.duration("start_")
    if length:
        return [t for t in timers if t.length == length]
    return list(timers)


def _with_timer(req, act, usable=lambda t: True, condition=""):
    """Run ``act`` on the one timer meant, or ask which when several fit."""
    timers = _timers(req)
    meant = _targets(req, timers)
    found = [t for t in meant if usable(t)]
    if not found:
        if not timers:
            return "You have no timers running."
        if not meant:
            return _not_found(req)
        return f"The {meant[0].label} is not {condition}." if len(meant) == 1 else f"None of those timers is {condition}."
    if len(found) == 1:
        return act(found[0])
    listed = say.listing([f"the {t.label}" for t in found], "or")
    return req.ask(f"Which one: {listed}?", lambda answer: _answer(answer, found, act), expect=_choices(found))


def _choices(found):
    """How the user may name each of ``found`` in the answer → its index: its name or length, its place in the list."""
    choices = {}
    for i, timer in enumerate(found):
        spoken = [timer.name] if timer.name else [_heard(timer.length), _heard(timer.length, adjective=True)]
        for said in spoken:
            choices[said] = choices[f"{said}s"] = i
        choices[say.ordinal(i + 1)] = i
    choices["last"] = len(found) - 1
    return choices


def _answer(req, found, act):
    timer = found[req.slots["answer"]]
    if timer not in _timers(req):
        return f"The {timer.label} is gone already."
    return act(timer)


def _not_found(req):
    if req.slots.get("name"):
        return f"There's no {req.slots['name']} timer."
    return f"There's no {say.duration(req.duration('start_'), adjective=True)} timer."


def _describe(timer):
    return {"name": timer.name, "seconds": timer.length, "left": round(timer.left(), 1), "paused": timer.job is None}


def _heard(seconds, adjective=False):
    """A length of time as the user says it back: "ten minutes"."""
    return say.as_heard(say.duration(seconds, adjective=adjective)).replace(" and ", " ").strip() if seconds else ""
