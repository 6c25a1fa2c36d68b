"""Say a reply: the ``reply`` event, synthesis, playback, and ``speak_start``/``speak_end`` from the device.

Shared by the pipeline and `assistant say`. A voice or a device failing costs
the spoken reply, never the turn: the text already went out as an event, and
the failure becomes an ``error`` event.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from assistant.audio.playback import AudioOutput, Playback
from assistant.errors import SpeechSynthesisError
from assistant.events import Error, EventEmitter, Reply, SpeakEnd, SpeakStart
from assistant.tts import Speaker


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
    """Blocks until the reply was played (or failed); returns the playback, None when nothing was played.

    ``playing(True)`` is called once the first sample reached the device and
    ``playing(False)`` when it stopped: the pipeline mutes its ears in between.
    """
    emitter.emit(Reply(text=text, data=data))
    if speaker is None or output is None:
        return None
    try:
        audio = speaker.synthesize(text)
    except SpeechSynthesisError as exc:
        emitter.emit(Error(code="tts_failed", message=f"{exc}; the reply was not spoken"))
        return None
    if not len(audio):
        return None
    if before_play is not None:
        before_play()
    playback = output.play(audio)
    playback.started.wait(timeout=playback.duration + 5.0)
    if playback.error is not None or not playback.started.is_set():
        emitter.emit(Error(code="playback_failed", message=f"could not play the reply: {playback.error or 'the device did not start'}"))
        return playback
    if playing is not None:
        playing(True)
    emitter.emit(SpeakStart(text=text))
    try:
        playback.wait(timeout=playback.duration + 10.0)
    finally:
        if playing is not None:
            playing(False)
    emitter.emit(SpeakEnd(interrupted=playback.interrupted))
    return playback
