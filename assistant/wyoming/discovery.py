"""Announcing the server over zeroconf (mDNS) as ``_wyoming._tcp``, which Home Assistant discovers.

What is announced follows what the server listens on. Bound to loopback, the
announcement goes out on the loopback interface only, so only this machine
(Home Assistant running here) sees it: a network neighbour would find an
address it cannot reach. Bound to one address, that address, on its
interface. Bound to every address, each of this machine's addresses but
loopback, on every interface.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass

from assistant.errors import ConfigError

SERVICE_TYPE = "_wyoming._tcp.local."
_LABEL = re.compile(r"[^A-Za-z0-9 _-]+")


def default_name() -> str:
    """``assistant-<host name>``: Home Assistant shows it and keys the service by it."""
    host = _LABEL.sub("-", socket.gethostname().split(".")[0]).strip("-") or "host"
    return f"assistant-{host}"[:63]


@dataclass(frozen=True)
class Scope:
    """Which addresses to announce, and on which interfaces."""

    addresses: list[str]
    local_only: bool
    """Every address is loopback: announce on the loopback interface only."""
    everywhere: bool
    """Bound to every address: announce on every interface."""

    @classmethod
    def of(cls, host: str) -> Scope:
        if host in ("", "0.0.0.0", "::"):
            found = _interface_addresses(ipv6=host == "::")
            if not found:
                raise ConfigError("zeroconf: this machine has no network address but loopback to announce; bind to 127.0.0.1 or pass --no-zeroconf")
            return cls(found, local_only=False, everywhere=True)
        try:
            infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise ConfigError(f"wyoming.uri host {host!r} cannot be resolved: {exc.strerror}") from None
        found = list(dict.fromkeys(info[4][0].split("%", 1)[0] for info in infos))
        return cls(found, local_only=all(ipaddress.ip_address(a).is_loopback for a in found), everywhere=False)


class Announcement:
    def __init__(self, name: str, host: str, port: int) -> None:
        self.name = name
        self.port = port
        self.scope = Scope.of(host)
        self._zeroconf = None
        self._info = None

    @property
    def where(self) -> str:
        return ", ".join(self.scope.addresses) + (" (this machine only: the server listens on loopback)" if self.scope.local_only else "")

    async def start(self) -> str:
        """Register the service; returns the name it got (a taken name gets a number: "name (2)")."""
        from zeroconf import InterfaceChoice, IPVersion
        from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

        scope = self.scope
        ipv4 = all(ipaddress.ip_address(a).version == 4 for a in scope.addresses)
        if scope.local_only:
            interfaces = ["127.0.0.1"]
        elif scope.everywhere or not ipv4:
            interfaces = InterfaceChoice.All
        else:
            interfaces = list(scope.addresses)
        self._zeroconf = AsyncZeroconf(interfaces=interfaces, ip_version=IPVersion.V4Only if ipv4 else IPVersion.All)
        self._info = AsyncServiceInfo(
            SERVICE_TYPE,
            f"{self.name}.{SERVICE_TYPE}",
            parsed_addresses=list(scope.addresses),
            port=self.port,
            server=f"{self.name.replace(' ', '-')}.local.",
        )
        try:
            registered = await self._zeroconf.async_register_service(self._info, allow_name_change=True)
            await registered
        except BaseException:
            self._info = None  # never registered: nothing to say goodbye for
            await self.stop()
            raise
        return self._info.name.removesuffix(f".{SERVICE_TYPE}")

    async def stop(self) -> None:
        """Say goodbye (discoverers forget the service at once) and close the sockets."""
        if self._zeroconf is None:
            return
        try:
            if self._info is not None:
                goodbye = await self._zeroconf.async_unregister_service(self._info)
                await goodbye
        finally:
            await self._zeroconf.async_close()
            self._zeroconf = None


def _interface_addresses(*, ipv6: bool) -> list[str]:
    import ifaddr

    found: list[str] = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            address = ip.ip if isinstance(ip.ip, str) else ip.ip[0]
            parsed = ipaddress.ip_address(address.split("%", 1)[0])
            if parsed.is_loopback or parsed.is_link_local or (parsed.version == 6 and not ipv6):
                continue
            found.append(str(parsed))
    return found
