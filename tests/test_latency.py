"""Per-stage latency from the event stream."""

from __future__ import annotations

from assistant.events import Intent, NoIntent, Replied, SpeakStart, SpeechEnd, SpeechStart, Transcript, Wake
from assistant.latency import END_TO_AUDIO, LatencyTracker


def _turn(tracker: LatencyTracker, t0: float, *, rejected: bool = False) -> None:
    events = [
        Wake(t=t0, model="alexa", score=0.9, audio_t=0),
        SpeechStart(t=t0 + 0.3, audio_t=0),
        SpeechEnd(t=t0 + 2.0, audio_t=0, endpoint_delay=0.7),
        Transcript(t=t0 + 2.25, text="what time is it"),
        NoIntent(t=t0 + 2.26, text="x") if rejected else Intent(t=t0 + 2.26, name="HassGetCurrentTime"),
        Replied(t=t0 + 2.30, text="It is noon."),
        SpeakStart(t=t0 + 2.50),
    ]
    for event in events:
        tracker(event)


def test_stages_and_end_of_speech_to_first_audio():
    tracker = LatencyTracker()
    for i in range(10):
        _turn(tracker, 10.0 * i, rejected=i == 3)
    stats = tracker.summary()
    assert stats["wake→speech_start"].n == 10 and abs(stats["wake→speech_start"].p50 - 0.3) < 1e-9
    assert abs(stats["speech_end→transcript"].p95 - 0.25) < 1e-9
    assert stats["transcript→intent"].n == 10  # a rejection answers the intent stage too
    assert abs(stats["reply→first audio"].p99 - 0.2) < 1e-9
    assert abs(stats[END_TO_AUDIO].p50 - (0.5 + 0.7)) < 1e-9
    assert "p95 ms" in tracker.format() and "1200" in tracker.format()


def test_a_turn_without_reply_audio_records_only_what_happened():
    tracker = LatencyTracker()
    tracker(SpeechStart(t=0.0, audio_t=0))
    tracker(SpeechEnd(t=1.0, audio_t=0))
    tracker(Transcript(t=1.2, text=""))
    stats = tracker.summary()
    assert set(stats) == {"speech_end→transcript"}


def test_memory_is_bounded():
    tracker = LatencyTracker(keep=5)
    for i in range(50):
        _turn(tracker, 10.0 * i)
    assert tracker.summary()["intent→reply"].n == 5
