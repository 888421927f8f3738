"""IP allowlists (guide §1: a firm connects only from its static IPs) and the client address."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from functools import lru_cache

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_network(entry: str) -> Network:
    """One allowlist entry: an address (`203.0.113.7`) or a CIDR (`203.0.113.0/28`)."""
    return ipaddress.ip_network(entry.strip(), strict=False)


def normalise_allowlist(entries: Iterable[str]) -> list[str]:
    """Validate and canonicalise entries; raises ValueError naming the bad one."""
    result: list[str] = []
    for entry in entries:
        try:
            network = parse_network(entry)
        except ValueError as exc:
            raise ValueError(entry) from exc
        text = str(network) if network.num_addresses > 1 else str(network.network_address)
        if text not in result:
            result.append(text)
    return result


@lru_cache(maxsize=4096)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(parse_network(entry) for entry in entries)


def ip_allowed(ip: str, entries: Sequence[str]) -> bool:
    """An empty allowlist allows every address."""
    if not entries:
        return True
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(address in network for network in _networks(tuple(entries)))


def client_ip(peer: str, forwarded_for: str | None, trusted_proxies: Sequence[str]) -> str:
    """The caller's address: the peer, unless the peer is a trusted proxy.

    Then X-Forwarded-For is read right to left, skipping our own trusted proxies; the first
    untrusted hop is the client. Anything a client wrote further left is not believed.
    """
    if not forwarded_for or not ip_allowed_nonempty(peer, trusted_proxies):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return peer  # a garbled header from behind our proxy: trust only the proxy
        if not ip_allowed_nonempty(hop, trusted_proxies):
            return hop
    return hops[0] if hops else peer


def ip_allowed_nonempty(ip: str, entries: Sequence[str]) -> bool:
    return bool(entries) and ip_allowed(ip, entries)
