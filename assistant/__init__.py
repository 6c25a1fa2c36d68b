"""An offline voice assistant: wake word, VAD, speech recognition, intents and TTS."""

__version__ = "0.1.0"
