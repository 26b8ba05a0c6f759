"""Fetching a PicUrl without becoming a proxy into the network gridbot runs in.

A PicUrl arrives in a signed message, but it is still a URL someone else chose. It is
fetched only from WeChat's media hosts (an allow-list), and the connection is made only
to a public address: the name is resolved at connect time and every loopback, private,
link-local or otherwise non-global address is skipped, so neither a redirect nor a DNS
answer pointing inside can reach the machine's neighbours.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import httpcore
import httpx

WECHAT_MEDIA_HOSTS = ("mmbiz.qpic.cn", "mmbiz.qlogo.cn")
"""Where WeChat's PicUrls point (http://mmbiz.qpic.cn/mmbiz_jpg/...)."""
DOWNLOAD_TIMEOUT = httpx.Timeout(10.0, connect=3.0)

Resolver = Callable[[str, int], list[str]]


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to, in the resolver's order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class MediaHosts:
    """The hosts a PicUrl may name: exact names, or ".example.com" for its subdomains."""

    names: frozenset[str] = frozenset(WECHAT_MEDIA_HOSTS)
    any_name: bool = False
    """Every host name is allowed (a webhook's URL, chosen by an operator); the address
    check still applies."""
    allow_private: bool = False
    """Test only: the listed hosts may resolve to loopback or private addresses (a fake
    WeChat on 127.0.0.1). Never in production."""
    resolve: Resolver = field(default=resolve, compare=False)

    @classmethod
    def parse(cls, names: str | Iterable[str], *, allow_private: bool = False) -> MediaHosts:
        """From a comma-separated list (GRIDBOT_MEDIA_HOSTS) or an iterable of names."""
        items = names.split(",") if isinstance(names, str) else names
        clean = frozenset(n.strip().lower().rstrip(".") for n in items if n.strip())
        return cls(names=clean, allow_private=allow_private)

    @classmethod
    def anywhere(cls, *, allow_private: bool = False) -> MediaHosts:
        """Any host name, connected to only at a public address (unless `allow_private`)."""
        return cls(names=frozenset(), any_name=True, allow_private=allow_private)

    def allows(self, host: str) -> bool:
        if self.any_name:
            return True
        host = host.lower().rstrip(".")
        return any(
            host == name or (name.startswith(".") and host.endswith(name)) for name in self.names
        )

    def address_allowed(self, address: str) -> bool:
        return self.allow_private or is_public(address)


def is_public(address: str) -> bool:
    """A global unicast address: not loopback, private, link-local, shared, reserved..."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


class ForbiddenAddress(httpcore.ConnectError):
    """The host resolved to no address a PicUrl may be fetched from."""


class _PublicOnlyBackend(httpcore.NetworkBackend):
    """Resolves the host itself and connects only to the addresses `hosts` allows.

    The check and the connection use the same answer, so a name cannot resolve to a
    public address for the check and a private one for the connection.
    """

    def __init__(self, hosts: MediaHosts) -> None:
        self.hosts = hosts
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options=None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = self.hosts.resolve(host, port)
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        allowed = [a for a in addresses if self.hosts.address_allowed(a)]
        if not allowed:
            raise ForbiddenAddress(f"{host} resolves to no public address ({', '.join(addresses)})")
        error: Exception | None = None
        for address in allowed:
            try:
                return self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except httpcore.ConnectError as exc:
                error = exc
        assert error is not None
        raise error

    def connect_unix_socket(self, path: str, timeout=None, socket_options=None):
        raise ForbiddenAddress("unix sockets are not a media host")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _GuardedTransport(httpx.HTTPTransport):
    def __init__(self, hosts: MediaHosts) -> None:
        super().__init__()
        # httpx has no public way to give its pool a network backend; the pool is
        # rebuilt with the same defaults (tests fail loudly if httpx changes this).
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            network_backend=_PublicOnlyBackend(hosts),
        )


def guarded_client(hosts: MediaHosts, timeout: httpx.Timeout = DOWNLOAD_TIMEOUT) -> httpx.Client:
    """An httpx client that connects only to addresses `hosts` allows, never through a
    proxy from the environment (that would connect to the proxy instead)."""
    return httpx.Client(transport=_GuardedTransport(hosts), timeout=timeout, trust_env=False)
