"""The trend chart of a client's scores, as plain numbers for an SVG template.

Server-rendered SVG with no script and no external resource (the pages' CSP
allows neither): the severity bands of the instrument behind, the scores over
time in front, a title, a one-line summary and — in the panel — the same
numbers as a table. Written by hand rather than with a charting library
because the bands behind the line are the point of the chart and pygal has no
such layer; the geometry is a few lines.
"""

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from measures.instruments import Instrument
from measures.models import Assessment
from measures.selectors import change_percent

# Drawn in a 400 × 220 box and scaled to the card (at most 520 px wide): on a
# 390 px phone the text stays at about 11 px, on a laptop about 17 px.
WIDTH, HEIGHT = 400, 220
LEFT, RIGHT, TOP, BOTTOM = 28, 8, 8, 26
# Points keep this far from the plot's left and right edges.
INSET = 12


@dataclass(frozen=True)
class ChartBand:
    severity: str
    label: str
    y: float
    height: float
    label_y: float


@dataclass(frozen=True)
class ChartPoint:
    x: float
    y: float
    score: int
    severity: str
    at: datetime
    safety: bool
    author: str
    organization: str
    answer_to_safety_item: str

    @property
    def diamond(self) -> str:
        """The safety marker: a diamond, told apart by shape, not colour alone."""
        x, y, r = self.x, self.y, 7
        return (
            f"M{x:.1f} {y - r:.1f} L{x + r:.1f} {y:.1f} L{x:.1f} {y + r:.1f} L{x - r:.1f} {y:.1f} Z"
        )


@dataclass(frozen=True)
class TrendChart:
    instrument: Instrument
    bands: list[ChartBand]
    points: list[ChartPoint]
    y_ticks: list[tuple[float, int]]
    x_ticks: list[tuple[float, str, str]]
    summary: str
    width: int = WIDTH
    height: int = HEIGHT
    plot_left: int = LEFT
    plot_right: int = WIDTH - RIGHT
    plot_top: int = TOP
    plot_bottom: int = HEIGHT - BOTTOM

    @property
    def plot_width(self) -> int:
        return self.plot_right - self.plot_left

    @property
    def line(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)

    @property
    def has_safety_item(self) -> bool:
        return self.instrument.safety_item is not None


def _y(score: float, instrument: Instrument) -> float:
    plot = HEIGHT - BOTTOM - TOP
    return TOP + plot * (1 - score / instrument.max_score)


def _day(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d")


def trend_chart(instrument: Instrument, assessments: list[Assessment]) -> TrendChart:
    """The chart of these assessments (the ones the viewer may see), oldest first."""
    ordered = sorted(assessments, key=lambda a: (a.administered_at, a.entry.created_at))
    first, last = ordered[0].administered_at, ordered[-1].administered_at
    span = (last - first).total_seconds()
    left, right = LEFT + INSET, WIDTH - RIGHT - INSET

    def x(moment: datetime) -> float:
        if span <= 0:
            return (left + right) / 2
        return left + (right - left) * (moment - first).total_seconds() / span

    edges = [band.low for band in instrument.bands[1:]] + [instrument.max_score]
    bands = []
    for band, upper in zip(instrument.bands, edges, strict=True):
        top, bottom = _y(upper, instrument), _y(band.low, instrument)
        bands.append(
            ChartBand(
                band.severity, band.label, top, bottom - top, label_y=top + min(12, bottom - top)
            )
        )
    safety = instrument.safety_item
    points = [
        ChartPoint(
            x=x(a.administered_at),
            y=_y(a.score, instrument),
            score=a.score,
            severity=instrument.band_of(a.score).label,
            at=a.administered_at,
            safety=instrument.raises_safety_alert(a.answers),
            author=a.entry.author.display_name,
            organization=a.entry.organization.name,
            answer_to_safety_item=(
                instrument.answer_label(a.answers[safety - 1]) if safety is not None else ""
            ),
        )
        for a in ordered
    ]
    y_ticks = [(_y(value, instrument), value) for value in [0, *edges]]
    x_ticks = [(points[0].x, _day(first), "start")]
    if span > 0:
        x_ticks.append((points[-1].x, _day(last), "end"))
    return TrendChart(
        instrument=instrument,
        bands=bands,
        points=points,
        y_ticks=y_ticks,
        x_ticks=x_ticks,
        summary=summary_of(instrument, points),
    )


def summary_of(instrument: Instrument, points: list[ChartPoint]) -> str:
    """The chart in one line of text (its description for screen readers too)."""
    first, last = points[0], points[-1]
    if len(points) == 1:
        return (
            f"{instrument.name}: one score, {first.score} ({first.severity.lower()}) "
            f"on {_day(first.at)}."
        )
    change = change_percent(first.score, last.score)
    if change is None or change == 0:
        trend = "no change from the first" if last.score == first.score else "up from 0"
    else:
        trend = f"{abs(change)}% {'lower' if change < 0 else 'higher'} than the first"
    return (
        f"{instrument.name}: {len(points)} scores from {_day(first.at)} to {_day(last.at)}; "
        f"first {first.score} ({first.severity.lower()}), latest {last.score} "
        f"({last.severity.lower()}), {trend}."
    )
