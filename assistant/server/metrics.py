"""Prometheus metrics of one server: stage latencies, streams, dropped frames, errors.

Stage latencies come from the event stream, like :mod:`assistant.latency`: each
connection gets a :class:`StageObserver` sink that pairs the events of a turn
and puts each difference into a histogram. A registry per server (not the
process-global default) keeps several servers in one process apart.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from assistant.events import Error, Event
from assistant.latency import LatencyTracker

CONTENT_TYPE = CONTENT_TYPE_LATEST

_LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)
_LAG_BUCKETS = (0.005, 0.01, 0.02, 0.05, 0.08, 0.1, 0.15, 0.2, 0.3, 0.5, 1.0, 2.0, 5.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.stage_latency = Histogram(
            "assistant_stage_latency_seconds",
            "Latency per pipeline stage, from the events of each turn (wake->speech_start, speech_end->transcript, ...)",
            ["stage"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.stream_lag = Histogram(
            "assistant_stream_lag_seconds",
            "Time from an audio chunk's arrival at the server to the end of its processing by the pipeline",
            buckets=_LAG_BUCKETS,
            registry=r,
        )
        self.connections = Gauge("assistant_connections", "Open WebSocket connections", registry=r)
        self.active_streams = Gauge("assistant_active_streams", "Audio streams being processed", registry=r)
        self.streams = Counter("assistant_streams", "Audio streams started", registry=r)
        self.audio_seconds = Counter("assistant_audio_seconds", "Seconds of streamed audio processed", registry=r)
        self.dropped_frames = Counter("assistant_dropped_frames", "80 ms frames dropped because a stream's queue was full", registry=r)
        self.rejected = Counter("assistant_rejected_connections", "Connections closed before streaming", ["reason"], registry=r)
        self.events = Counter("assistant_events", "Events sent to clients", ["type"], registry=r)
        self.errors = Counter("assistant_errors", "Error events and failed requests", ["code"], registry=r)
        self.http_requests = Counter("assistant_http_requests", "HTTP API requests", ["route", "status"], registry=r)
        self.http_seconds = Histogram("assistant_http_request_seconds", "HTTP API request duration", ["route"], buckets=_LATENCY_BUCKETS, registry=r)

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def observer(self) -> StageObserver:
        return StageObserver(self)


class StageObserver:
    """An event sink for one connection: counts events and errors, times the stages of each turn."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics
        self._latency = LatencyTracker(keep=1, on_latency=lambda stage, seconds: metrics.stage_latency.labels(stage).observe(seconds))

    def __call__(self, event: Event) -> None:
        self._metrics.events.labels(event.type).inc()
        if isinstance(event, Error):
            self._metrics.errors.labels(event.code).inc()
        self._latency(event)
