"""Say a reply: the ``reply`` event, synthesis, playback, and ``speak_start``/``speak_end`` from the device.

Shared by the pipeline and `assistant say`. A voice or a device failing costs
the spoken reply, never the turn: the text already went out as an event, and
the failure becomes an ``error`` event.

Nothing holds up the first sound of a reply: it is synthesised and played a
sentence at a time (the next sentence is synthesised while the first plays),
and a chime still sounding when the reply is ready is cut.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from assistant.audio.playback import AudioOutput, Playback
from assistant.errors import SpeechSynthesisError
from assistant.events import Error, EventEmitter, Replied, SpeakEnd, SpeakStart
from assistant.tts import Speaker

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")


def sentences(text: str) -> list[str]:
    """``text`` split after each full stop, question or exclamation mark that a new sentence follows."""
    return [s for s in _SENTENCE_END.split(text.strip()) if s]


def complete_sentences(text: str) -> tuple[list[str], str]:
    """Text still arriving (a reply streamed a few words at a time): the sentences a new one already
    follows, and the rest, unchanged, to which more text will be added."""
    parts = _SENTENCE_END.split(text)
    if len(parts) == 1:
        return [], text
    return [p.strip() for p in parts[:-1] if p.strip()], parts[-1]


def speak(
    text: str,
    *,
    emitter: EventEmitter,
    speaker: Speaker | None,
    output: AudioOutput | None,
    data: dict[str, Any] | None = None,
    before_play: Callable[[], None] | None = None,
    playing: Callable[[bool], None] | None = None,
) -> Playback | None:
    """Blocks until the reply was played (or failed); returns its last playback, None when nothing was played.

    ``playing(True)`` is called once the first sample reached the device and
    ``playing(False)`` when the last sentence stopped: the pipeline mutes its ears in between.
    A barge-in (``output.stop()``) cuts the sentence playing and leaves the rest unsaid.
    """
    emitter.emit(Replied(text=text, data=data))
    if speaker is None or output is None:
        return None
    played: list[Playback] = []
    try:
        for sentence in sentences(text):
            try:
                audio = speaker.synthesize(sentence)
            except SpeechSynthesisError as exc:
                what = "the rest of the reply was" if played else "the reply was"
                emitter.emit(Error(code="tts_failed", message=f"{exc}; {what} not spoken"))
                break
            if any(p.interrupted for p in played):
                break
            if not len(audio):
                continue
            if played:
                played.append(output.play(audio))
                continue
            if before_play is not None:
                before_play()
            output.stop()  # only a chime can be sounding now (replies take turns): it must not hold the reply up
            played.append(output.play(audio))
            if not _started(played[0], text, emitter, playing):
                return played[0]
        for playback in played:
            playback.wait(timeout=playback.duration + 10.0)
    finally:
        if played and played[0].started.is_set() and playing is not None:
            playing(False)
    if not played:
        return None
    lost = next((p.error for p in played if p.error is not None), None)
    if lost is not None:
        emitter.emit(Error(code="playback_failed", message=f"could not play all of the reply: {lost}"))
    emitter.emit(SpeakEnd(interrupted=any(p.interrupted for p in played)))
    return played[-1]


def _started(playback: Playback, text: str, emitter: EventEmitter, playing: Callable[[bool], None] | None) -> bool:
    """Wait for the first sample to go out; ``speak_start`` is stamped at that moment, not when we learn of it."""
    playback.started.wait(timeout=playback.duration + 5.0)
    if playback.error is not None or not playback.started.is_set():
        emitter.emit(Error(code="playback_failed", message=f"could not play the reply: {playback.error or 'the device did not start'}"))
        return False
    if playback.start_time is not None and (ahead := playback.start_time - time.monotonic()) > 0:
        time.sleep(ahead)  # the device's lead-in before the first real sample
    if playing is not None:
        playing(True)
    emitter.emit(SpeakStart(text=text))
    return True
