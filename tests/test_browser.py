"""The web page in a real headless Chromium whose microphone is a WAV file.

Chromium's fake capture device plays the file (looped) into getUserMedia; the
page captures it with the AudioWorklet (16 kHz PCM) or MediaRecorder
(webm/opus), streams it to a real server and shows the events. Playwright
drives the system Chromium (no browser download).
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers import RATE, piper, silence, trim, write
from tests.server_helpers import chromium, running_full_server

pytestmark = pytest.mark.slow

MODES = ["worklet", "recorder"]


@pytest.fixture(scope="module")
def microphone_file(tmp_path_factory):
    """Quiet first: the page's first stream waits for the server to load its wake model."""
    command = trim(piper("what time is it"))
    audio = np.concatenate([silence(2.5), trim(piper("hey jarvis")), silence(0.4), command, silence(2.5)])
    return write(tmp_path_factory.mktemp("browser") / "microphone.wav", audio, subtype="PCM_16"), len(command) / RATE


@pytest.fixture(scope="module")
def browser(microphone_file):
    with chromium(microphone_file[0]) as running:
        yield running


def _open(browser, server, mode: str):
    page = browser.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(f"{server.url}/")
    page.click(".settings summary")
    page.check(f"input[name=mode][value={mode}]")
    page.click("#toggle")
    return page, problems


@pytest.mark.parametrize("mode", MODES)
def test_page_streams_the_microphone_and_shows_wake_and_speech(browser, server, microphone_file, mode):
    _, command_seconds = microphone_file
    page, problems = _open(browser, server, mode)
    try:
        page.wait_for_selector("#events li[data-type=speech_end]", state="attached", timeout=20000)
        events = page.evaluate("window.assistantEvents")
        ready = events[0]
        assert ready["type"] == "ready" and ready["encoding"] == ("pcm_s16le" if mode == "worklet" else "webm/opus")
        order = [e["type"] for e in events if e["type"] in ("wake", "speech_start", "speech_end")]
        assert order[:3] == ["wake", "speech_start", "speech_end"]
        wake = next(e for e in events if e["type"] == "wake")
        assert wake["model"] == "hey_jarvis" and page.is_visible("#wake-badge") is not None
        start, end = (e["audio_t"] for e in events if e["type"] in ("speech_start", "speech_end"))
        assert abs((end - start) - command_seconds) <= 0.25
        assert "listening" in page.text_content("#status")
        page.click("#toggle")  # stop: the server finishes and says done
        page.wait_for_selector("#status[data-state=idle]", timeout=10000)
        assert page.evaluate("window.assistantEvents.at(-1).type") == "done"
        assert problems == [] and page.text_content("#problem") == ""
    finally:
        page.close()


@pytest.fixture(scope="module")
def server():
    """The server with a recognizer (whisper tiny.en), the intents and a voice (Piper): the whole loop."""
    with running_full_server() as running:
        yield running


@pytest.mark.parametrize("mode", MODES)
def test_page_shows_the_recognised_intent_and_plays_the_reply(browser, server, mode):
    page, problems = _open(browser, server, mode)
    try:
        page.wait_for_function("document.getElementById('intent').textContent.length > 0", timeout=25000)
        assert page.text_content("#intent").startswith("HassGetCurrentTime")
        assert "time" in page.text_content("#transcript") and page.text_content("#reply")
        page.wait_for_selector("#reply[data-playing]", state="attached", timeout=10000)  # the reply audio arrived whole and plays
        assert problems == []
    finally:
        page.close()
