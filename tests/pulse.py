"""Real audio devices on a headless box: a private PulseAudio server with two null sinks.

- ``speaker``: where the assistant plays; its monitor (``speaker.monitor``) is
  recorded to check what came out and when.
- ``mic``: a virtual microphone: audio played into the sink comes out of its
  monitor, ``mic.monitor``, which is the default source, so a PortAudio input
  on the ALSA "default"/"pulse" device hears it.

The server is private (own socket in a temp dir, started once per test
process) so parallel test runs and a desktop's own PulseAudio never mix. The
``pulse`` fixture points this process at it (``PULSE_SERVER``, default sink
and source) and rescans PortAudio; subprocesses get the same through
``pulse.env``. Register with ``pytest_plugins = ["tests.pulse"]`` in the root
conftest, or import the fixtures into a test module.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest

RATE = 16000
SPEAKER = "speaker"
MIC = "mic"


class Recording:
    """``parec`` on a source (16 kHz mono s16le) with every read timestamped.

    Sample times come from the earliest-arriving reads (a read can arrive late,
    never early), skipping parec's first second, when it delivers in bursts;
    accurate to about 10-20 ms.
    """

    def __init__(self, env: dict[str, str], source: str) -> None:
        self._proc = subprocess.Popen(
            ["parec", "-d", source, "--raw", "--format=s16le", f"--rate={RATE}", "--channels=1", "--latency-msec=10"],
            stdout=subprocess.PIPE,
            env=env,
        )
        self._reads: list[tuple[float, bytes]] = []
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while chunk := self._proc.stdout.read1(4096):
            self._reads.append((time.monotonic(), chunk))

    def wait_ready(self, seconds: float = 1.2, timeout: float = 10.0) -> Recording:
        """Return once ``seconds`` of audio have arrived: from then on timing is steady."""
        deadline = time.monotonic() + timeout
        while sum(len(c) for _, c in self._reads) < seconds * RATE * 2:
            if time.monotonic() > deadline or self._proc.poll() is not None:
                raise RuntimeError(f"parec delivered no audio (exit code {self._proc.poll()})")
            time.sleep(0.02)
        return self

    def stop(self) -> Recording:
        self._proc.terminate()
        self._proc.wait(5)
        self._thread.join(5)
        return self

    @property
    def audio(self) -> np.ndarray:
        data = b"".join(c for _, c in list(self._reads))
        return np.frombuffer(data[: len(data) // 2 * 2], dtype="<i2").astype(np.int16)

    def time_of(self, sample: int) -> float:
        """``time.monotonic()`` at which ``sample`` (index into :attr:`audio`) was captured."""
        reads = list(self._reads)
        ends = np.cumsum([len(c) // 2 for _, c in reads])
        arrivals = np.array([t for t, _ in reads])
        steady = arrivals > arrivals[0] + 1.0
        offset = float(np.min((arrivals - ends / RATE)[steady])) if steady.any() else float(arrivals[-1] - ends[-1] / RATE)
        return offset + sample / RATE


class PulseServer:
    def __init__(self) -> None:
        if not shutil.which("pulseaudio") or not shutil.which("parec"):
            pytest.skip("PulseAudio is not installed (apt install pulseaudio pulseaudio-utils)")
        self.dir = Path(tempfile.mkdtemp(prefix="assistant-pulse-"))
        self.socket = self.dir / "native"
        self.env = {**os.environ, "PULSE_SERVER": f"unix:{self.socket}", "PULSE_SINK": SPEAKER, "PULSE_SOURCE": f"{MIC}.monitor"}
        self._log = open(self.dir / "pulseaudio.log", "wb")
        command = ["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--use-pid-file=no", "--system=false", "--disable-shm=yes"]
        modules = [
            f"module-native-protocol-unix socket={self.socket} auth-anonymous=1",
            f"module-null-sink sink_name={SPEAKER} rate=48000 channels=2",
            f"module-null-sink sink_name={MIC} rate={RATE} channels=1",
        ]
        self._proc = subprocess.Popen(
            command + [arg for module in modules for arg in ("-L", module)],
            env={**os.environ, "PULSE_RUNTIME_PATH": str(self.dir), "PULSE_STATE_PATH": str(self.dir)},
            stdout=self._log,
            stderr=self._log,
        )
        deadline = time.monotonic() + 10
        while subprocess.run(["pactl", "info"], env=self.env, capture_output=True).returncode != 0:
            if self._proc.poll() is not None or time.monotonic() > deadline:
                log = (self.dir / "pulseaudio.log").read_text(errors="replace")
                self.stop()
                raise RuntimeError(f"PulseAudio did not start: {log}")
            time.sleep(0.05)
        self.pactl("set-default-sink", SPEAKER)
        self.pactl("set-default-source", f"{MIC}.monitor")

    def pactl(self, *args: str) -> str:
        return subprocess.run(["pactl", *args], env=self.env, capture_output=True, text=True, check=True).stdout

    def record(self, source: str = f"{SPEAKER}.monitor") -> Recording:
        """Start recording ``source`` now; call ``wait_ready()`` before playing what it should catch."""
        return Recording(self.env, source)

    def play(self, audio: np.ndarray, sink: str = MIC, rate: int = RATE) -> subprocess.Popen:
        """Play int16 mono ``audio`` into ``sink`` in real time (into the virtual microphone by default)."""
        proc = subprocess.Popen(
            ["pacat", "-d", sink, "--raw", "--format=s16le", f"--rate={rate}", "--channels=1", "--latency-msec=20"],
            stdin=subprocess.PIPE,
            env=self.env,
        )
        threading.Thread(target=proc.communicate, args=(audio.astype("<i2").tobytes(),), daemon=True).start()
        return proc

    def stop(self) -> None:
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


_server: PulseServer | None = None


def _shared_server() -> PulseServer:
    """One server per test process, however many modules import the fixtures."""
    global _server
    if _server is None:
        _server = PulseServer()
        atexit.register(_server.stop)
    return _server


@pytest.fixture(scope="session")
def pulse_server() -> PulseServer:
    return _shared_server()


@pytest.fixture
def pulse(pulse_server: PulseServer, monkeypatch: pytest.MonkeyPatch) -> PulseServer:
    """This process talks to the private server: PortAudio's "default" device plays into ``speaker``
    and records from ``mic.monitor``."""
    from assistant.audio import devices

    for key in ("PULSE_SERVER", "PULSE_SINK", "PULSE_SOURCE"):
        monkeypatch.setenv(key, pulse_server.env[key])
    devices.rescan()
    yield pulse_server
    monkeypatch.undo()
    devices.rescan()
