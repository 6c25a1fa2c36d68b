"""Text from Home Assistant, understood (``recognize``) or carried out (``transcript``) like a local turn.

A ``transcript`` to handle goes to its device's conversation, the same
dispatcher, plugin state, follow-up questions and timers as a spoken command
(:class:`~assistant.conversations.Conversation`). The device is the satellite
Home Assistant names in the event's context (``satellite_id``, else
``device_id``), or else the client itself, by its address: Home Assistant opens
a connection per request, so the device must outlive the connection.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wyoming.event import Event
from wyoming.handle import Handled, NotHandled
from wyoming.intent import Entity, Intent, NotRecognized

from assistant.conversations import BadDevice, Conversation, TooManyDevices, device_id
from assistant.events import Event as AssistantEvent
from assistant.events import Replied, Transcript
from assistant.intents import IntentEngine, IntentMatch, Turn
from assistant.intents.dispatcher import NOT_UNDERSTOOD
from assistant.server.untrusted import shown
from assistant.wyoming.errors import ClientError

if TYPE_CHECKING:
    from assistant.wyoming.connection import Connection
    from assistant.wyoming.server import WyomingServer

MAX_TEXT_CHARS = 2000
"""The longest text understood or handled (as the HTTP API's): fuzzy matching costs grow with its length."""

CONTEXT_DEVICES = ("satellite_id", "device_id")
"""Where Home Assistant's context names the device a sentence came from, the satellite first."""


def client_device(peer: Any) -> str:
    """The device a client is when it names none: ``wyoming-`` and its address (``wyoming-local`` on a Unix socket)."""
    host = peer[0] if isinstance(peer, tuple) and peer else ""
    host = str(host).split("%", 1)[0]  # an IPv6 zone is not part of the address
    try:
        return device_id(f"wyoming-{host}" if host else "wyoming-local")
    except BadDevice:
        return "wyoming-client"


def device_of(context: Any, client: str) -> str:
    """The device a ``transcript`` comes from: its context's satellite or device, else the client."""
    if context is not None and not isinstance(context, dict):
        raise ClientError("bad_event", f'"context" must be a JSON object, got {shown(context)}')
    for key in CONTEXT_DEVICES:
        value = (context or {}).get(key)
        if value is not None:
            try:
                return device_id(value)
            except BadDevice as exc:
                raise ClientError("bad_device", f"context {key}: {exc}") from None
    return client


def text_of(kind: str, data: dict[str, Any]) -> str:
    """The ``text`` a ``recognize`` or ``transcript`` carries, or :class:`ClientError` saying what it must be."""
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ClientError("bad_event", f'{kind} needs a non-empty "text" string, got {shown(text)}')
    if len(text) > MAX_TEXT_CHARS:
        raise ClientError("text_too_long", f"{kind}: the text is {len(text)} characters; the limit is {MAX_TEXT_CHARS}")
    return text


class TextRequests:
    """``recognize`` → ``intent`` / ``not-recognized``; ``transcript`` → ``handled`` / ``not-handled``."""

    def __init__(self, link: Connection, server: WyomingServer) -> None:
        self.link = link
        self.server = server

    async def recognize(self, event: Event) -> None:
        text = text_of("recognize", event.data)
        match, outcome = await self.link.work(_recognize, self.server.resources.intents, text)
        for logged in outcome:
            self.server.emitter.emit(logged)
        if match is None:
            await self.link.send(NotRecognized(text=NOT_UNDERSTOOD).event())
            return
        entities = [Entity(name=name, value=value) for name, value in match.slots.items()]
        await self.link.send(Intent(name=match.name, entities=entities).event())

    async def handle(self, event: Event) -> None:
        text = text_of("transcript", event.data)
        device = device_of(event.data.get("context"), self.link.client)
        try:
            conversation = self.server.resources.conversations.device(device)
        except BadDevice as exc:
            raise ClientError("bad_device", str(exc)) from None
        except TooManyDevices as exc:
            raise ClientError("too_many_devices", str(exc)) from None
        emitter = self.server.emitter
        emitter.emit(Transcript(text=text))
        turn, outcome = await self.link.work(_respond, conversation, text)
        for logged in outcome:
            emitter.emit(logged)
        emitter.emit(Replied(text=turn.reply, data=turn.data))
        handled = turn.intent is not None and turn.error is None
        await self.link.send((Handled if handled else NotHandled)(text=turn.reply).event())


def _recognize(engine: IntentEngine, text: str) -> tuple[IntentMatch | None, list[AssistantEvent]]:
    """On the worker thread: the intent, and what our log shows for it (as for a turn, without a reply)."""
    recognition = engine.interpret(text)
    return recognition.match, Turn(text, recognition.match, "", closest=recognition.closest).events()


def _respond(conversation: Conversation, text: str) -> tuple[Turn, list[AssistantEvent]]:
    """On the worker thread: the device's turn (its plugins, follow-ups and timers), and what it reports."""
    turn = conversation.respond(text)
    return turn, turn.events()
