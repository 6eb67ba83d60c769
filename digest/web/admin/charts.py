"""A small chart drawn on the server as SVG numbers: readers over 30 days, and sent / failed per issue.

No script and no library: the template draws a polyline and bars from the
coordinates computed here. Only numbers and dates reach the SVG.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

WIDTH, HEIGHT, PAD = 560, 150, 28


@dataclass(frozen=True)
class Bar:
    x: float
    width: float
    sent_y: float
    sent_h: float
    failed_y: float
    failed_h: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    line: str  # "x,y x,y ..." for the audience polyline
    audience_max: int
    audience_last: int
    first_day: str
    last_day: str
    bars: tuple[Bar, ...]
    sent_max: int
    description: str


def _scale(value: float, top: float) -> float:
    return HEIGHT - PAD - (value / top if top else 0) * (HEIGHT - 2 * PAD)


def build(series: list[tuple[date, int]], per_issue: list[tuple[str, int, int]]) -> Chart:
    """`series`: (day, confirmed readers); `per_issue`: (label, sent, failed), oldest first."""
    top = max([count for _day, count in series] + [1])
    step = (WIDTH - 2 * PAD) / max(len(series) - 1, 1)
    line = " ".join(f"{PAD + i * step:.1f},{_scale(count, top):.1f}" for i, (_day, count) in enumerate(series))
    sent_top = max([sent + failed for _label, sent, failed in per_issue] + [1])
    slot = (WIDTH - 2 * PAD) / max(len(per_issue), 1)
    bars = []
    for i, (label, sent, failed) in enumerate(per_issue):
        sent_y, failed_y = _scale(sent, sent_top), _scale(sent + failed, sent_top)
        bars.append(Bar(PAD + i * slot + slot * 0.15, slot * 0.7, sent_y, HEIGHT - PAD - sent_y, failed_y,
                        sent_y - failed_y, label))
    last = series[-1][1] if series else 0
    first = series[0][1] if series else 0
    description = (f"Confirmed readers went from {first} to {last} over {len(series)} days; the last "
                   f"{len(per_issue)} issues were sent to {sum(s for _l, s, _f in per_issue)} readers in all, "
                   f"with {sum(f for _l, _s, f in per_issue)} failures.")
    return Chart(WIDTH, HEIGHT, line, top, last, series[0][0].isoformat() if series else "",
                 series[-1][0].isoformat() if series else "", tuple(bars), sent_top, description)
