"""What every route and stream of one server shares, on ``app.state.assistant``.

Its own module so that the routes (``api``), the stream endpoint (``connection``) and the app that wires
them (``app``) all import it and none of them imports another for its type.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass, field

from assistant.config import Config
from assistant.server.admission import Admission
from assistant.server.auth import Auth
from assistant.server.feeders import Feeders, feeder_threads
from assistant.server.hub import Hub
from assistant.server.metrics import Metrics
from assistant.server.resources import LazyResources


@dataclass
class ServerState:
    config: Config
    auth: Auth
    resources: LazyResources
    metrics: Metrics = field(default_factory=Metrics)
    hub: Hub = field(default_factory=Hub)
    started: float = field(default_factory=time.monotonic)
    transcriptions: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(os.cpu_count() or 1))
    """Uploads decoded at once (one per core); the others wait their turn."""
    admission: Admission = field(init=False)
    feeders: Feeders = field(init=False)

    def __post_init__(self) -> None:
        self.admission = Admission(self.config.server)
        self.feeders = Feeders(feeder_threads(self.config))

    @property
    def active(self) -> int:
        """Streams open (stream slots taken)."""
        return self.admission.active
