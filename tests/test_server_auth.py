"""Who may stream: a token as soon as the server is reachable beyond loopback, and TLS."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import socket
import ssl
import time

import httpx
import numpy as np
import pytest
import websockets

from assistant.errors import ConfigError
from assistant.server.app import make_server
from assistant.server.auth import Throttle
from tests.helpers import cli, piper, silence, trim
from tests.server_helpers import START, close_of, config, connect_from, kinds, listen, pcm, running_server, self_signed_certificate, stream_audio, wait_until

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


async def _refused(url: str, *messages, headers=None, sock=None) -> tuple[int, str, list]:
    """Send ``messages`` and read until the server closes; a wrong header token is refused before the
    first message, so a send may already find the connection closed."""
    received = []
    async with websockets.connect(url, additional_headers=headers or {}, sock=sock) as ws:
        with contextlib.suppress(websockets.ConnectionClosed):
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
    return self_signed_certificate(tmp_path_factory.mktemp("tls"))


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


HANDSHAKE = 4.0


@pytest.fixture(scope="module")
def guarded():
    """A token-protected server with the default budgets (32 stream slots, 16 pending, 4 pending per address)
    and a 4 s handshake deadline."""
    with running_server(config(server={"token": TOKEN, "handshake_timeout_seconds": HANDSHAKE})) as running:
        yield running


def test_forty_tokenless_idle_sockets_do_not_lock_the_owner_out(guarded, wake_audio):
    """The attack from issue 12: a stranger opens 40 sockets and sends nothing. Before, each took one of the
    32 stream slots and the owner's client got 1013 for a minute. Now they hold no stream slot, only 4 of
    them get a pending place (the rest are refused at once), and those are closed at the handshake deadline;
    meanwhile a satellite (token in the header, same address) and a browser (token in the start message,
    another address) both stream."""
    per_address = guarded.state.config.server.max_pending_per_address

    async def attack():
        began = time.monotonic()
        strangers = [await websockets.connect(guarded.ws_url) for _ in range(40)]
        closes = [asyncio.create_task(close_of(ws)) for ws in strangers]
        await asyncio.sleep(0.3)
        health = (await asyncio.to_thread(httpx.get, f"{guarded.url}/health")).json()
        held = health["connections"], health["pending"]
        satellite = await stream_audio(guarded.ws_url, wake_audio, headers={"Authorization": f"Bearer {TOKEN}"})
        browser = await stream_audio(guarded.ws_url, wake_audio, start={"token": TOKEN}, sock=connect_from(guarded, "127.0.0.2"))
        still_pending = guarded.state.admission.pending
        return held, satellite, browser, still_pending, [(code, reason, at - began) for code, reason, at in await asyncio.gather(*closes)]

    held, satellite, browser, still_pending, closes = asyncio.run(attack())
    assert held == (0, per_address)
    assert kinds(satellite) == kinds(browser) == ["wake", "speech_start", "speech_end"]
    assert still_pending == per_address  # the strangers were still there while the owner streamed
    refused = [c for c in closes if c[0] == 1013]
    timed_out = [c for c in closes if c[0] == 4408]
    assert len(refused) == 40 - per_address and all("waiting to authenticate" in reason for _, reason, _ in refused)
    assert len(timed_out) == per_address and all("handshake" in reason for _, reason, _ in timed_out)
    assert all(HANDSHAKE - 0.2 <= after < HANDSHAKE + 5 for _, _, after in timed_out)
    # the server frees a connection's place as its handler ends, a moment after the client has seen the close
    assert wait_until(lambda: guarded.state.admission.pending == 0 and guarded.state.active == 0, timeout=10)


def test_strangers_from_many_addresses_spend_only_the_pending_budget(guarded, wake_audio):
    """40 idle sockets from 10 addresses: 16 (max_pending_connections) wait, 24 are refused, no stream slot
    is taken and a satellite still streams. A browser that must send its token in the start message
    waits at most one handshake deadline for a pending place."""
    budget = guarded.state.config.server.max_pending_connections

    async def flood():
        strangers = [await websockets.connect(guarded.ws_url, sock=connect_from(guarded, f"127.0.1.{i % 10 + 1}")) for i in range(40)]
        closes = [asyncio.create_task(close_of(ws)) for ws in strangers]
        await asyncio.sleep(0.3)
        held = guarded.state.active, guarded.state.admission.pending
        satellite = await stream_audio(guarded.ws_url, wake_audio, headers={"Authorization": f"Bearer {TOKEN}"})
        early, _, _ = await _refused(guarded.ws_url, json.dumps({**START, "token": TOKEN}), sock=connect_from(guarded, "127.0.0.3"))
        codes = [code for code, _, _ in await asyncio.gather(*closes)]
        browser = await stream_audio(guarded.ws_url, wake_audio, start={"token": TOKEN}, sock=connect_from(guarded, "127.0.0.3"))
        return held, satellite, early, codes, browser

    held, satellite, early, codes, browser = asyncio.run(flood())
    assert held == (0, budget)
    assert kinds(satellite) == ["wake", "speech_start", "speech_end"]
    assert early == 1013
    assert sorted(codes) == [1013] * (40 - budget) + [4408] * budget
    assert kinds(browser) == ["wake", "speech_start", "speech_end"]


def test_repeated_wrong_tokens_shut_the_address_out_for_longer_and_longer(wake_audio):
    """Two wrong tokens are allowed; each one after that shuts the address out for 1 s, then 2 s (the
    configured maximum here). Wrong tokens count the same in a header, a start message or over HTTP; a
    shut-out address is refused even with the right token (4429 / HTTP 429 with Retry-After); other
    addresses are not affected; the right token clears the count."""
    right, wrong = {"Authorization": f"Bearer {TOKEN}"}, {"Authorization": "Bearer guess"}
    cfg = config(server={"token": TOKEN, "auth_failures_allowed": 2, "auth_backoff_max_seconds": 2.0})
    with running_server(cfg) as server:
        assert asyncio.run(_refused(server.ws_url, json.dumps(START), headers=wrong))[0] == 4401
        assert asyncio.run(_refused(server.ws_url, json.dumps({**START, "token": "guess"})))[0] == 4401
        assert httpx.get(f"{server.url}/metrics", headers=wrong).status_code == 401  # the third: shut out for 1 s
        code, reason, _ = asyncio.run(_refused(server.ws_url, json.dumps(START), headers=right))
        assert code == 4429 and reason.endswith("retry in 1 s")
        refused = httpx.get(f"{server.url}/metrics", headers=right)
        assert refused.status_code == 429 and refused.headers["Retry-After"] == "1" and refused.json()["error"]["code"] == "too_many_wrong_tokens"
        elsewhere = asyncio.run(stream_audio(server.ws_url, wake_audio, headers=right, sock=connect_from(server, "127.0.0.2")))
        assert kinds(elsewhere) == ["wake", "speech_start", "speech_end"]

        time.sleep(1.1)
        assert asyncio.run(_refused(server.ws_url, json.dumps(START), headers=wrong))[0] == 4401  # the fourth: 2 s
        code, reason, _ = asyncio.run(_refused(server.ws_url, json.dumps(START), headers=right))
        assert code == 4429 and reason.endswith("retry in 2 s")

        time.sleep(2.1)
        assert kinds(asyncio.run(stream_audio(server.ws_url, wake_audio, headers=right))) == ["wake", "speech_start", "speech_end"]
        assert [asyncio.run(_refused(server.ws_url, json.dumps(START), headers=wrong))[0] for _ in range(2)] == [4401, 4401]
        assert httpx.get(f"{server.url}/metrics", headers=right).status_code == 200  # the count started afresh


def test_wrong_token_records_are_bounded_and_forgotten():
    """However many addresses guess, the throttle keeps at most ``capacity`` records (the most recent), forgets
    addresses quiet for FORGET_SECONDS, and counts an IPv6 /64 as one address. A clock is passed in so the
    quiet period need not be waited out; the addresses are documentation ranges, no traffic is sent."""
    now = [0.0]
    throttle = Throttle(allowed=1, max_seconds=60.0, capacity=100, clock=lambda: now[0])
    for i in range(10_000):
        throttle.failed(str(ipaddress.IPv4Address("198.18.0.0") + i))
    assert len(throttle) == 100

    throttle = Throttle(allowed=1, max_seconds=60.0, clock=lambda: now[0])
    for _ in range(3):
        throttle.failed("2001:db8::1")
    assert throttle.retry_after("2001:db8::2") == 2.0  # same /64: 3 failures, 1 allowed, so 1 s then 2 s
    assert throttle.retry_after("2001:db8:0:1::1") == 0.0
    for _ in range(5000):  # the delay is capped, and no power of two overflows on the way
        throttle.failed("203.0.113.7")
    assert throttle.retry_after("203.0.113.7") == 60.0
    now[0] += Throttle.FORGET_SECONDS + 1
    throttle.failed("203.0.113.8")
    assert len(throttle) == 1 and throttle.retry_after("2001:db8::1") == 0.0
