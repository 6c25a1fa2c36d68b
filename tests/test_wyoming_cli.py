"""`assistant wyoming` as a user starts it: announced over zeroconf, a warning when it is reachable from other
machines, stopped cleanly by SIGTERM (systemd), a clear error for a bad address."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from wyoming.client import AsyncTcpClient
from wyoming.info import Describe, Info
from zeroconf import InterfaceChoice, IPVersion, ServiceBrowser, ServiceListener, Zeroconf

from tests.helpers import REPO, cli
from tests.wyoming_helpers import free_port

QUICK = ("--asr", "none", "--tts", "none", "--set", "wake.models=[alexa]")
"""No recognizer or voice: starts in seconds; what these tests are about is the service itself."""


class Started:
    """`assistant wyoming` in a process of its own; its stderr collected as it comes."""

    def __init__(self, *args: str) -> None:
        self.stderr: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "assistant", "wyoming", *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"},
            cwd=str(REPO),
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stderr:
            self.stderr.append(line)

    def wait_for(self, text: str, timeout: float = 90.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = next((line for line in self.stderr if text in line), None)
            if found is not None:
                return found
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"{text!r} not printed; stderr: {''.join(self.stderr)}")

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(30)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()


class Found(ServiceListener):
    def __init__(self) -> None:
        self.names: list[str] = []
        self.removed: list[str] = []

    def add_service(self, zc: Zeroconf, type_: str, name: str) -> None:
        self.names.append(name)

    def update_service(self, zc: Zeroconf, type_: str, name: str) -> None:
        pass

    def remove_service(self, zc: Zeroconf, type_: str, name: str) -> None:
        self.removed.append(name)


@pytest.mark.slow
def test_a_zeroconf_browser_on_this_machine_finds_the_service_and_home_assistant_can_describe_it():
    port = free_port()
    name = f"assistant-test-{port}"
    server = Started("--uri", f"tcp://127.0.0.1:{port}", "--name", name, *QUICK)
    browser_zc = Zeroconf(interfaces=InterfaceChoice.All, ip_version=IPVersion.V4Only)
    try:
        server.wait_for("announced over zeroconf")
        found = Found()
        browser = ServiceBrowser(browser_zc, "_wyoming._tcp.local.", found)
        deadline = time.monotonic() + 20
        service = f"{name}._wyoming._tcp.local."
        while service not in found.names and time.monotonic() < deadline:
            time.sleep(0.1)
        assert service in found.names, found.names
        info = browser_zc.get_service_info("_wyoming._tcp.local.", service, timeout=5000)
        assert info is not None and info.port == port and info.parsed_addresses() == ["127.0.0.1"]  # loopback: only this machine

        async def describe() -> Info:  # what Home Assistant does with a discovered service
            async with AsyncTcpClient(info.parsed_addresses()[0], info.port) as client:
                await client.write_event(Describe().event())
                return Info.from_event(await asyncio.wait_for(client.read_event(), 1.0))  # Home Assistant allows one second

        assert [m.name for m in asyncio.run(describe()).wake[0].models] == ["alexa"]
        assert server.stop() == 0  # SIGTERM: a clean exit
        deadline = time.monotonic() + 10
        while service not in found.removed and time.monotonic() < deadline:
            time.sleep(0.1)
        assert service in found.removed  # it said goodbye
        browser.cancel()
    finally:
        browser_zc.close()
        if server.proc.poll() is None:
            server.stop()
    assert not any("warning" in line for line in server.stderr), server.stderr


@pytest.mark.slow
def test_serving_beyond_loopback_warns_that_anyone_on_the_network_can_use_it():
    port = free_port()
    server = Started("--uri", f"tcp://0.0.0.0:{port}", "--no-zeroconf", *QUICK)
    try:
        warning = server.wait_for("warning")
        server.wait_for("assistant: serving Wyoming")  # the warning before it also says "serving Wyoming"
        assert "no authentication" in warning and "firewall" in warning and f"0.0.0.0:{port}" in warning
        assert not any("zeroconf" in line for line in server.stderr)
    finally:
        assert server.stop() == 0


@pytest.mark.parametrize(
    "args, says",
    [
        (("--uri", "http://127.0.0.1:10700"), "wyoming.uri"),
        (("--uri", "tcp://127.0.0.1"), "wyoming.uri"),
        (("--name", "no.dots.allowed"), "wyoming.name"),
    ],
)
def test_a_bad_address_or_name_is_a_clear_error(args, says):
    result = cli("wyoming", *args, *QUICK)
    assert result.returncode == 2
    assert says in result.stderr.decode() and "Traceback" not in result.stderr.decode()


@pytest.mark.slow
def test_a_port_in_use_is_a_clear_error():
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli("wyoming", "--uri", f"tcp://127.0.0.1:{port}", "--no-zeroconf", *QUICK, timeout=120)
    assert result.returncode == 2
    assert f"cannot listen on tcp://127.0.0.1:{port}" in result.stderr.decode() and "Traceback" not in result.stderr.decode()
