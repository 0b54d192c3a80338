"""Line charts drawn on the server as inline SVG (SPEC §7): no chart library, no script needed
to read them. This module does the geometry; stats/_line_chart.html draws it.

A chart keeps one x position per day, a "nice" y axis (0 to a round maximum in steps of 1, 2,
2.5 or 5 times a power of ten) and labels only every n-th day, so that 90 days stay readable.
Each day also gets a transparent band over the whole plot height whose <title> lists that day's
values: the browser shows it on hover, app.js turns it into a richer tooltip (and, when a series
is hidden, fits the y axis to the others with the same rule as nice_step).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

# The drawing's coordinate system (the SVG scales to its box; text scales with it).
WIDTH = 960
HEIGHT = 280
LEFT, RIGHT, TOP, BOTTOM = 56, 20, 14, 34
Y_TICKS = 5  # about this many intervals on the y axis
MAX_X_LABELS = 14
LABEL_STEPS = (1, 2, 7, 14, 28, 56, 91)
DOTS_UP_TO = 31  # days; beyond, the points would crowd the lines: lines only


@dataclass(frozen=True)
class Series:
    key: str  # also its CSS class: series-<key>
    label: str
    values: Sequence[float]
    unit: str = ""  # appended to values in tooltips ("%")


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class XLabel:
    x: float
    label: str


@dataclass(frozen=True)
class Point:
    x: float
    y: float


@dataclass(frozen=True)
class Line:
    key: str
    label: str
    points: list[Point]
    dots: bool
    values: Sequence[float]  # app.js rescales the y axis from them when a series is hidden

    @property
    def values_attr(self) -> str:
        return " ".join(f"{v:g}" for v in self.values)

    @property
    def path(self) -> str:
        """The SVG `points` attribute of the polyline."""
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


@dataclass(frozen=True)
class Value:
    key: str
    label: str
    text: str


@dataclass(frozen=True)
class Band:
    """One day's hover area and what it shows."""

    x: float  # centre
    left: float
    width: float
    label: str
    values: list[Value]

    @property
    def title(self) -> str:
        return f"{self.label}: " + ", ".join(f"{v.label} {v.text}" for v in self.values)


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    description: str
    integers: bool
    unit: str
    lines: list[Line]
    y_ticks: list[Tick]
    x_labels: list[XLabel]
    bands: list[Band]
    empty: bool  # every value is 0
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM

    @property
    def plot_height(self) -> int:
        return self.bottom - self.top


def nice_step(maximum: float, intervals: int = Y_TICKS) -> float:
    """A round step (1, 2, 2.5 or 5 times a power of ten) giving about `intervals` intervals up
    to `maximum`."""
    if maximum <= 0:
        return 1
    raw = maximum / intervals
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude  # pragma: no cover (the loop ends at 10)


def axis_top(maximum: float, *, integers: bool) -> tuple[float, float]:
    """(top of the axis, step): the smallest multiple of a nice step reaching `maximum`."""
    step = nice_step(maximum)
    if integers:
        step = max(1, math.ceil(step))
    top = step * max(1, math.ceil(maximum / step - 1e-9))
    return top, step


def short_number(value: float) -> str:
    """Axis labels: 950, 1.2k, 12k, 3.5M."""
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            scaled = value / limit
            text = f"{scaled:.1f}".rstrip("0").rstrip(".") if scaled < 10 else f"{scaled:.0f}"
            return text + suffix
    if value == int(value):
        return f"{int(value)}"
    return f"{value:g}"


def label_step(days: int) -> int:
    for step in LABEL_STEPS:
        if days / step <= MAX_X_LABELS:
            return step
    return math.ceil(days / MAX_X_LABELS)


def line_chart(
    id: str,
    title: str,
    days: Sequence[date],
    series: Sequence[Series],
    *,
    integers: bool = True,
    unit: str = "",
    value_text: Callable[[float], str] | None = None,
) -> Chart:
    """The geometry of a daily line chart of `series` (one value per day each)."""
    count = len(days)
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    bottom = HEIGHT - BOTTOM
    maximum = max((v for s in series for v in s.values), default=0)
    top_value, step = axis_top(maximum, integers=integers)
    slot = plot_w / count if count else plot_w

    def x_of(i: int) -> float:
        return round(LEFT + slot * (i + 0.5), 1)

    def y_of(value: float) -> float:
        return round(bottom - plot_h * value / top_value, 1)

    text = value_text or (lambda v: f"{v:,.0f}" if integers else f"{v:,.2f}")
    ticks = []
    n = 0
    while n * step <= top_value + 1e-9:
        value = n * step
        ticks.append(Tick(y_of(value), short_number(value) + unit))
        n += 1
    every = label_step(count)
    labels = [
        XLabel(x_of(i), f"{day:%b} {day.day}")
        for i, day in enumerate(days)
        if (count - 1 - i) % every == 0  # the last day always has its label
    ]
    lines = [
        Line(
            s.key,
            s.label,
            [Point(x_of(i), y_of(v)) for i, v in enumerate(s.values)],
            count <= DOTS_UP_TO,
            s.values,
        )
        for s in series
    ]
    bands = [
        Band(
            x_of(i),
            round(LEFT + slot * i, 2),
            round(slot, 2),
            f"{day:%a} {day.day} {day:%b %Y}",
            [Value(s.key, s.label, text(s.values[i]) + s.unit) for s in series],
        )
        for i, day in enumerate(days)
    ]
    description = f"{', '.join(s.label for s in series)} per day, {_span(days)}."
    return Chart(id, title, description, integers, unit, lines, ticks, labels, bands, maximum == 0)


def _span(days: Sequence[date]) -> str:
    if not days:
        return "no days"
    return f"{days[0]:%d %b %Y} to {days[-1]:%d %b %Y}"
