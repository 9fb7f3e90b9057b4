"""The SSRF guard on webhook URLs (shop_common.webhook_urls), against every class of address a
webhook must never reach, with Python's own `ipaddress` classification as the oracle."""

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shop_common.webhook_urls import BlockedDestination, UrlPolicy, checked_addresses, is_public_address

DEPLOYED, LOCAL = UrlPolicy(), UrlPolicy(allow_loopback=True)

# Each class of address a deployed sender must refuse, by what it is.
FORBIDDEN_CLASSES = {
    "private": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"],
    "loopback": ["127.0.0.0/8", "::1/128"],
    "link-local (instance metadata)": ["169.254.0.0/16", "fe80::/10"],
    "shared (carrier-grade NAT)": ["100.64.0.0/10"],
    "this network, unspecified": ["0.0.0.0/8", "::/128"],
    "multicast": ["224.0.0.0/4", "ff00::/8"],
    "reserved, broadcast": ["240.0.0.0/4"],
    "documentation, benchmarking": ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "198.18.0.0/15", "2001:db8::/32"],
    "IPv4 inside IPv6": ["::ffff:0:0/96", "64:ff9b::/96", "2002::/16", "2001::/32"],
}


def addresses_in(network: str) -> st.SearchStrategy[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    net = ipaddress.ip_network(network)
    return st.integers(int(net.network_address), int(net.broadcast_address)).map(ipaddress.ip_address)


def oracle_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """What Python's ipaddress says a public unicast address is, and no embedded IPv4 forms."""
    if address.version == 6 and (
        address.ipv4_mapped or address.sixtofour or address.teredo or address in ipaddress.ip_network("64:ff9b::/96")
    ):
        return False
    return address.is_global and not address.is_multicast and not address.is_reserved


@pytest.mark.parametrize(("kind", "networks"), FORBIDDEN_CLASSES.items())
@given(data=st.data())
def test_every_forbidden_class_is_refused(kind: str, networks: list[str], data: st.DataObject) -> None:
    address = data.draw(st.sampled_from(networks).flatmap(addresses_in))
    assert not is_public_address(address), (kind, address)
    assert not DEPLOYED.allows_address(address)


@given(st.integers(0, 2**32 - 1).map(ipaddress.IPv4Address))
def test_any_ipv4_address_is_allowed_exactly_when_the_oracle_calls_it_public(address: ipaddress.IPv4Address) -> None:
    assert is_public_address(address) == oracle_public(address), address


@given(
    st.one_of(
        st.integers(0, 2**128 - 1),
        st.integers(0x2000 << 112, (0x3FFF << 112) | (2**112 - 1)),  # global unicast, where public ones are
    ).map(ipaddress.IPv6Address)
)
def test_ipv6_addresses_the_guard_allows_are_public_to_the_oracle(address: ipaddress.IPv6Address) -> None:
    if is_public_address(address):
        assert oracle_public(address), address


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111", "1.1.1.1"])
def test_ordinary_public_addresses_are_allowed(address: str) -> None:
    assert DEPLOYED.allows_address(ipaddress.ip_address(address))


def test_loopback_is_allowed_only_locally_and_nothing_else_private() -> None:
    for address in ("127.0.0.1", "::1"):
        assert LOCAL.allows_address(ipaddress.ip_address(address))
        assert not DEPLOYED.allows_address(ipaddress.ip_address(address))
    for address in ("10.0.0.1", "169.254.169.254", "fd00:ec2::254"):
        assert not LOCAL.allows_address(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    ("url", "deployed", "local"),
    [
        ("https://hooks.example.com/in", True, True),
        ("https://hooks.example.com:8443/in?x=1", True, True),
        ("http://hooks.example.com/in", False, False),
        ("http://127.0.0.1:3801/hooks", False, True),
        ("http://localhost:3801/hooks", False, True),
        ("http://10.0.0.1/hooks", False, False),
        ("https://user:secret@hooks.example.com/", False, False),
        ("ftp://hooks.example.com/", False, False),
        ("https:///nohost", False, False),
        ("https://hooks.example.com/#frag", False, False),
    ],
)
def test_the_form_of_a_url(url: str, deployed: bool, local: bool) -> None:
    assert (DEPLOYED.url_problem(url) is None) == deployed
    assert (LOCAL.url_problem(url) is None) == local


def test_a_name_is_refused_if_any_address_it_resolves_to_is_not_public() -> None:
    def resolver(host: str, port: int) -> list[str]:
        return {"mixed.example": ["93.184.215.14", "169.254.169.254"], "fine.example": ["93.184.215.14", "2606:4700::1"]}[host]

    assert [str(a) for a in checked_addresses("fine.example", 443, DEPLOYED, resolver)] == ["93.184.215.14", "2606:4700::1"]
    with pytest.raises(BlockedDestination, match=r"169\.254\.169\.254"):
        checked_addresses("mixed.example", 443, DEPLOYED, resolver)


def test_a_name_that_does_not_resolve_is_refused() -> None:
    def resolver(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    with pytest.raises(BlockedDestination, match="does not resolve"):
        checked_addresses("gone.example", 443, DEPLOYED, resolver)


def test_a_literal_address_is_checked_without_resolving() -> None:
    def resolver(host: str, port: int) -> list[str]:
        raise AssertionError("a literal address is never looked up")

    with pytest.raises(BlockedDestination):
        checked_addresses("[::ffff:127.0.0.1]", 443, DEPLOYED, resolver)
    assert checked_addresses("8.8.8.8", 443, DEPLOYED, resolver) == [ipaddress.ip_address("8.8.8.8")]
