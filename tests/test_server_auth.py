"""Who may stream: a token as soon as the server is reachable beyond loopback, and TLS."""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import subprocess

import httpx
import numpy as np
import pytest
import websockets

from assistant.errors import ConfigError
from assistant.server.app import make_server
from tests.helpers import cli, piper, silence, trim
from tests.server_helpers import START, config, kinds, listen, pcm, running_server, stream_audio

TOKEN = "correct horse battery staple"


def machine_ip() -> str:
    """This machine's address on its network (what another device would connect to); loopback if it has none."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("10.255.255.255", 1))  # no packet is sent: this only picks the outgoing interface
        return probe.getsockname()[0]
    except OSError:
        return "127.0.0.1"
    finally:
        probe.close()


@pytest.fixture(scope="module")
def wake_audio():
    return pcm(np.concatenate([silence(0.5), trim(piper("hey jarvis")), silence(0.3), trim(piper("what time is it")), silence(1.5)]))


@pytest.fixture(scope="module")
def exposed():
    """Listening on every interface, as a hub for satellites would; clients come in on the machine's IP."""
    with running_server(config(server={"host": "0.0.0.0", "token": TOKEN}), host="0.0.0.0", connect_host=machine_ip()) as running:
        yield running


def _metric(server, name: str) -> float:
    text = httpx.get(f"{server.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(name))


def test_serving_beyond_loopback_without_a_token_is_refused():
    sock = listen("0.0.0.0")
    try:
        with pytest.raises(ConfigError, match="needs a token"):
            make_server(config(server={"host": "0.0.0.0"}), [sock])
    finally:
        sock.close()
    result = cli("serve", "--host", "0.0.0.0", "--port", "8765", timeout=30)
    err = result.stderr.decode()
    assert result.returncode == 2 and "needs a token" in err and "Traceback" not in err


async def _refused(url: str, *messages, headers=None) -> tuple[int, str, list]:
    received = []
    async with websockets.connect(url, additional_headers=headers or {}) as ws:
        for message in messages:
            await ws.send(message)
        with pytest.raises(websockets.ConnectionClosed):
            while True:
                received.append(await asyncio.wait_for(ws.recv(), 10))
        return ws.close_code, ws.close_reason, received


@pytest.mark.parametrize(
    ("headers", "messages"),
    [
        ({}, [json.dumps(START)]),
        ({"Authorization": "Bearer wrong"}, [json.dumps(START)]),
        ({}, [json.dumps({**START, "token": "wrong"})]),
        ({}, [b"\0" * 2560]),
        ({}, ["{broken"]),
    ],
    ids=["no-token", "wrong-header", "wrong-in-start", "audio-first", "garbage-first"],
)
def test_wrong_or_missing_token_closes_4401_and_nothing_is_processed(exposed, headers, messages):
    streams_before = _metric(exposed, "assistant_streams_total")
    code, reason, received = asyncio.run(_refused(exposed.ws_url, *messages, headers=headers))
    assert code == 4401 and "token" in reason
    assert received == []  # not even an error event: an unauthenticated client learns nothing
    assert _metric(exposed, "assistant_streams_total") == streams_before


def test_the_right_token_in_a_header_or_the_start_message_streams(exposed, wake_audio):
    by_header = asyncio.run(stream_audio(exposed.ws_url, wake_audio, headers={"Authorization": f"Bearer {TOKEN}"}))
    in_start = asyncio.run(stream_audio(exposed.ws_url, wake_audio, start={"token": TOKEN}))
    assert kinds(by_header) == kinds(in_start) == ["wake", "speech_start", "speech_end"]


def test_http_api_needs_the_token_too_but_health_does_not(exposed):
    assert httpx.get(f"{exposed.url}/health").json()["auth"] is True
    refused = httpx.get(f"{exposed.url}/metrics")
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"
    assert httpx.post(f"{exposed.url}/v1/understand", json={"text": "what time is it"}).status_code == 401
    assert httpx.get(f"{exposed.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_loopback_server_with_a_token_still_enforces_it(wake_audio):
    with running_server(config(server={"token": TOKEN})) as server:
        code, _, _ = asyncio.run(_refused(server.ws_url, json.dumps(START)))
        assert code == 4401
        assert kinds(asyncio.run(stream_audio(server.ws_url, wake_audio, start={"token": TOKEN}))) == ["wake", "speech_start", "speech_end"]


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1 and localhost, made here with the openssl CLI."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=assistant test",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def test_tls_serves_wss_and_https(certificate, wake_audio):
    cert, key = certificate
    trust = ssl.create_default_context(cafile=str(cert))
    with running_server(config(server={"tls_cert": str(cert), "tls_key": str(key)})) as server:
        assert server.ws_url.startswith("wss://")
        events = asyncio.run(stream_audio(server.ws_url, wake_audio, ssl=trust))
        assert kinds(events) == ["wake", "speech_start", "speech_end"]
        assert httpx.get(f"{server.url}/health", verify=trust).json()["status"] == "ok"
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):  # a client must trust the certificate
            httpx.get(f"{server.url}/health", verify=ssl.create_default_context())
        with pytest.raises((websockets.InvalidMessage, ConnectionError, EOFError)):  # plain ws:// to a TLS port
            asyncio.run(stream_audio(server.ws_url.replace("wss://", "ws://"), wake_audio, timeout=5))


def test_tls_misconfiguration_is_a_config_error(certificate, tmp_path):
    cert, _ = certificate
    sock = listen()
    try:
        with pytest.raises(ConfigError, match="both server.tls_cert and server.tls_key"):
            make_server(config(server={"tls_cert": str(cert)}), [sock])
        with pytest.raises(ConfigError, match="cannot load the TLS certificate"):
            make_server(config(server={"tls_cert": str(tmp_path / "missing.pem"), "tls_key": str(tmp_path / "missing.key")}), [sock])
    finally:
        sock.close()
