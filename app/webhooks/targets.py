"""Where webhooks may go: public http(s) addresses only, unless private targets are allowed (tests, demos)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit


class TargetRefused(ValueError):
    """The URL is not a place creditgate sends webhooks to."""


def check_url(url: str, *, allow_private: bool) -> None:
    """Refuse what is wrong on its face: another scheme, credentials, a private literal address."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise TargetRefused("must be an http(s) URL with a host")
    if parts.username or parts.password:
        raise TargetRefused("must not carry credentials")
    if allow_private:
        return
    if parts.scheme != "https":
        raise TargetRefused("must use https")
    host = parts.hostname
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        raise TargetRefused("must not name a local host")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return  # a name: checked again, resolved, before each delivery
    if not address.is_global:
        raise TargetRefused("must not be a private, loopback or link-local address")


async def check_resolved(url: str, *, allow_private: bool) -> None:
    """Before each delivery: every address the name resolves to must be public (no DNS rebinding inward)."""
    check_url(url, allow_private=allow_private)
    if allow_private:
        return
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise TargetRefused(f"cannot resolve {host}: {exc}") from None
    for info in infos:
        if not ipaddress.ip_address(info[4][0]).is_global:
            raise TargetRefused(f"{host} resolves to a non-public address")
