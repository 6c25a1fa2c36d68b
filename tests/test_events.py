"""Every event a client can receive reads back as itself: ``to_dict`` → JSON → ``event_from_dict`` → the same event.

A client (the satellite, the page, a test) only has the JSON, so an event type whose JSON does not rebuild it, or one
added without an example here, fails this module (as each of wyoming's events round-trips in its tests).
"""

from __future__ import annotations

import json

import pytest

from assistant import events as ev
from assistant.server import messages as msg

EXAMPLES: list[ev.Event] = [
    ev.State(state=ev.Activity.SPEAKING),
    ev.Device(name="pulse: mic", rate=16000, channels=1),
    ev.AudioStats(frames=250, overflows=1, dropped_frames=2, nan_samples=0, clipped_samples=3),
    ev.Wake(model="alexa", score=0.9731, audio_t=2.48),
    ev.WakeScores(audio_t=1.2, scores={"alexa": 0.12}, thresholds={"alexa": 0.5}),
    ev.SpeechStart(audio_t=2.6),
    ev.SpeechEnd(audio_t=4.1, reason="silence", endpoint_delay=0.32),
    ev.NoSpeech(audio_t=8.0),
    ev.Partial(text="set a"),
    ev.Transcript(text="set a timer for two minutes", confidence=0.91, words=[{"word": "set", "start": 2.6, "end": 2.8, "confidence": 0.99}]),
    ev.Intent(name="HassStartTimer", slots={"minutes": 2}, confidence=1.0, text="set a timer for two minutes"),
    ev.NoIntent(text="tell me a story", confidence=0.525),
    ev.Replied(text="Timer set for 2 minutes.", data={"seconds": 120}),
    ev.SpeakStart(text="Timer set for 2 minutes."),
    ev.SpeakEnd(interrupted=True),
    ev.AlarmState(ringing=True, text="Your 2 minute timer is done."),
    ev.Stopped(what="alarm"),
    ev.Listen(),
    ev.Command(id=3, intent="HassMediaPause", slots={}, text="pause the music in the living room"),
    ev.Error(code="handler_error", message="Sorry, something went wrong with timers."),
    ev.Overload(dropped_frames=4, queued_frames=25, recognitions_waiting=2),
    msg.StreamReady(session="a1b2c3", encoding="pcm_s16le", rate=16000, wake=["alexa"], queue_seconds=2.0, device="porch", area="garden"),
    msg.StreamDone(audio_seconds=12.48, dropped_frames=0),
    msg.ReplyAudio(id=1, rate=22050, samples=33075, bytes=66150),
    msg.ReplyAudioStop(id=1),
    msg.HubEvent(session="a1b2c3", device="porch", area="garden", event={"type": "wake", "t": 1.0, "model": "alexa", "score": 0.97, "audio_t": 2.48}),
    msg.DeviceStatus(device="porch", area="garden", state="listening", streams=["a1b2c3"], timers=[{"id": 7, "label": "tea timer", "plugin": "timers", "left": 95.0, "alarm": True}], alarms=[]),
    msg.Watching(devices=3),
]


def test_every_event_type_has_an_example():
    assert sorted(type(e).type for e in EXAMPLES) == sorted(ev._REGISTRY)


@pytest.mark.parametrize("event", EXAMPLES, ids=lambda e: type(e).type)
def test_an_event_reads_back_as_itself(event):
    event.t = 12.3456
    wire = json.loads(event.to_json())
    back = ev.event_from_dict(wire)
    assert back == event and type(back) is type(event)
    assert back.to_dict() == wire


def test_a_state_the_pipeline_cannot_be_in_is_refused():
    with pytest.raises(ValueError):
        ev.event_from_dict({"type": "state", "t": 0.0, "state": "dreaming"})
