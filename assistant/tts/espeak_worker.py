"""The pyttsx3 (espeak-ng) worker process: JSON requests on stdin, PCM replies on the original stdout.

Run as a script by :class:`assistant.tts.espeak.Pyttsx3Speaker` (``python -P
espeak_worker.py SETTINGS``), so it imports only the standard library and
pyttsx3. Why a process of its own (numbers from ``bench/bench_tts.py``):
espeak-ng initialises once per process and keeps one global synthesis
callback, which a second pyttsx3 engine takes over and a destroyed one clears
(rebuilding the engine every other utterance lost 15 of 120 utterances, empty
WAVs); pyttsx3 prints "Audio saved to ..." on stdout for every utterance,
which would corrupt ``--json`` output; and a synthesis that hangs can only be
recovered by killing the process it runs in. Inside the worker one engine is
reused for every utterance, which lost none.

Protocol, one reply per request, each a JSON header line on the reply channel:
  start-up:  {"ok": true, "voice": ID, "rate": R, "volume": V} or {"ok": false, "error": MSG, "voices": [...]}
  request:   {"text": TEXT} on stdin
  reply:     {"ok": true, "rate": HZ, "bytes": N} followed by N bytes of mono s16le, or {"ok": false, "error": MSG}
"""

from __future__ import annotations

import json
import os
import sys
import threading
import wave

_UTTERANCE_SECONDS = 60.0
_ATTEMPTS = 3


def _send(channel, header: dict, payload: bytes = b"") -> None:
    channel.write(json.dumps(header).encode("utf-8") + b"\n" + payload)
    channel.flush()


class _Synth:
    """One pyttsx3 engine, used for every utterance.

    pyttsx3 (2.99) cancels a new utterance when espeak-ng still reports the
    previous one as playing: the file comes out empty and a "finished-utterance"
    notification says ``completed=False`` (measured here: the first utterance
    after start-up, in about 1 start in 10). Such an utterance is synthesised again. Errors
    pyttsx3 only reports as notifications are collected.
    """

    def __init__(self, settings: dict, workdir: str) -> None:
        import pyttsx3

        self._workdir = workdir
        self._count = 0
        self.errors: list[str] = []
        self._finished = threading.Event()
        self._completed: list[bool] = []
        self.engine = pyttsx3.init("espeak")
        self.engine.connect("error", self._on_error)
        self.engine.connect("finished-utterance", self._on_finished)
        if settings.get("voice"):
            self.engine.setProperty("voice", settings["voice"])
        self.engine.setProperty("rate", settings["rate"])
        self.engine.setProperty("volume", settings["volume"])

    def _on_error(self, exception: BaseException, name: object = None) -> None:
        self.errors.append(f"{type(exception).__name__}: {exception}")

    def _on_finished(self, completed: bool = True, **_: object) -> None:
        self._completed.append(completed)
        self._finished.set()

    def voices(self) -> list[str]:
        return [f"{v.id} ({v.name})" for v in self.engine.getProperty("voices")]

    def speak(self, text: str) -> tuple[int, bytes]:
        for _ in range(_ATTEMPTS):
            result = self._speak_once(text)
            if result is not None:
                return result
        raise RuntimeError(f"espeak-ng cancelled the utterance {_ATTEMPTS} times")

    def _speak_once(self, text: str) -> tuple[int, bytes] | None:
        """Synthesize into a fresh file (pyttsx3 keeps the last file name; reusing one risks stale audio)."""
        self._count += 1
        path = os.path.join(self._workdir, f"{self._count}.wav")
        self._finished.clear()
        self._completed.clear()
        self.engine.save_to_file(text, path)
        self.engine.runAndWait()
        if self.errors:
            raise RuntimeError("; ".join(self.errors))
        if not self._finished.wait(_UTTERANCE_SECONDS):
            raise RuntimeError("espeak-ng never finished the utterance")
        try:
            if not all(self._completed):
                return None
            with wave.open(path, "rb") as wav:
                return wav.getframerate(), wav.readframes(wav.getnframes())
        finally:
            if os.path.exists(path):
                os.remove(path)


def main() -> int:
    reply = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # everything pyttsx3 prints goes nowhere; replies use the duplicate
    settings = json.loads(sys.argv[1])
    workdir = sys.argv[2]  # created and removed by the parent process
    try:
        synth = _Synth(settings, workdir)
    except Exception as exc:  # report anything: the parent turns it into a user-facing error
        _send(reply, {"ok": False, "error": f"{type(exc).__name__}: {exc}", "voices": []})
        return 1
    try:
        synth.speak("ready")  # warm up, and surface a bad voice now rather than on the first reply
    except Exception as exc:
        _send(reply, {"ok": False, "error": f"{type(exc).__name__}: {exc}", "voices": synth.voices()})
        return 1
    engine = synth.engine
    _send(reply, {"ok": True, "voice": engine.getProperty("voice"), "rate": engine.getProperty("rate"), "volume": engine.getProperty("volume")})
    for line in sys.stdin:
        text = json.loads(line)["text"]
        synth.errors.clear()
        try:
            rate, pcm = synth.speak(text)
        except Exception as exc:
            _send(reply, {"ok": False, "error": f"{type(exc).__name__}: {exc}"})
            continue
        _send(reply, {"ok": True, "rate": rate, "bytes": len(pcm)}, pcm)
    return 0


if __name__ == "__main__":
    sys.exit(main())
