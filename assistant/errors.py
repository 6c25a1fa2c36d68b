"""Exception types the user can act on.

Each carries the exit code the CLI uses and a message written for the person at
the keyboard (what went wrong, what to do). Anything else escaping to the CLI
is a bug and gets a traceback.
"""

from __future__ import annotations

EXIT_CODES = {
    0: "success",
    1: "the input could not be read or understood (an unreadable or corrupt audio file, a sentence no intent matches, a failed benchmark)",
    2: "a problem to fix before running again: bad command-line usage, configuration, a missing or broken model, an audio device that cannot be opened, a hub that refused the token",
    130: "interrupted (Ctrl-C)",
}
"""What the ``assistant`` command's exit status means; ``--help`` and the README list these."""


class AssistantError(Exception):
    """Base class: the CLI prints the message (no traceback) and exits with ``exit_code``."""

    exit_code = 1


class UsageError(AssistantError):
    """Command-line flags that do not go together (argparse's own usage errors exit 2 as well)."""

    exit_code = 2


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
