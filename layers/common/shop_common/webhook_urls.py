"""Where webhooks may be sent: the SSRF guard (docs/webhooks.md, "Where deliveries may go").

A webhook URL is chosen by staff, so the sender must never be turned against the network it runs
in: the instance metadata service (169.254.169.254), Lambda's runtime API on loopback, a VPC's
private addresses. Deployed, a URL must be `https` and every address its name resolves to must
be public: not private, loopback, link-local, shared (CGNAT), multicast, reserved, documentation
or benchmarking space, nor an IPv6 form that embeds an IPv4 address (mapped, NAT64, 6to4,
Teredo). The staff API checks a URL when it is saved; the sender checks again at every delivery
and connects to the very address it checked (`webhook_sender`'s `guarded_http`), so a name that
resolves elsewhere later (DNS rebinding) gains nothing.

Locally (`make run`, tests) the environment variable WEBHOOKS_ALLOW_LOOPBACK=true also lets
`http` and `https` reach loopback addresses, so a developer can receive deliveries on their own
machine. The template never sets it.
"""

import ipaddress
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

MAX_URL_LENGTH = 2000

_GLOBAL_UNICAST_V6 = ipaddress.IPv6Network("2000::/3")
# IANA's special-purpose registries (and multicast): never a webhook receiver.
_BLOCKED_V4 = [
    ipaddress.IPv4Network(network)
    for network in (
        "0.0.0.0/8",  # "this network"
        "10.0.0.0/8",  # private
        "100.64.0.0/10",  # shared address space (carrier-grade NAT)
        "127.0.0.0/8",  # loopback
        "169.254.0.0/16",  # link-local (the instance metadata service)
        "172.16.0.0/12",  # private
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # documentation
        "192.88.99.0/24",  # 6to4 relay anycast (deprecated)
        "192.168.0.0/16",  # private
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # documentation
        "203.0.113.0/24",  # documentation
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, and the limited broadcast address
    )
]
_BLOCKED_V6 = [
    ipaddress.IPv6Network(network)
    for network in (
        "::/128",  # unspecified
        "::1/128",  # loopback
        "::ffff:0:0/96",  # IPv4-mapped
        "::/96",  # IPv4-compatible (deprecated)
        "64:ff9b::/96",  # NAT64
        "64:ff9b:1::/48",  # local-use NAT64
        "100::/64",  # discard-only
        "2001::/23",  # IETF protocol assignments (Teredo, benchmarking, ORCHID...)
        "2001:db8::/32",  # documentation
        "2002::/16",  # 6to4
        "3fff::/20",  # documentation
        "5f00::/16",  # segment routing
        "fc00::/7",  # unique local (private)
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated)
        "ff00::/8",  # multicast
    )
]


def is_public_address(address: Address) -> bool:
    """Whether a webhook may be delivered to this address when deployed."""
    if isinstance(address, ipaddress.IPv4Address):
        return not any(address in network for network in _BLOCKED_V4)
    # Only 2000::/3 is allocated for global unicast; the rest of IPv6 is reserved or special.
    return address in _GLOBAL_UNICAST_V6 and not any(address in network for network in _BLOCKED_V6)


@dataclass(frozen=True)
class UrlPolicy:
    """What a webhook URL may be and where it may connect."""

    allow_loopback: bool = False  # make run and tests only

    @classmethod
    def from_environment(cls) -> "UrlPolicy":
        return cls(allow_loopback=os.environ.get("WEBHOOKS_ALLOW_LOOPBACK", "").lower() == "true")

    def allows_address(self, address: Address) -> bool:
        if self.allow_loopback and address.is_loopback:
            return True
        return is_public_address(address)

    def url_problem(self, url: str) -> str | None:
        """Why the URL may not be a webhook's (its form alone), or None."""
        if len(url) > MAX_URL_LENGTH:
            return f"At most {MAX_URL_LENGTH} characters."
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            return "Not a valid URL."
        if parts.scheme not in ("https", "http") or not parts.hostname:
            return "Must be an https:// URL."
        if parts.username is not None or parts.password is not None:
            return "Must not hold credentials (user:password@)."
        if parts.fragment:
            return "Must not have a #fragment."
        if port == 0:
            return "Not a valid port."
        if parts.scheme == "http" and not self._is_loopback_name(parts.hostname):
            return "Must be an https:// URL." + (" (http only to 127.0.0.1 here)" if self.allow_loopback else "")
        return None

    def _is_loopback_name(self, host: str) -> bool:
        if not self.allow_loopback:
            return False
        if host == "localhost":
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False


class BlockedDestination(Exception):
    """The URL's host resolves to an address a webhook may not reach (or to none)."""


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to, as the system resolver answers."""
    return list(dict.fromkeys(str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)))


def checked_addresses(host: str, port: int, policy: UrlPolicy, resolver: Resolver = resolve) -> list[Address]:
    """The addresses to connect to for `host`: all it resolves to, each allowed by `policy`.
    Raises BlockedDestination if it resolves to none, or to any address the policy refuses
    (one refused address is enough: a resolver may rotate which one comes first)."""
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
        found = [str(literal)]
    except ValueError:
        try:
            found = resolver(host, port)
        except (OSError, UnicodeError) as error:
            raise BlockedDestination(f"{host} does not resolve") from error
    if not found:
        raise BlockedDestination(f"{host} does not resolve")
    addresses = [ipaddress.ip_address(address.split("%")[0]) for address in found]  # no IPv6 zone ids
    refused = [address for address in addresses if not policy.allows_address(address)]
    if refused:
        raise BlockedDestination(f"{host} resolves to a non-public address ({refused[0]})")
    return addresses
