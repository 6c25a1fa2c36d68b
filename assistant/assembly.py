"""Assemble pipelines from the validated configuration: the factory of a pipeline's parts and the shared :class:`Resources`.

The CLI, the server and the evaluator all assemble pipelines; this is the one
place that knows which config key feeds which constructor argument. Models are
loaded once per process into :class:`Resources` and shared by every pipeline
(the server builds one pipeline per connection), and so are the conversations
(plugin state, timers, questions: they belong to devices, not pipelines);
per-stream state (wake buffers, VAD, recognizers) is built per pipeline and
released by ``Pipeline.close``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from assistant.asr.base import AsrEngine
from assistant.asr.pool import RecognitionPool
from assistant.audio.file import FileSource
from assistant.audio.mic import MicrophoneSource
from assistant.audio.playback import AudioOutput
from assistant.audio.processing import open_processor
from assistant.audio.raw import RawSource
from assistant.audio.source import CHUNK_SAMPLES, AudioSource
from assistant.config import Config
from assistant.conversations import Conversation, Conversations
from assistant.errors import ModelError
from assistant.events import EventEmitter
from assistant.intents import IntentEngine
from assistant.pipeline import Pipeline, SoundPolicy
from assistant.stop import StopListener, stop_endpointer, stop_vocabulary
from assistant.tts import Speaker
from assistant.turn_taking import TurnTaking
from assistant.vad import Endpointer
from assistant.wake import TriggerRule, WakeDetector, model_name, open_detector


def make_wake(config: Config, models: Sequence[str] | None = None) -> WakeDetector:
    """A stream's detector on ``wake.engine`` (microWakeWord shares its loaded models between streams; openWakeWord cannot).

    ``models``: only these of ``wake.models`` (by reported name; a client listening for one wake word), with their settings.
    """
    w = config.wake
    specs = w.models
    thresholds, sliding_windows = w.thresholds, w.sliding_windows
    if models is not None:
        names = {model_name(w.engine, spec): spec for spec in w.models}
        specs = [names[name] for name in models]
        thresholds = {k: v for k, v in thresholds.items() if k in models}
        sliding_windows = {k: v for k, v in sliding_windows.items() if k in models}
    return open_detector(
        w.engine,
        specs,
        threshold=w.threshold,
        thresholds=thresholds,
        sliding_windows=sliding_windows,
        rule=TriggerRule(trigger_frames=w.trigger_frames, refractory_seconds=w.refractory_seconds),
    )


def make_turn_taking(config: Config, intents: IntentEngine) -> TurnTaking | None:
    """How the loaded intents shorten the wait for the end of a command (``vad.adaptive_end``)."""
    v = config.vad
    if not v.adaptive_end:
        return None
    return TurnTaking(
        judge=lambda heard: intents.completion(heard.text, [a.text for a in heard.alternatives]),
        speculate_ms=v.speculate_ms,
        noisy_speculate_ms=v.noisy_speculate_ms,
        closed_ms=v.closed_silence_ms,
        open_ms=v.open_silence_ms,
        open_min_snr_db=v.open_min_snr_db,
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


@dataclass
class Resources:
    """The loaded models (recognizer engine, intents, speaker) and the process's conversations."""

    asr: AsrEngine | None
    intents: IntentEngine
    speaker: Speaker | None
    conversations: Conversations
    asr_unavailable: str | None = None
    """Why there is no recognizer although one was configured (``require_asr=False`` only)."""
    recognition: RecognitionPool | None = None
    """Where every live pipeline's readings run (``asr.workers`` threads); None without a recognizer."""

    @classmethod
    def load(cls, config: Config, *, intent_paths: Sequence[str] = (), speak: bool = True, require_asr: bool = True) -> Resources:
        """Load everything ``config`` asks for; ``speak=False`` when replies stay text (no TTS loaded).

        A missing recognizer model raises :class:`ModelError`, unless ``require_asr`` is False (the
        server, which still streams wake-word and VAD events and tells each client why no transcripts come).
        """
        intents = IntentEngine.from_config(config, intent_paths)
        asr = unavailable = None
        if config.asr.engine != "none":
            from assistant.asr import load_engine

            try:
                asr = load_engine(config, vocabulary_hint=intents.vocabulary())
            except ModelError as exc:
                if require_asr:
                    raise
                unavailable = str(exc)
        speaker = None
        if speak:
            from assistant.tts import load_speaker

            speaker = load_speaker(config)
        pool = RecognitionPool(config.asr.workers) if asr is not None else None
        return cls(asr, intents, speaker, Conversations(intents, config), unavailable, pool)

    def local_device(self, config: Config) -> Conversation:
        """This machine's own device (``assistant.device`` in ``assistant.area``): its plugins act here."""
        return self.conversations.device(config.assistant.device, area=config.assistant.area, local=True)

    def close(self) -> None:
        self.conversations.close()
        if self.recognition is not None:
            self.recognition.close()
        if self.speaker is not None:
            self.speaker.close()


def make_pipeline(
    config: Config,
    emitter: EventEmitter,
    resources: Resources | None = None,
    *,
    output: AudioOutput | None = None,
    synchronous: bool = False,
    conversation: Conversation | None = None,
) -> Pipeline:
    """A pipeline for one stream. Without ``resources`` it bounds commands only (wake word + VAD).

    ``conversation``: the device it hears (default: this machine's own, see :meth:`Resources.local_device`).
    """
    recognizer = speaker = turn_taking = stop = pool = None
    if resources is not None:
        # a file's readings run at once, on the thread that feeds it: the same turns however fast the machine is
        pool = None if synchronous else resources.recognition
        if resources.asr is not None:
            recognizer = resources.asr.recognizer(resources.intents.vocabulary())
            turn_taking = make_turn_taking(config, resources.intents)
            stop = StopListener(stop_endpointer(config.vad.aggressiveness, config.vad.frame_ms), resources.asr.recognizer(stop_vocabulary()), pool)
        conversation = conversation or resources.local_device(config)
        speaker = resources.speaker
    f = config.feedback
    return Pipeline(
        emitter=emitter,
        endpointer=make_endpointer(config),
        wake=make_wake(config) if config.wake.enabled else None,
        recognizer=recognizer,
        conversation=conversation,
        stop=stop,
        speaker=speaker,
        output=output,
        sound=SoundPolicy(chimes=f.chimes, barge_in=f.barge_in, echo_tail_seconds=f.echo_tail_seconds),
        buffer_seconds=config.wake.buffer_seconds,
        synchronous=synchronous,
        turn_taking=turn_taking,
        processor=open_processor(config.audio.processing),
        recognition=pool,
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
    small_blocks: bool = False,
) -> AudioSource:
    """``None``/"mic" = the configured microphone, "-" = raw PCM on stdin, anything else = a file.

    ``small_blocks``: the microphone delivers ``audio.block_ms`` at a time (``assistant run``, whose pipeline
    takes any length); else 80 ms chunks (a satellite's frames go to the hub as they are)."""
    a = config.audio
    if spec in (None, "mic"):
        return MicrophoneSource(
            a.input_device,
            device_rate=a.device_rate,
            channel=a.channel,
            queue_seconds=a.queue_seconds,
            retry_seconds=a.retry_seconds,
            block_samples=a.block_samples if small_blocks else CHUNK_SAMPLES,
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
