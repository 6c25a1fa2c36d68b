"""The ``info`` answer to ``describe``: exactly what this process has loaded, for each role.

Home Assistant makes an entity per role it finds here (a wake word, speech to
text, text to speech and a conversation agent), lists the models' names, and
offers a role only for the languages its models name. Each model describes
itself (:mod:`assistant.about`); a model that names no language is announced
in ``wyoming.language``. Built once at start: Home Assistant gives ``describe``
one second.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from wyoming.info import (
    AsrModel,
    AsrProgram,
    Attribution,
    HandleModel,
    HandleProgram,
    Info,
    IntentModel,
    IntentProgram,
    TtsProgram,
    TtsVoice,
    WakeModel,
    WakeProgram,
)

from assistant import __version__
from assistant.about import About
from assistant.assembly import Resources
from assistant.config import Config
from assistant.intents.loader import BUILTIN_DIR, LoadedPlugin
from assistant.wake import describe as describe_wake

PROGRAM = "assistant"
"""The name of each role's program (a client may pick it with ``select-program``; one per role here)."""
ATTRIBUTION = Attribution(name="assistant", url="")
"""This program itself (it has no web address of its own; each model names where it comes from)."""


def build_info(config: Config, resources: Resources) -> Info:
    """What ``describe`` answers: one program per loaded role."""
    language = config.wyoming.language
    info = Info(
        intent=[
            IntentProgram(
                name=PROGRAM,
                description="intent recognition with the loaded plugins' templates (hassil syntax, fuzzy matching)",
                attribution=ATTRIBUTION,
                installed=True,
                version=__version__,
                models=[IntentModel(languages=[language], **_plugin(p)) for p in resources.intents.plugins],
            )
        ],
        handle=[
            HandleProgram(
                name=PROGRAM,
                description="the loaded plugins carry out the command (timers, follow-up questions, per device)",
                attribution=ATTRIBUTION,
                installed=True,
                version=__version__,
                models=[HandleModel(languages=[language], **_plugin(p)) for p in resources.intents.plugins],
                supports_home_control=False,
            )
        ],
    )
    if config.wake.enabled:
        wake = [describe_wake(config.wake.engine, spec) for spec in config.wake.models]
        info.wake = [
            WakeProgram(
                name=PROGRAM,
                description=f"wake words ({config.wake.engine})",
                attribution=ATTRIBUTION,
                installed=True,
                version=__version__,
                models=[WakeModel(phrase=about.phrase, **_artifact(about, language)) for about in wake],
            )
        ]
    if resources.asr is not None:
        engine = resources.asr
        recognizer = engine.describe()
        info.asr = [
            AsrProgram(
                name=PROGRAM,
                description=f"speech to text ({engine.name}) with the loaded intents' vocabulary",
                attribution=ATTRIBUTION,
                installed=True,
                version=__version__,
                models=[AsrModel(**_artifact(recognizer, language))],
                supports_transcript_streaming=engine.name == "vosk",
            )
        ]
    if resources.speaker is not None and config.tts.engine != "none":
        voice = resources.speaker.describe()
        info.tts = [
            TtsProgram(
                name=PROGRAM,
                description=f"text to speech ({resources.speaker.name}), a sentence at a time",
                attribution=ATTRIBUTION,
                installed=True,
                version=__version__,
                voices=[TtsVoice(**_artifact(voice, language))],
                supports_synthesize_streaming=True,
            )
        ]
    return info


def _artifact(about: About, language: str) -> dict:
    return {
        "name": about.name,
        "description": about.description,
        "attribution": Attribution(name=about.author, url=about.url),
        "installed": True,
        "version": about.version,
        "languages": list(about.languages) or [language],
    }


def _plugin(loaded: LoadedPlugin) -> dict:
    """A plugin as a model of the intent and handle programs: its name, what it does and its intents."""
    plugin = loaded.plugin
    intents = ", ".join(c.name for c in loaded.intents)
    source = Path(loaded.source)
    builtin = source.is_file() and source.resolve().is_relative_to(BUILTIN_DIR.resolve())
    return {
        "name": loaded.name,
        "description": f"{plugin.description or loaded.name} ({intents})",
        "attribution": Attribution(
            name="assistant (built-in skill)" if builtin else "intent plugin",
            url=source.resolve().as_uri() if source.is_file() else loaded.source,
        ),
        "installed": True,
        "version": __version__ if builtin else None,
    }


def wake_names(info: Info) -> Sequence[str]:
    """The wake models a ``detect`` may name."""
    return [model.name for program in info.wake for model in program.models]
