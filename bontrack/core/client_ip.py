"""The client's address, with X-Forwarded-For honoured only from trusted proxies.

`TRUSTED_PROXIES` (settings, from the environment) lists the addresses or CIDR ranges of the
reverse proxies in front of BoNTrack. With none (the default), `X-Forwarded-For` is ignored and
the client is the TCP peer (`REMOTE_ADDR`): a visitor cannot pick the address that the sign-in
lockout (django-axes, `AXES_CLIENT_IP_CALLABLE`) and the audit trail record. With proxies, the
header is read from the right: each hop added by a trusted proxy is skipped and the first address
that is not a trusted proxy is the client (the right-most untrusted address).
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(e.strip(), strict=False) for e in entries if e.strip())


def parse_trusted_proxies(entries: list[str] | tuple[str, ...]) -> tuple[Network, ...]:
    """Raise ValueError on a malformed entry (settings call it at start-up)."""
    return _networks(tuple(entries))


def _address(value: str) -> Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [v6]:port
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # v4:port
        value = value.split(":", 1)[0]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def _trusted(addr: Address, networks: tuple[Network, ...]) -> bool:
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return any(addr.version == n.version and addr in n for n in networks)


def client_ip(request: HttpRequest) -> str | None:
    remote = _address(request.META.get("REMOTE_ADDR") or "")
    if remote is None:
        return None
    networks = _networks(tuple(getattr(settings, "TRUSTED_PROXIES", ())))
    if not networks or not _trusted(remote, networks):
        return str(remote)
    client = remote
    hops = [h for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    for hop in reversed(hops):
        addr = _address(hop)
        if addr is None:
            break  # a malformed hop: nothing left of it can be believed
        client = addr
        if not _trusted(addr, networks):
            break
    return str(client)
