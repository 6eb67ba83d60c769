"""Person or machine: the verdict stored with every click (issue 26). Pure: requests in, verdicts out.

Security scanners (Microsoft Defender Safe Links, Mimecast, Proofpoint,
Barracuda) fetch every link of a message seconds after it is delivered, and
mail clients prefetch; counting them as readers would tell an editor that
every story was read. No single rule catches them all, so each click gets
the first rule that fires, in this order:

  head      a HEAD request (people's browsers GET)
  prefetch  a request that says it is a prefetch (Purpose / Sec-Purpose / X-Moz / X-Purpose)
  agent     a user agent of a known scanner, preview bot or HTTP library, or none at all
  canary    from a network that also followed the issue's hidden link within CANARY_SECONDS
  burst     a network following BURST_LINKS or more different links of one issue within BURST_SECONDS,
            or making BURST_REQUESTS requests to it within BURST_SECONDS
  early     within EARLY_SECONDS of the issue's first delivery
  person    none of the above: "people (estimated)"

A network is the client's /24 (IPv4) or /48 (IPv6), kept in memory only
until its clicks are classified; no address is stored. With
analytics.per_reader a click also names the reader whose copy it came
from, and the canary and burst rules look at that reader's clicks too,
from any network: a scanner that spreads one message's links over many
addresses (Safe Links does) still follows them all within a second, and
its canary click marks the reader's others in the same burst.
"""

from __future__ import annotations

import ipaddress
import re
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

PERSON = "person"
MACHINE_RULES = ("head", "prefetch", "agent", "canary", "burst", "early")
BURST_SECONDS = 1.0
BURST_LINKS = 3
BURST_REQUESTS = 10  # any links, the same one again included
CANARY_SECONDS = 2.0
EARLY_SECONDS = 30.0
WINDOW = max(BURST_SECONDS, CANARY_SECONDS)  # how long a click waits for the ones that may come after it

_AGENTS = re.compile("|".join((
    r"bot\b", r"crawl", r"spider", r"slurp", r"scan", r"preview", r"fetch", r"monitor", r"headless",
    r"barracuda", r"mimecast", r"proofpoint", r"safelinks", r"safe ?links", r"trendmicro", r"trend micro",
    r"symantec", r"forcepoint", r"fireeye", r"zscaler", r"sophos", r"ironport", r"cisco", r"checkpoint",
    r"microsoft office", r"ms-office", r"msoffice", r"outlook-ios", r"google-safety", r"googleimageproxy",
    r"yahoomailproxy", r"facebookexternalhit", r"whatsapp", r"telegram", r"discord", r"skypeuripreview",
    r"phantomjs", r"python", r"curl/", r"wget", r"go-http-client", r"java/", r"okhttp", r"libwww", r"httpx",
    r"aiohttp", r"node-fetch", r"axios", r"apache-httpclient", r"postman",
)), re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Hit:
    """One request to /r/, as much of it as the rules need."""

    issue_id: int
    number: int
    kind: str  # link, canary, open
    at: float  # seconds since the epoch
    network: str  # the client's /24 or /48: memory only
    head: bool = False
    prefetch: bool = False
    agent: str = ""
    reader: int | None = None  # analytics.per_reader: whose copy of the message the link came from


def network_of(address: str) -> str:
    head, dot, last = address.rpartition(".")
    if dot and last.isdigit() and head.count(".") == 2 and head.replace(".", "").isdigit():
        return f"{head}.0/24"  # IPv4, the common case, without ipaddress's cost on the request path
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    return str(ipaddress.ip_network(f"{ip}/{24 if ip.version == 4 else 48}", strict=False))


PURPOSE_HEADERS = (b"purpose", b"sec-purpose", b"x-purpose", b"x-moz")


def read_headers(raw: Iterable[tuple[bytes, bytes]]) -> tuple[bool, str]:
    """(a prefetch?, the user agent) from the ASGI scope's raw headers in one pass."""
    prefetch, agent = False, ""
    for name, value in raw:
        name = name.lower()
        if name == b"user-agent":
            agent = value[:300].decode("latin-1")
        elif name in PURPOSE_HEADERS:
            value = value.lower()
            prefetch = prefetch or b"prefetch" in value or b"preview" in value
    return prefetch, agent


def request_rule(hit: Hit) -> str | None:
    """The rules that need only the request itself."""
    if hit.head:
        return "head"
    if hit.prefetch:
        return "prefetch"
    machine = _AGENT_SEEN.get(hit.agent)
    if machine is None:  # the regex costs tens of microseconds; a flood repeats a handful of agents
        machine = not hit.agent.strip() or _AGENTS.search(hit.agent) is not None
        if len(_AGENT_SEEN) >= 4096:
            _AGENT_SEEN.clear()
        _AGENT_SEEN[hit.agent] = machine
    return "agent" if machine else None


_AGENT_SEEN: dict[str, bool] = {}  # user agent -> a machine's? (bounded: cleared when full)


def classify(hits: Sequence[Hit], context: Sequence[Hit], first_sent: Mapping[int, float]) -> list[str]:
    """A verdict for each of `hits`; `context` holds the requests around them (before and after, the hits
    included or not) for the rules about several requests; `first_sent` maps an issue to its first delivery."""
    groups: dict[tuple[int, str | int], _Group] = {}
    for hit in (*context, *hits):
        for key in ((hit.issue_id, hit.network), (hit.issue_id, hit.reader)):  # a reader is an int: never a network
            if key[1] is not None:
                group = groups.get(key)
                if group is None:  # not setdefault: a new _Group for every hit was half the recorder's time
                    group = groups[key] = _Group()
                group.raw.append(hit)
    return [_verdict(hit, [groups[(hit.issue_id, key)] for key in (hit.network, hit.reader) if key is not None],
                     first_sent.get(hit.issue_id)) for hit in hits]


class _Group:
    """One network's requests to one issue, as sorted times (all, the canary's, each link's): every rule is a
    few binary searches, so 10,000 requests from one address cost milliseconds, not a quadratic scan."""

    def __init__(self) -> None:
        self.raw: list[Hit] = []
        self.times: list[float] = []
        self.canary: list[float] = []
        self.links: dict[int, list[float]] = defaultdict(list)

    def ready(self) -> _Group:
        if self.raw:
            for hit in self.raw:
                self.times.append(hit.at)
                (self.canary if hit.kind == "canary" else self.links[hit.number]).append(hit.at)
            for times in (self.times, self.canary, *self.links.values()):
                times.sort()
            self.raw = []
        return self

    @staticmethod
    def within(times: list[float], at: float, seconds: float) -> int:
        return bisect_right(times, at + seconds) - bisect_left(times, at - seconds)


def _verdict(hit: Hit, groups: list[_Group], first_sent: float | None) -> str:
    """groups: the hit's network's, and its reader's when per reader."""
    rule = request_rule(hit)
    if rule:
        return rule
    groups = [group.ready() for group in groups]
    if hit.kind == "canary" or any(g.within(g.canary, hit.at, CANARY_SECONDS) for g in groups):
        return "canary"
    for group in groups:
        if group.within(group.times, hit.at, BURST_SECONDS) >= BURST_REQUESTS:
            return "burst"
        links = 0
        for times in group.links.values():
            links += group.within(times, hit.at, BURST_SECONDS) > 0
            if links >= BURST_LINKS:
                return "burst"
    if first_sent is not None and 0 <= hit.at - first_sent < EARLY_SECONDS:
        return "early"
    return PERSON


__all__ = ["BURST_LINKS", "BURST_REQUESTS", "BURST_SECONDS", "CANARY_SECONDS", "EARLY_SECONDS", "Hit", "MACHINE_RULES", "PERSON",
           "WINDOW", "classify", "network_of", "read_headers", "request_rule"]
