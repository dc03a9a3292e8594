"""Where webhooks may go: public https addresses only, unless private targets are allowed (tests, on-premise).

A URL is checked when it is subscribed (what can never be delivered is refused then) and resolved once before
each delivery; the dispatcher connects to the addresses checked here, never to a second resolution's answer.
The URL is read by httpx, the parser that connects, so no other parser's idea of the host can slip past.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Lookup = Callable[[str, int], Awaitable[list[str]]]
# A DNS name: labels of 1 to 63 characters, the last (the top-level domain) starting with a letter.
HOSTNAME = re.compile(r"^((?!-)[a-z0-9_-]{1,63}(?<!-)\.)*[a-z][a-z0-9_-]{0,62}(?<!-)$")
LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".home.arpa")
# IPv6 forms that carry an IPv4 address, which is what they reach: IPv4-compatible (deprecated) and NAT64.
IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class TargetRefused(ValueError):
    """The URL is not a place creditgate sends webhooks to."""


@dataclass(frozen=True, slots=True)
class Target:
    """A delivery's destination: the subscribed URL and the checked addresses to connect to, in order."""

    url: httpx.URL
    addresses: tuple[str, ...]


def check_url(url: str, *, allow_private: bool) -> httpx.URL:
    """Refuse what is wrong on its face: another scheme, credentials, a bad port or host, a private literal."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise TargetRefused(f"is not a valid URL: {exc}") from None
    if parsed.scheme not in ("https", "http") or not parsed.raw_host:
        raise TargetRefused("must be an http(s) URL with a host")
    if parsed.userinfo:
        raise TargetRefused("must not carry credentials")
    if parsed.port is not None and not 1 <= parsed.port <= 65535:
        raise TargetRefused("must have a port from 1 to 65535")
    host = parsed.raw_host.decode("ascii").lower()
    literal = _literal_address(host)
    if literal is None and not HOSTNAME.match(host.removesuffix(".")):
        raise TargetRefused("must name a host by a DNS name or an IP address")
    if allow_private:
        return parsed
    if parsed.scheme != "https":
        raise TargetRefused("must use https")
    name = host.removesuffix(".")
    if name == "localhost" or name.endswith(LOCAL_SUFFIXES):
        raise TargetRefused("must not name a local host")
    if literal is not None and (reason := refusal(literal)) is not None:
        raise TargetRefused(f"must not be {reason}")
    return parsed


async def system_lookup(host: str, port: int) -> list[str]:
    """The addresses the system resolver gives for a host, in its order of preference."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


async def resolve(url: str, *, allow_private: bool, lookup: Lookup = system_lookup) -> Target:
    """Before each delivery: resolve the host once; every address it gives must pass, and only those are used."""
    parsed = check_url(url, allow_private=allow_private)
    host = parsed.raw_host.decode("ascii")
    literal = _literal_address(host)
    if literal is not None:
        return Target(parsed, (str(literal),))
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        answers = await lookup(host, port)
    except OSError as exc:
        raise TargetRefused(f"cannot resolve {host}: {exc}") from None
    addresses: list[str] = []
    for answer in answers:
        address = ipaddress.ip_address(answer)
        if not allow_private and (reason := refusal(address)) is not None:
            raise TargetRefused(f"{host} resolves to {address}, {reason}")
        if str(address) not in addresses:
            addresses.append(str(address))
    if not addresses:
        raise TargetRefused(f"{host} resolves to no address")
    return Target(parsed, tuple(addresses))


def refusal(address: IPAddress) -> str | None:
    """Why an address is no place for a webhook, or None for a public unicast one.

    An IPv6 address that carries an IPv4 one is judged by the IPv4 address it reaches (a DNS64 resolver
    answers public IPv4-only hosts with NAT64 addresses, which must keep working).
    """
    if isinstance(address, ipaddress.IPv6Address) and (embedded := _embedded_ipv4(address)) is not None:
        reason = refusal(embedded)
        return None if reason is None else f"an IPv6 form of {embedded}, {reason}"
    if address.is_multicast:
        return "a multicast address"
    if (
        not address.is_global
        or address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_unspecified
    ):
        return "a private, loopback, link-local or reserved address"
    return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one reaches: IPv4-mapped, IPv4-compatible, NAT64 (well-known prefix) or 6to4.

    Teredo and the local-use NAT64 prefix are not read: they are refused as not global.
    """
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in IPV4_COMPATIBLE or address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _literal_address(host: str) -> IPAddress | None:
    """The address a host names literally; a legacy IPv4 form (2130706433, 0177.0.0.1, 127.1) is refused."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    try:
        socket.inet_aton(host)
    except OSError:
        return None  # a name
    raise TargetRefused("must write an IPv4 address as four decimal numbers (a.b.c.d)")
