"""Exception types the user can act on.

Each carries the exit code the CLI uses and a message written for the person at
the keyboard (what went wrong, what to do). Anything else escaping to the CLI
is a bug and gets a traceback.
"""

from __future__ import annotations


class AssistantError(Exception):
    """Base class: the CLI prints the message (no traceback) and exits with ``exit_code``."""

    exit_code = 1


class ConfigError(AssistantError):
    """The configuration file or a flag has an unknown key or a bad value."""

    exit_code = 2


class AudioInputError(AssistantError):
    """An audio file or stream cannot be read or decoded."""


class DeviceError(AssistantError):
    """An audio device cannot be found or opened."""

    exit_code = 2


class ModelError(AssistantError):
    """A model is missing, cannot be downloaded, or is not a model at all."""

    exit_code = 2


class SpeechSynthesisError(AssistantError):
    """One reply could not be turned into speech; the caller still has its text and carries on."""
