"""Who may read /metrics: a scraper with the metrics token, or one at a configured address.

The counters are by type, channel and outcome, never personal data; but how many VIOLENCE-WC
cases the regency has this hour is not for the internet, and neither is the shape of the load.
"""
from __future__ import annotations

import functools
import hmac
import ipaddress

from siaga112.config import Settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.lru_cache(maxsize=8)
def allowed_networks(setting: str) -> tuple[Network, ...]:
    """`metrics_allow` as networks; a bare address is a network of one. Separated by commas or
    spaces, as Settings checks it."""
    return tuple(ipaddress.ip_network(part.strip(), strict=False)
                 for part in setting.replace(" ", ",").split(",") if part.strip())


def may_scrape(settings: Settings, address: str | None, authorization: str | None) -> bool:
    token = settings.metrics_token
    if token and authorization and authorization.lower().startswith("bearer "):
        if hmac.compare_digest(authorization[7:].strip().encode(), token.encode()):
            return True
    if not address or not settings.metrics_allow:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:  # not an address at all (a test client's "testclient")
        return False
    return any(ip in network for network in allowed_networks(settings.metrics_allow))
