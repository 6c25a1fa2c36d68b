"""Build pipeline stages from the validated configuration.

The CLI, the server and the evaluator all assemble pipelines; this is the one
place that knows which config key feeds which constructor argument.
"""

from __future__ import annotations

import sys
from pathlib import Path

from assistant.audio.file import FileSource
from assistant.audio.mic import MicrophoneSource
from assistant.audio.raw import RawSource
from assistant.audio.source import AudioSource
from assistant.config import Config
from assistant.events import EventEmitter
from assistant.pipeline import Pipeline
from assistant.vad import Endpointer
from assistant.wake import WakeDetector


def make_wake(config: Config) -> WakeDetector:
    w = config.wake
    return WakeDetector(
        w.models,
        threshold=w.threshold,
        thresholds=w.thresholds,
        trigger_frames=w.trigger_frames,
        refractory_seconds=w.refractory_seconds,
    )


def make_endpointer(config: Config) -> Endpointer:
    v = config.vad
    return Endpointer(
        aggressiveness=v.aggressiveness,
        frame_ms=v.frame_ms,
        start_ms=v.start_ms,
        end_silence_ms=v.end_silence_ms,
        # without a wake word the endpointer listens forever for the next command
        no_speech_timeout=v.no_speech_timeout_seconds if config.wake.enabled else None,
        max_command=v.max_command_seconds,
        pre_roll_ms=v.pre_roll_ms,
    )


def make_pipeline(config: Config, emitter: EventEmitter) -> Pipeline:
    return Pipeline(
        emitter=emitter,
        endpointer=make_endpointer(config),
        wake=make_wake(config) if config.wake.enabled else None,
        buffer_seconds=config.wake.buffer_seconds,
    )


def make_source(
    spec: str | None,
    config: Config,
    emitter: EventEmitter,
    *,
    realtime: bool = False,
    raw_rate: int | None = None,
    raw_format: str = "s16le",
    raw_channels: int = 1,
) -> AudioSource:
    """``None``/"mic" = the configured microphone, "-" = raw PCM on stdin, anything else = a file."""
    a = config.audio
    if spec in (None, "mic"):
        return MicrophoneSource(
            a.input_device,
            device_rate=a.device_rate,
            channel=a.channel,
            queue_seconds=a.queue_seconds,
            retry_seconds=a.retry_seconds,
            emit=emitter.emit,
        )
    if spec == "-":
        return RawSource(
            sys.stdin.buffer,
            rate=raw_rate or 16000,
            sample_format=raw_format,
            channels=raw_channels,
            channel=a.channel,
            emit=emitter.emit,
        )
    return FileSource(Path(spec), realtime=realtime, channel=a.channel, emit=emitter.emit)
