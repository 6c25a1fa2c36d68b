"""One audio stream of one WebSocket connection: its pipeline, its input queue, and what feeds it.

The pipeline is the same class ``assistant run`` uses, fed from a
:class:`~assistant.server.audio_in.QueueSource`, so the server has no second
implementation of the loop. A live stream (a microphone, real time) is fed by
the server's shared :class:`~assistant.server.feeders.Feeders`: a thread per
microphone would make hundreds of threads fight for the GIL. A recording sent
with ``backpressure`` runs ``Pipeline.run`` on a thread of its own, because
its pipeline is synchronous: each turn holds up the audio after it, as in a
file run. Events leave through the connection's emitter (thread-safe) and end
with ``done``. A typed command (``text`` message) waits in the pipeline and
pokes the queue, so a client that sends no audio gets its turn too.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import uuid
from collections.abc import Callable

from assistant.assembly import Resources, make_pipeline
from assistant.audio.playback import AudioOutput
from assistant.audio.source import CHUNK_SECONDS
from assistant.config import Config
from assistant.conversations import Conversation
from assistant.events import Error, EventEmitter, Overload
from assistant.pipeline import Pipeline
from assistant.server.audio_in import ChunkQueue, ContainerInput, PcmInput, QueueSource, StreamInput
from assistant.server.feeders import Feeders
from assistant.server.messages import StreamDone, StreamReady
from assistant.server.metrics import Metrics
from assistant.server.protocol import StartRequest
from assistant.server.wake_scores import ScoreReporter

_log = logging.getLogger(__name__)

OVERLOAD_REPORT_SECONDS = 1.0


def build_pipeline(
    config: Config, emitter: EventEmitter, resources: Resources, output: AudioOutput | None, conversation: Conversation, *, synchronous: bool
) -> Pipeline:
    """The one place a stream's pipeline is assembled: the same as `assistant run`, hearing the connection's
    device, replies sent to the client through the connection's ``output``.

    ``synchronous`` for clients that send faster than real time with backpressure (recordings): each
    turn completes before the audio after it is heard, as in a file run. Live streams keep listening
    while a reply plays, so the wake word can barge in and no audio piles up.
    """
    # chimes stay on the client's side: it hears `wake` and `error` events sooner than any audio we could send
    quiet = config.model_copy(update={"feedback": config.feedback.model_copy(update={"chimes": False})})
    return make_pipeline(quiet, emitter, resources, output=output, synchronous=synchronous, conversation=conversation)


class DropReporter:
    """Counts dropped chunks and tells the client with an ``overload`` event, at most once per second."""

    def __init__(self, queue: ChunkQueue, emitter: EventEmitter, metrics: Metrics) -> None:
        self._queue = queue
        self._emitter = emitter
        self._metrics = metrics
        self._lock = threading.Lock()
        self._last_report = -math.inf
        self._reported = 0

    def __call__(self) -> None:
        self._metrics.dropped_frames.inc()
        now = time.monotonic()
        with self._lock:
            if now - self._last_report < OVERLOAD_REPORT_SECONDS:
                return
            self._last_report = now
        self._report()

    def flush(self) -> None:
        """Report drops not yet told (at the end of the stream)."""
        if self._queue.dropped != self._reported:
            self._report()

    def _report(self) -> None:
        self._reported = self._queue.dropped
        self._emitter.emit(Overload(dropped_frames=self._queue.dropped, queued_frames=len(self._queue)))


class Stream:
    """Built in a worker thread (it loads models); ``start`` begins processing.

    ``on_finished`` is called, from the thread that ended the stream, after ``done`` was emitted.
    """

    def __init__(
        self,
        request: StartRequest,
        config: Config,
        emitter: EventEmitter,
        metrics: Metrics,
        on_finished: Callable[[], None],
        *,
        resources: Resources,
        feeders: Feeders,
        output: AudioOutput | None,
        conversation: Conversation,
    ) -> None:
        self.id = uuid.uuid4().hex[:12]
        self.request = request
        self.config = request.stream_config(config)
        self.emitter = emitter
        self.metrics = metrics
        self.stopping = False
        server = config.server
        self.queue = ChunkQueue(max(1, math.ceil(server.queue_seconds / CHUNK_SECONDS)))
        self.source = QueueSource(self.queue, f"stream {self.id}", emit=emitter.emit, on_processed=metrics.stream_lag.observe, on_idle=self._idle)
        self.drops = DropReporter(self.queue, emitter, metrics)
        self._asr_unavailable = resources.asr_unavailable
        self.input: StreamInput
        if request.pcm_format is not None:
            self.input = PcmInput(request, self.queue, self.source, self.drops)
        else:
            capacity = max(server.max_message_bytes, int(server.queue_seconds * request.bytes_per_second()))
            self.input = ContainerInput(request, self.queue, self.drops, emitter.emit, capacity)
        self.device, self.area = conversation.id, conversation.area
        # last: from here the pipeline is the device's outlet, until the stream's end closes it
        self.pipeline = build_pipeline(self.config, emitter, resources, output, conversation, synchronous=request.backpressure)
        if request.wake_scores and self.pipeline.wake is not None:
            self.pipeline.wake = ScoreReporter(self.pipeline.wake, emitter.emit, lambda: self.pipeline.position)
        self._on_finished = on_finished
        self._feeders = feeders

    def ready_event(self) -> StreamReady:
        wake = self.config.wake
        return StreamReady(
            session=self.id,
            encoding=self.request.encoding,
            rate=self.request.rate,
            wake=list(wake.models) if wake.enabled else [],
            queue_seconds=self.queue.capacity * CHUNK_SECONDS,
            device=self.device,
            area=self.area,
        )

    def start(self) -> None:
        if self._asr_unavailable:
            self.emitter.emit(Error(code="asr_unavailable", message=f"no transcripts on this server: {self._asr_unavailable}"))
        self.metrics.active_streams.inc()
        self.metrics.streams.inc()
        if self.pipeline.synchronous:
            threading.Thread(target=self._run, name=f"stream-{self.id}", daemon=True).start()
        else:
            self.pipeline.begin()
            self._feeders.attach(self.source, self.pipeline.feed, on_end=self._end)

    def hear(self, text: str) -> bool:
        """A command the client typed: answered in turn, also while no audio comes. False when too many wait."""
        if not self.pipeline.hear(text):
            return False
        self.queue.poke()
        return True

    def _idle(self) -> None:
        """On the thread feeding the stream, when no audio came for a while or a typed command waits."""
        self.pipeline.idle()

    def stop(self) -> None:
        """The client sent ``stop``: finish the audio already received, then ``done``."""
        self.stopping = True
        self.input.end()

    def abort(self) -> None:
        """The client is gone: stop as soon as the current chunk is processed."""
        self.stopping = True
        self.input.abort()
        self.queue.abort()

    def _run(self) -> None:
        """A recording's stream, on its own thread: the whole pipeline run."""
        try:
            self.pipeline.run(self.source)
        except Exception as exc:
            self._failed(exc)
        finally:
            self._finish()

    def _end(self, error: BaseException | None) -> None:
        """A live stream's end, on a thread of its own (the feeders are done with it): the turn in flight
        completes, or feeding failed."""
        try:
            if error is None:
                self.pipeline.finish()
            else:
                self._failed(error)
        except Exception as exc:
            self._failed(exc)
        finally:
            self.source.report_end()
            self._finish()

    def _failed(self, exc: BaseException) -> None:
        """A pipeline fault ends this stream with a reason, never the server."""
        _log.error("stream %s failed", self.id, exc_info=exc)
        self.emitter.emit(Error(code="pipeline_failed", message=f"the pipeline stopped: {type(exc).__name__}: {exc}"))

    def _finish(self) -> None:
        self.pipeline.close()
        self.drops.flush()
        seconds = self.source.stats.frames * CHUNK_SECONDS
        self.metrics.audio_seconds.inc(seconds)
        self.metrics.active_streams.dec()
        self.emitter.emit(StreamDone(audio_seconds=round(seconds, 3), dropped_frames=self.queue.dropped))
        self._on_finished()
