"""The one rule for "which address is the client": throttles, LoginEvent, AuditLog, the admin login.

By default the client is `REMOTE_ADDR`, the peer of the TCP connection. Every header a client
can write (`X-Forwarded-For`, `X-Real-IP`, `Forwarded`) is ignored: trusting one would let anybody
pick a fresh address per request and walk past every per-IP limit.

Behind reverse proxies, say which ones to trust, and `X-Forwarded-For` is read from the right:

- `TRUSTED_PROXY_IPS` (addresses or networks): walking from `REMOTE_ADDR` leftwards through
  `X-Forwarded-For`, the first address that is not a trusted proxy is the client.
- `TRUSTED_PROXY_COUNT` (a number): that many proxies stand in front of the app, each appending
  the address it saw, so the client is the entry that many places from the right
  (`REMOTE_ADDR` counting as the nearest proxy).

Entries left of the client are whatever the client sent, so they are never read. An entry that
is not an IP address falls back to `REMOTE_ADDR`.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip())


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip().strip("[]"))
    except ValueError:
        return None


def _is_trusted(value: str, networks: tuple[Network, ...]) -> bool:
    address = _address(value)
    return address is not None and any(address in network for network in networks)


def client_ip(request) -> str | None:
    """The client's address under the project's rule, or None when there is no request."""
    if request is None:
        return None
    remote = request.META.get("REMOTE_ADDR") or None
    count = settings.TRUSTED_PROXY_COUNT
    networks = _networks(tuple(settings.TRUSTED_PROXY_IPS))
    if remote is None or not (count or networks):
        return remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    chain = [entry.strip() for entry in forwarded.split(",") if entry.strip()] + [remote]
    if count:
        # Fewer entries than proxies: the request did not come through all of them.
        candidate = chain[-(count + 1)] if len(chain) > count else chain[0]
    else:
        candidate = next((entry for entry in reversed(chain) if not _is_trusted(entry, networks)), chain[0])
    address = _address(candidate)
    return str(address) if address is not None else remote


def client_in(request, networks: list[str]) -> bool:
    """Whether the client's address (under the rule above) lies in one of `networks`."""
    address = client_ip(request)
    return address is not None and _is_trusted(address, _networks(tuple(networks)))
