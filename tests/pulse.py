"""Real audio devices on a headless box: a private PulseAudio server with two null sinks.

- ``speaker``: where the assistant plays; its monitor (``speaker.monitor``) is
  recorded to check what came out and when.
- ``mic``: a virtual microphone: audio played into the sink comes out of its
  monitor, ``mic.monitor``, which is the default source, so a PortAudio input
  on the ALSA "default"/"pulse" device hears it.

The server is private (own socket in a temp dir, started once per test
process) so parallel test runs and a desktop's own PulseAudio never mix. Both
monitors are recorded for the whole session (``pulse.speaker``, ``pulse.mic``:
take ``mark()`` before, read ``audio(mark)`` after). The ``pulse`` fixture points
this process at the server (``PULSE_SERVER``, default sink and source) and
rescans PortAudio; subprocesses get the same through ``pulse.env``.
``pulse.play(audio)`` speaks into the virtual microphone in real time.

Register with ``pytest_plugins = ["tests.pulse"]`` in the root conftest, or
import the fixtures into a test module.
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
    """``parec`` on a source for the whole session (16 kHz mono s16le), every read timestamped.

    Tests take :meth:`mark` before playing and read :meth:`audio` from that mark
    afterwards. One long-lived recorder per source keeps its null sink running at
    low latency; a fresh recorder on an idle null sink waits up to 2 s for its
    first audio and then arrives in a burst. Sample times come from the
    earliest-arriving reads (a read can be late, never early): accurate to about
    10-20 ms.
    """

    def __init__(self, env: dict[str, str], source: str) -> None:
        self.source = source
        self._proc = subprocess.Popen(
            ["parec", "-d", source, "--raw", "--format=s16le", f"--rate={RATE}", "--channels=1", "--latency-msec=10"],
            stdout=subprocess.PIPE,
            env=env,
        )
        self._data = bytearray()
        self._arrivals: list[tuple[float, int]] = []  # (time.monotonic(), samples received so far)
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._read, name=f"parec:{source}", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while chunk := self._proc.stdout.read1(4096):
            now = time.monotonic()
            with self._lock:
                self._data += chunk
                self._arrivals.append((now, len(self._data) // 2))

    def wait_ready(self, seconds: float = 1.0, timeout: float = 10.0) -> Recording:
        """Return once ``seconds`` of audio have arrived: from then on arrival times are steady."""
        deadline = time.monotonic() + timeout
        while self.mark() < seconds * RATE:
            if time.monotonic() > deadline or self._proc.poll() is not None:
                raise RuntimeError(f"parec on {self.source} delivered no audio (exit code {self._proc.poll()})")
            time.sleep(0.02)
        return self

    def mark(self) -> int:
        """Samples recorded so far: the index the next captured sample will have."""
        with self._lock:
            return len(self._data) // 2

    def audio(self, start: int = 0, end: int | None = None) -> np.ndarray:
        with self._lock:
            stop = len(self._data) // 2 if end is None else end
            return np.frombuffer(bytes(self._data[2 * start : 2 * stop]), dtype="<i2").astype(np.int16)

    def through(self, moment: float, timeout: float = 15.0) -> np.ndarray:
        """Wait until what was captured at ``moment`` (``time.monotonic()``) has arrived; return all audio so far.

        ``parec`` delivers late when the machine is busy: a fixed sleep after the
        player finished can read the recording before its tail has arrived.
        """
        deadline = time.monotonic() + timeout
        while self.time_of(self.mark()) < moment:
            if time.monotonic() > deadline or self._proc.poll() is not None:
                raise RuntimeError(f"parec on {self.source} fell {moment - self.time_of(self.mark()):.1f} s behind")
            time.sleep(0.02)
        return self.audio()

    def time_of(self, sample: int) -> float:
        """``time.monotonic()`` at which ``sample`` (an index as :meth:`mark` counts) was captured."""
        with self._lock:
            arrivals = np.array(self._arrivals)
        steady = arrivals[:, 0] > arrivals[0, 0] + 1.0
        usable = arrivals[steady] if steady.any() else arrivals
        offset = float(np.min(usable[:, 0] - usable[:, 1] / RATE))
        return offset + sample / RATE

    def stop(self) -> None:
        self._proc.terminate()
        self._proc.wait(5)
        self._thread.join(5)


class PulseServer:
    def __init__(self) -> None:
        if not shutil.which("pulseaudio") or not shutil.which("parec"):
            pytest.skip("PulseAudio is not installed (apt install pulseaudio pulseaudio-utils)")
        self.dir = Path(tempfile.mkdtemp(prefix="assistant-pulse-"))
        self.monitors: dict[str, Recording] = {}
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
        self.monitors = {sink: Recording(self.env, f"{sink}.monitor") for sink in (SPEAKER, MIC)}
        for recording in self.monitors.values():
            recording.wait_ready()

    def pactl(self, *args: str) -> str:
        return subprocess.run(["pactl", *args], env=self.env, capture_output=True, text=True, check=True).stdout

    @property
    def speaker(self) -> Recording:
        """Everything played into the ``speaker`` sink this session."""
        return self.monitors[SPEAKER]

    @property
    def mic(self) -> Recording:
        """Everything played into the ``mic`` sink: what a microphone on ``mic.monitor`` hears."""
        return self.monitors[MIC]

    def reset(self) -> None:
        """Both sinks back at full volume and unmuted: a test that drives the volume skill leaves the speaker
        at 45 %, and the next test's speech check would hear a whisper of its reply."""
        for sink in (SPEAKER, MIC):
            self.pactl("set-sink-volume", sink, "100%")
            self.pactl("set-sink-mute", sink, "0")

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
        for recording in self.monitors.values():
            recording.stop()
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
    pulse_server.reset()
    monkeypatch.undo()
    devices.rescan()
