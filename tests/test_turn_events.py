"""A turn is described the same wherever it was heard: ``assistant ask``, ``POST /v1/understand``, a pipeline.

Each used to build its own ``intent``/``no_intent`` events and they had drifted (the HTTP API reported every
``no_intent`` with confidence 0 and the request's text, ``ask`` did not round). Now a
:class:`~assistant.intents.Turn` describes itself, from the one recognition pass that made it.
"""

from __future__ import annotations

import json

import httpx
import numpy as np

from assistant.assembly import Resources, make_pipeline
from assistant.config import Config
from assistant.events import EventEmitter
from tests.helpers import cli
from tests.server_helpers import running_server

SENTENCES = ("set a timer for ten minuts", "tell me a story about dragons", "what time is it")


def ask(text: str) -> list[dict]:
    done = cli("ask", text, "--json")
    return [e for e in (json.loads(line) for line in done.stdout.decode().splitlines()) if e["type"] in ("intent", "no_intent")]


def typed(text: str) -> list[dict]:
    """The same sentence typed into a pipeline (the page's text box): the turn a transcript would start."""
    config = Config.model_validate({"asr": {"engine": "none"}, "wake": {"enabled": False}, "tts": {"engine": "none"}})
    resources = Resources.load(config, speak=False)
    events: list = []
    pipeline = make_pipeline(config, EventEmitter([events.append]), resources, synchronous=True)
    try:
        pipeline.hear(text)
        pipeline.feed(np.zeros(1280, np.int16))
        pipeline.finish()
    finally:
        pipeline.close()
        resources.close()
    return [e.to_dict() for e in events if e.type in ("intent", "no_intent")]


def comparable(event: dict) -> dict:
    return {k: v for k, v in event.items() if k != "t"}


def test_ask_http_and_a_pipeline_describe_a_turn_alike():
    """A fuzzy match, an out-of-scope sentence (its ``no_intent`` says how close the best guess came, not 0)
    and an exact match come out as the same events from the command line, the HTTP API and a pipeline."""
    with running_server() as server:
        for text in SENTENCES:
            http = httpx.post(f"{server.url}/v1/understand", json={"text": text, "device": "desk"}, timeout=30).json()
            over_http = [comparable(http[kind]) for kind in ("intent", "no_intent") if http[kind] is not None]
            from_ask = [comparable(e) for e in ask(text)]
            in_pipeline = [comparable(e) for e in typed(text)]
            assert from_ask == over_http == in_pipeline, text
            if text == "tell me a story about dragons":
                (told,) = from_ask
                assert told["type"] == "no_intent" and 0.0 < told["confidence"] < 0.75, told
