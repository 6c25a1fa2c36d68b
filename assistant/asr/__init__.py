"""Speech recognition: vosk (streaming, default) and faster-whisper, behind one interface.

``load_engine(config)`` gives the process-wide :class:`AsrEngine`; each
pipeline takes its own :class:`Recognizer` from it with
``engine.recognizer(vocabulary)``. :class:`CommandRecognizer` runs a
recognizer behind the VAD endpointer and emits the pipeline's events.
"""

from assistant.asr.base import Alternative, AsrEngine, Recognizer, Transcription, Word
from assistant.asr.engine import load_engine
from assistant.asr.stream import CommandRecognizer

__all__ = ["Alternative", "AsrEngine", "CommandRecognizer", "Recognizer", "Transcription", "Word", "load_engine"]
