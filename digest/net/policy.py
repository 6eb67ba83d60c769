"""Which URLs and addresses the gatherer may fetch: the operator's sources as written, the rest only if public.

Feed text names URLs (item links, listing links, redirects, autodiscovered
feeds) that a stranger wrote. Fetching them from inside the newsroom's network
would let that stranger read internal pages through our digest (server-side
request forgery). So a URL is fetched only if its origin is one the operator
configured as a source, or it resolves to public addresses on an allowed port.
The address check happens where the connection is made (fetch.py), on the
address actually connected to, so DNS cannot answer differently between the
check and the connect.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from digest.errors import FeedError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

DEFAULT_PORTS = {"http": 80, "https": 443}
# Not reachable as "the public internet" even where Python's is_global says otherwise, or reserved for it.
_NOT_PUBLIC = [ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
    "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
    "::/127", "100::/64", "2001::/23", "2001:db8::/32", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
)]


class Refused(FeedError):
    """A URL or address the fetch policy does not allow; never retried, logged with its reason."""


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, NAT64, 6to4, Teredo), which is where it really goes."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in ipaddress.ip_network("64:ff9b::/96") or address in ipaddress.ip_network("::ffff:0:0:0/96"):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in ipaddress.ip_network("::/96") and int(address) > 1:  # deprecated IPv4-compatible form
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def why_not_public(address: IPAddress) -> str:
    """"" for a public unicast address; otherwise the reason it is not one."""
    inner = embedded_ipv4(address)
    if inner is not None:
        reason = why_not_public(inner)
        return f"carries {inner}, {reason}" if reason else ""
    for label, flag in (("loopback", address.is_loopback), ("link-local", address.is_link_local),
                        ("private", address.is_private), ("multicast", address.is_multicast),
                        ("unspecified", address.is_unspecified), ("reserved", address.is_reserved)):
        if flag:
            return label
    if any(address in network for network in _NOT_PUBLIC) or not address.is_global:
        return "not a public address"
    return ""


@dataclass(frozen=True)
class FetchPolicy:
    """trusted: the configured sources' URLs; allow_networks: CIDRs the operator opened; allow_ports: besides 80/443."""

    trusted: frozenset[tuple[str, str, int]] = frozenset()
    trusted_files: frozenset[str] = frozenset()
    allow_networks: tuple[IPNetwork, ...] = ()
    allow_ports: frozenset[int] = field(default_factory=lambda: frozenset({80, 443}))

    @classmethod
    def create(cls, sources: Iterable[str] = (), *, allow_networks: Iterable[str] = (),
               allow_ports: Iterable[int] = (80, 443)) -> FetchPolicy:
        sources = list(sources)
        return cls(trusted=frozenset(o for o in map(origin, sources) if o is not None),
                   trusted_files=frozenset(s for s in sources if s.startswith("file:")),
                   allow_networks=tuple(ipaddress.ip_network(n, strict=False) for n in allow_networks),
                   allow_ports=frozenset(allow_ports))

    def check_url(self, url: str) -> bool:
        """True when url's origin is a configured source's; raises Refused for a URL that may not be fetched."""
        if url.startswith("file:"):
            if url in self.trusted_files:
                return True
            raise Refused(f"{url}: refused, local files are read only when configured as a source")
        where = origin(url)
        if where is None:
            raise Refused(f"{url}: refused, only http(s) URLs with a host can be fetched")
        if where in self.trusted:
            return True
        if where[2] not in self.allow_ports:
            raise Refused(f"{url}: refused, port {where[2]} is not allowed (gather.allow_ports)")
        return False

    def check_address(self, host: str, address: IPAddress) -> None:
        """Raises Refused unless address is public or inside gather.allow_networks."""
        if any(address in network for network in self.allow_networks if network.version == address.version):
            return
        inner = embedded_ipv4(address)
        if inner is not None and any(inner in n for n in self.allow_networks if n.version == 4):
            return
        reason = why_not_public(address)
        if reason:
            raise Refused(f"{host}: refused, it resolves to {address} ({reason}; gather.allow_networks opens it)")


def origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an http(s) URL, lowercased, default ports filled in; None otherwise."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return scheme, parts.hostname.lower().rstrip("."), port or DEFAULT_PORTS[scheme]
