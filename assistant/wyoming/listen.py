"""``detect`` and ``transcribe``, and the audio stream that follows either.

A request names what the next ``audio-start`` … ``audio-stop`` is for:

    detect     → audio-start, audio-chunk…  ← detection (each time a model fires)   audio-stop → ← not-detected (if none fired)
    transcribe → audio-start, audio-chunk…  ← transcript-start, transcript-chunk… (vosk)   audio-stop → ← transcript, transcript-stop

Audio without a request, a second ``audio-start`` before ``audio-stop``, a
chunk whose format is not its stream's: each is an ``error``. Whatever else
goes wrong in a request still ends with its last answer (``not-detected``,
``transcript``), after an ``error``, so a client waiting for it is never left hanging.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wyoming.asr import Transcript, TranscriptChunk, TranscriptStart, TranscriptStop
from wyoming.event import Event
from wyoming.wake import Detection, NotDetected

from assistant.server.untrusted import shown
from assistant.wyoming.audio import AudioFormat, AudioIn
from assistant.wyoming.errors import ClientError
from assistant.wyoming.stt import Transcriber
from assistant.wyoming.wake import WakeListener

if TYPE_CHECKING:
    from assistant.wyoming.connection import Connection
    from assistant.wyoming.server import WyomingServer

class AudioRequests:
    def __init__(self, link: Connection, server: WyomingServer) -> None:
        self.link = link
        self.server = server
        self._request: tuple[str, list[str] | None] | None = None
        """What the next audio stream is for: ("detect", wake words or None for all) or ("transcribe", None)."""
        self._audio: AudioIn | None = None
        self._session: WakeListener | Transcriber | None = None
        self._detected = False

    # -- requests ----------------------------------------------------------------------------------

    async def detect(self, event: Event) -> None:
        names = self.server.wake_names
        if not names:
            raise ClientError("no_wake", "no wake word is loaded on this server (wake.enabled is false)")
        self._not_streaming("detect")
        wanted = event.data.get("names")
        if wanted is not None:
            if not isinstance(wanted, list) or not all(isinstance(n, str) for n in wanted):
                raise ClientError("bad_event", f'detect: "names" must be a list of wake word names, got {shown(wanted)}')
            unknown = [n for n in wanted if n not in names]
            if unknown:
                raise ClientError("unknown_wake_word", f"detect: no wake word {shown(unknown[0])} here; loaded: {', '.join(names)}")
            wanted = list(dict.fromkeys(wanted)) or None
        self._request = ("detect", wanted)

    async def transcribe(self, event: Event) -> None:
        if self.server.resources.asr is None:
            raise ClientError("no_asr", f"no speech recognition on this server: {self.server.resources.asr_unavailable or 'asr.engine is none'}")
        self._not_streaming("transcribe")
        name = event.data.get("name")
        if name is not None and name != self.server.asr_model:
            raise ClientError("unknown_model", f"transcribe: no model {shown(name)} here; the recognizer is {self.server.asr_model!r}")
        self._request = ("transcribe", None)

    # -- the audio stream --------------------------------------------------------------------------

    async def start(self, event: Event) -> None:
        self._not_streaming("audio-start")
        if self._request is None:
            raise ClientError("no_request", "audio-start with no request: send transcribe (speech to text) or detect (wake word) first")
        fmt = AudioFormat.parse("audio-start", event.data)
        kind, wanted = self._request
        self._request = None
        config, server = self.server.config, self.server
        if kind == "detect":
            self._session = await self.link.work(WakeListener, config, wanted, server.emitter)
            self._audio = AudioIn(fmt)
        else:
            self._session = await self.link.work(Transcriber, config, server.resources, server.emitter)
            self._audio = AudioIn(fmt, config.wyoming.max_audio_seconds)
            if self._session.recognizer.incremental:
                await self.link.send(TranscriptStart().event())
        self._detected = False

    async def chunk(self, event: Event) -> None:
        audio, session = self._open("audio-chunk")
        samples = audio.chunk(event.data, event.payload)
        if isinstance(session, WakeListener):
            fired = await self.link.work(session.feed, samples)
            await self._detections(fired, event.data.get("timestamp"), audio)
        else:
            words = await self.link.work(session.feed, samples)
            if words:
                await self.link.send(TranscriptChunk(text=words).event())

    async def stop(self, event: Event) -> None:
        audio, session = self._open("audio-stop")
        self._audio = self._session = None
        try:
            tail = audio.finish()
            if isinstance(session, WakeListener):
                try:
                    await self._detections(await self.link.work(session.finish, tail), None, audio)
                except ClientError as exc:  # the detector failed: the client still learns nothing fired
                    await self.link.error(exc)
                if not self._detected:
                    await self.link.send(NotDetected().event())
                return
            if audio.dropped_seconds:
                await self.link.error(
                    ClientError("audio_too_long", f"only the first {audio.seconds:g} s were transcribed (wyoming.max_audio_seconds); {audio.dropped_seconds:.1f} s more were ignored")
                )
            try:
                text = (await self.link.work(session.finish, tail)).text
            except ClientError as exc:  # the recognizer failed: the client still gets its (empty) transcript
                await self.link.error(exc)
                text = ""
            await self.link.send(Transcript(text=text).event())
            if session.recognizer.incremental:
                await self.link.send(TranscriptStop().event())
        finally:
            await self.link.work(session.close)

    def release(self) -> None:
        """The connection closed (on its worker thread): free the stream's detector or recognizer now."""
        session, self._session, self._audio = self._session, None, None
        if session is not None:
            session.close()

    # -- helpers -----------------------------------------------------------------------------------

    def _not_streaming(self, kind: str) -> None:
        if self._audio is not None:
            raise ClientError("already_started", f"{kind} while an audio stream is open: send audio-stop first")

    def _open(self, kind: str) -> tuple[AudioIn, WakeListener | Transcriber]:
        if self._audio is None or self._session is None:
            raise ClientError("not_started", f"{kind} with no audio stream: send transcribe or detect, then audio-start, before audio")
        return self._audio, self._session

    async def _detections(self, fired: list[str], timestamp: Any, audio: AudioIn) -> None:
        """``detection`` for each model that fired, stamped with the client's chunk time (else the audio's)."""
        stamp = timestamp if isinstance(timestamp, int) and not isinstance(timestamp, bool) else int(audio.seconds * 1000)
        for model in fired:
            self._detected = True
            await self.link.send(Detection(name=model, timestamp=stamp).event())
