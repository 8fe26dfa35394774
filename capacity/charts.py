"""The service page's charts, as plain server-rendered SVG.

Written by hand rather than with pygal: one chart needs bars (arrivals and
departures per week) under a line (the queue) on one scale, which pygal does
not combine, and a template of our own keeps every colour in the stylesheet
(no inline style, no script: the coming CSP allows neither). The numbers come
from `capacity.selectors.wait_history` and are the same the page's table shows.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from capacity.selectors import Week

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 40, 12, 14, 30


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    plot_left: float
    plot_right: float
    plot_top: float
    plot_bottom: float
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    bars: dict[str, list[Bar]]
    lines: dict[str, list[tuple[float, float]]]

    @property
    def polylines(self) -> dict[str, str]:
        return {
            name: " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            for name, points in self.lines.items()
        }


def _nice_ceiling(value: int) -> int:
    """A round top for the axis: 4 → 4, 13 → 15, 47 → 50, 230 → 250."""
    if value <= 4:
        return max(value, 1)
    for step in (5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000):
        if value <= step * 4:
            return -(-value // step) * step
    return value


def _frame(weeks: Sequence[Week], top_value: int) -> tuple:
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    band = plot_w / max(1, len(weeks))
    top = _nice_ceiling(top_value)

    def y_of(value: float) -> float:
        return TOP + plot_h - plot_h * value / top

    y_ticks = [Tick(y_of(v), str(v)) for v in sorted({0, top // 2, top})]
    every = max(1, len(weeks) // 6)
    x_ticks = [
        Tick(LEFT + band * (i + 0.5), week.week_start.strftime("%b %-d"))
        for i, week in enumerate(weeks)
        if i % every == 0
    ]
    return band, y_of, y_ticks, x_ticks


def flow_chart(weeks: Sequence[Week]) -> Chart:
    """Arrivals and departures per week as bars, the queue at each week's end as a line."""
    top_value = max([0, *(max(w.arrivals, w.left, w.waiting_at_end) for w in weeks)])
    band, y_of, y_ticks, x_ticks = _frame(weeks, top_value)
    bar_w = band * 0.36
    bars: dict[str, list[Bar]] = {"arrivals": [], "left": []}
    queue = []
    for i, week in enumerate(weeks):
        x0 = LEFT + band * i + band * 0.12
        for offset, name, value in ((0, "arrivals", week.arrivals), (bar_w, "left", week.left)):
            y = y_of(value)
            bars[name].append(Bar(x0 + offset, y, bar_w, y_of(0) - y, value))
        queue.append((LEFT + band * (i + 0.5), y_of(week.waiting_at_end)))
    return Chart(
        WIDTH,
        HEIGHT,
        LEFT,
        WIDTH - RIGHT,
        TOP,
        HEIGHT - BOTTOM,
        y_ticks,
        x_ticks,
        bars,
        {"queue": queue},
    )


def median_chart(weeks: Sequence[Week]) -> Chart:
    """The median wait of each week as a line; weeks without one leave a gap."""
    top_value = max([0, *(w.median_wait_days or 0 for w in weeks)])
    band, y_of, y_ticks, x_ticks = _frame(weeks, top_value)
    lines: dict[str, list[tuple[float, float]]] = {}
    segment = 0
    for i, week in enumerate(weeks):
        if week.median_wait_days is None:
            segment += 1
            continue
        point = (LEFT + band * (i + 0.5), y_of(week.median_wait_days))
        lines.setdefault(f"median-{segment}", []).append(point)
    return Chart(
        WIDTH, HEIGHT, LEFT, WIDTH - RIGHT, TOP, HEIGHT - BOTTOM, y_ticks, x_ticks, {}, lines
    )


def summary(weeks: Sequence[Week]) -> str:
    """The one line a chart says in words."""
    if not weeks:
        return "No weeks to show."
    first, last = weeks[0], weeks[-1]
    arrived = sum(w.arrivals for w in weeks)
    left = sum(w.left for w in weeks)
    medians = [w.median_wait_days for w in weeks if w.median_wait_days is not None]
    text = (
        f"Over {len(weeks)} weeks {arrived} referrals arrived and {left} left; the queue went "
        f"from {first.waiting_at_end} to {last.waiting_at_end}"
    )
    if medians:
        text += f"; the weekly median wait ranged from {min(medians)} to {max(medians)} days"
    return text + "."
