"""The satellite against real hubs on 127.0.0.1: reconnecting, local wake, a refused token, a real (virtual) microphone."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from assistant.audio.file import FileSource
from assistant.errors import AssistantError
from assistant.satellite import HubRefused, Satellite, stream_url
from tests.helpers import RATE, piper, read, silence, trim, write
from tests.server_helpers import (
    config,
    running_full_server,
    running_server,
    start_server,
    wait_until,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def turn():
    """Quiet, 'hey jarvis', 'what time is it', quiet: one spoken turn, about 3.5 s."""
    return np.concatenate([silence(0.8), trim(piper("hey jarvis")), silence(0.3), trim(piper("what time is it")), silence(1.2)])


class Running:
    """A satellite on its own thread, recording what the hub sent and when."""

    def __init__(self, satellite: Satellite) -> None:
        self.satellite = satellite
        self.messages: list[tuple[float, dict]] = []
        satellite.on_message = lambda m: self.messages.append((time.monotonic(), m))
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.satellite.run()
        except BaseException as exc:  # handed to the test
            self.error = exc

    def types(self, since: float = 0.0) -> list[str]:
        return [m["type"] for t, m in list(self.messages) if t >= since]

    def stop(self) -> None:
        self.satellite.close()
        self.thread.join(10)


def test_stream_url_accepts_a_host_or_a_full_url():
    assert stream_url("ws://hub:8765") == "ws://hub:8765/v1/stream"
    assert stream_url("wss://hub:8765/v1/stream") == "wss://hub:8765/v1/stream"


def test_satellite_reconnects_after_the_hub_restarts(turn, tmp_path):
    audio = write(tmp_path / "kitchen.wav", np.tile(turn, 8))  # ~30 s of a person talking now and then
    hub = start_server(config())
    port = hub.port
    running = Running(Satellite(f"ws://127.0.0.1:{port}", FileSource(audio, realtime=True), reconnect_min=0.2, reconnect_max=1.0))
    try:
        assert wait_until(lambda: "wake" in running.types(), timeout=15), running.types()
        hub.stop()
        down = time.monotonic()
        time.sleep(1.5)  # a few refused reconnection attempts
        assert running.satellite.connections == 1 and running.thread.is_alive()
        hub = start_server(config(), port=port)
        assert wait_until(lambda: running.types(down).count("ready") == 1, timeout=10)
        back = next(t for t, m in running.messages if t >= down and m["type"] == "ready")
        assert back - down < 1.5 + 2.0  # the backoff is capped at reconnect_max
        assert wait_until(lambda: "wake" in running.types(back), timeout=10), running.types(back)
        assert running.satellite.connections == 2 and running.error is None
    finally:
        running.stop()
        hub.stop()


def test_local_wake_streams_only_the_turn(turn, tmp_path):
    """The wake word is heard here; the hub gets only the turn (the wake word, confirmed there, and the command)."""
    from assistant.assembly import make_wake

    quiet = 1.5
    audio = write(tmp_path / "turn.wav", np.concatenate([silence(quiet), turn, silence(quiet)]))
    with running_server() as hub:
        running = Running(Satellite(hub.ws_url, FileSource(audio, realtime=True), wake=make_wake(config())))
        running.thread.join(20)
        assert running.error is None and not running.thread.is_alive()
    kinds = running.types()
    assert kinds[0] == "ready" and kinds[-1] == "done"
    assert [k for k in kinds if k in ("wake", "speech_start", "speech_end")] == ["wake", "speech_start", "speech_end"]
    sent = running.messages[-1][1]["audio_seconds"]
    assert sent < len(turn) / RATE + 1.0  # the long quiet before and after the turn stayed here
    start, end = (m["audio_t"] for _, m in running.messages if m["type"] in ("speech_start", "speech_end"))
    assert abs((end - start) - len(trim(piper("what time is it"))) / RATE) < 0.15  # the command arrived whole
    with pytest.raises(RuntimeError, match="closed"):  # the input ended: the satellite released its wake detector
        running.satellite.wake.process(silence(0.08))


def test_a_refused_token_is_final(turn, tmp_path):
    audio = write(tmp_path / "turn.wav", turn)
    with running_server(config(server={"token": "right"})) as hub:
        running = Running(Satellite(hub.ws_url, FileSource(audio, realtime=True), token="wrong", reconnect_min=0.1))
        running.thread.join(10)
    assert isinstance(running.error, HubRefused) and "refused the token" in str(running.error)
    assert isinstance(running.error, AssistantError) and running.error.exit_code == 2
    assert running.satellite.connections == 1


def test_satellite_command_streams_a_file_to_the_hub(turn, tmp_path):
    """`assistant satellite --input FILE --json` end to end, as a user would run it."""
    from tests.helpers import cli

    audio = write(tmp_path / "turn.wav", turn)
    with running_server() as hub:
        result = cli("satellite", "--server", f"ws://127.0.0.1:{hub.port}", "--input", str(audio), "--no-playback", "--json", timeout=30)
    assert result.returncode == 0, result.stderr.decode()
    import json

    kinds = [json.loads(line)["type"] for line in result.stdout.decode().splitlines()]
    assert kinds[0] == "ready" and kinds[-1] == "done"
    assert [k for k in kinds if k in ("wake", "speech_start", "speech_end")] == ["wake", "speech_start", "speech_end"]


@pytest.fixture(scope="module")
def full_hub():
    """A hub running the whole loop: whisper tiny.en, the intents, the Piper voice."""
    with running_full_server() as running:
        yield running


def test_satellite_plays_the_hubs_spoken_reply(full_hub, turn, tmp_path):
    """The reply the hub speaks comes back over the socket and goes to the satellite's own output
    (a WAV writer standing in for the speaker), whole."""
    from assistant.audio.playback import WavWriter

    audio = write(tmp_path / "turn.wav", np.concatenate([turn, silence(3.0)]))
    output = WavWriter(tmp_path / "reply.wav")
    running = Running(Satellite(full_hub.ws_url, FileSource(audio, realtime=True), output=output))
    running.thread.join(30)
    output.close()
    assert running.error is None and not running.thread.is_alive()
    header = next(m for _, m in running.messages if m["type"] == "reply_audio")
    intent = next(m for _, m in running.messages if m["type"] == "intent")
    assert intent["name"] == "HassGetCurrentTime"
    played = read(tmp_path / "reply.wav")
    assert abs(len(played) - header["samples"] * RATE / header["rate"]) <= 2 and np.abs(played.astype(np.int32)).max() > 1000


def test_satellite_on_a_real_capture_device(pulse, turn):
    """PortAudio's "pulse" input reads the virtual microphone in real time; the hub hears the wake word."""
    from assistant.audio.mic import MicrophoneSource

    with running_server() as hub:
        microphone = MicrophoneSource("pulse")
        running = Running(Satellite(hub.ws_url, microphone))
        try:
            assert wait_until(lambda: "ready" in running.types(), timeout=10)
            time.sleep(0.5)
            pulse.play(np.concatenate([turn, silence(0.5)]))
            assert wait_until(lambda: "speech_end" in running.types(), timeout=15), running.types()
            kinds = [k for k in running.types() if k in ("wake", "speech_start", "speech_end")]
            assert kinds == ["wake", "speech_start", "speech_end"]
        finally:
            running.stop()


def _hub_conversation(hub, device: str):
    return hub.state.resources.get().conversations.get(device)


def _after(running: Running, since: float, kind: str) -> list[dict]:
    return [m for t, m in list(running.messages) if t >= since and m["type"] == kind]


def test_a_timer_set_on_a_satellite_rings_there_after_its_turn_and_stop_ends_it(pulse, full_hub):
    """Local wake on the virtual microphone, replies on the virtual speaker, the hub running the whole loop.
    The 2-second timer is due after the turn's stream has closed; the alarm rings on the satellite anyway.
    Ordinary speech without the wake word does not stop it; "stop" does."""
    from assistant.assembly import make_wake
    from assistant.audio.mic import MicrophoneSource
    from assistant.audio.playback import Player

    speaker = Player("pulse")
    running = Running(Satellite(full_hub.ws_url, MicrophoneSource("pulse"), wake=make_wake(config()), output=speaker, device="kitchen-sat", area="kitchen"))
    try:
        assert wait_until(lambda: (c := _hub_conversation(full_hub, "kitchen-sat")) is not None and c.connected, timeout=15)
        time.sleep(0.5)
        pulse.play(np.concatenate([trim(piper("hey jarvis")), silence(0.3), trim(piper("set a timer for two seconds")), silence(1.0)]))
        assert wait_until(lambda: "done" in running.types(), timeout=30), running.types()
        closed = next(t for t, m in running.messages if m["type"] == "done")
        intent = next(m for _, m in running.messages if m["type"] == "intent")
        assert (intent["name"], intent["slots"]) == ("HassStartTimer", {"seconds": 2})
        heard_from = pulse.speaker.mark()

        assert wait_until(lambda: any(m["ringing"] for m in _after(running, closed, "alarm")), timeout=10), running.types(closed)
        assert wait_until(lambda: "Your 2 second timer is done." in [m["text"] for m in _after(running, closed, "reply")], timeout=15)
        assert wait_until(lambda: len(_after(running, closed, "reply_audio")) >= 2, timeout=15)  # the chime, then the words
        assert wait_until(lambda: np.abs(pulse.speaker.audio(heard_from).astype(np.int32)).max(initial=0) > 1000, timeout=10)

        chatter = time.monotonic()
        pulse.play(np.concatenate([trim(piper("what time is it")), silence(0.5)]))
        time.sleep(4.0)
        assert not _after(running, chatter, "stopped") and not _after(running, chatter, "intent")
        assert _hub_conversation(full_hub, "kitchen-sat").ringing

        said = time.monotonic()
        pulse.play(np.concatenate([trim(piper("stop")), silence(0.5)]))
        assert wait_until(lambda: _after(running, said, "stopped"), timeout=10), running.types(said)
        assert _after(running, said, "stopped")[0]["what"] == "alarm"
        assert wait_until(lambda: any(not m["ringing"] for m in _after(running, said, "alarm")), timeout=10)
        assert wait_until(lambda: "done" in running.types(said), timeout=10)  # the satellite closed the stream it opened for "stop"
        quiet = time.monotonic()
        time.sleep(5.0)  # longer than a ring and the pause between rings
        assert not _after(running, quiet, "reply_audio") and not _hub_conversation(full_hub, "kitchen-sat").ringing
    finally:
        running.stop()
        speaker.close()


def test_commands_naming_an_area_are_carried_out_by_the_satellite_there(pulse, tmp_path):
    """A living-room satellite that carries out media and volume itself (its volume: this machine's PulseAudio),
    an office satellite that carries out nothing, and a kitchen asking over HTTP."""
    import httpx

    from assistant.assembly import make_wake
    from assistant.local_skills import LocalSkills

    quiet = write(tmp_path / "quiet.wav", silence(90.0))
    skills = LocalSkills(config(), ["media", "volume"], "livingroom")
    with running_server() as hub:
        living = Running(Satellite(hub.ws_url, FileSource(quiet, realtime=True), wake=make_wake(config()), device="livingroom", area="living room", skills=skills))
        office = Running(Satellite(hub.ws_url, FileSource(quiet, realtime=True), wake=make_wake(config()), device="office-pi", area="office"))
        try:
            for device in ("livingroom", "office-pi"):
                assert wait_until(lambda: (c := _hub_conversation(hub, device)) is not None and c.connected, timeout=15)

            def ask(text: str) -> str:
                answer = httpx.post(f"{hub.url}/v1/understand", json={"text": text, "device": "kitchen", "area": "kitchen"}, timeout=30).json()
                return answer["reply"]["text"]

            pulse.pactl("set-sink-volume", "@DEFAULT_SINK@", "20%")
            assert ask("set the volume to 35 percent in the living room") == "Volume set to 35 percent."
            assert "35%" in pulse.pactl("get-sink-volume", "@DEFAULT_SINK@")
            assert ask("turn up the living room volume by 10%") == "Volume 45 percent."
            assert "45%" in pulse.pactl("get-sink-volume", "@DEFAULT_SINK@")
            for text in ("pause the music in the living room", "next track in the living room", "in the living room play the previous song", "resume the living room music"):
                ask(text)
            commands = [m for _, m in living.messages if m["type"] == "command"]
            assert [c["intent"] for c in commands] == ["HassSetVolume", "HassSetVolumeRelative", "HassMediaPause", "HassMediaNext", "HassMediaPrevious", "HassMediaUnpause"]
            assert commands[0]["slots"] == {"volume_level": 35}  # the area was the hub's business
            assert ask("pause the music in the garage") == "I have no device in the garage."
            assert ask("volume up in the office") == "No device in the office can do that."
            assert not [m for _, m in office.messages if m["type"] == "command"]
        finally:
            living.stop()
            office.stop()
            skills.close()
