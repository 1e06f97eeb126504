"""Server-rendered line charts: the geometry of an SVG per metric, so pages need no chart library."""

from dataclasses import dataclass
from datetime import date

WIDTH, HEIGHT = 360, 150
LEFT, RIGHT, TOP, BOTTOM = 40, 10, 10, 22


@dataclass(frozen=True)
class ChartPoint:
    x: float
    y: float
    date: date
    value: int


@dataclass(frozen=True)
class LineChart:
    metric: str
    label: str
    total: int
    points: list[ChartPoint]
    line: str
    area: str
    y_ticks: list[tuple[float, int]]
    x_ticks: list[tuple[float, str]]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right_edge: int = WIDTH - RIGHT
    baseline: int = HEIGHT - BOTTOM


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 4, 10, 20, 40… that is at least ``value``: the axis reads 0/2/4, 0/5/10, 0/10/20."""
    step = 1
    while True:
        for multiple in (1, 2, 4):
            if step * multiple >= value:
                return step * multiple
        step *= 10


def line_chart(*, metric: str, label: str, daily: list[dict]) -> LineChart:
    values = [day[metric] for day in daily]
    top = nice_ceiling(max(values, default=0) or 1)
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_width / max(len(daily) - 1, 1)
    points = [
        ChartPoint(
            x=round(LEFT + i * step, 1),
            y=round(TOP + plot_height * (1 - day[metric] / top), 1),
            date=day["date"],
            value=day[metric],
        )
        for i, day in enumerate(daily)
    ]
    line = " ".join(f"{p.x},{p.y}" for p in points)
    baseline = HEIGHT - BOTTOM
    area = f"{points[0].x},{baseline} {line} {points[-1].x},{baseline}" if points else ""
    y_ticks = [(round(TOP + plot_height * (1 - share), 1), round(top * share)) for share in (0, 0.5, 1)]
    if top == 1:
        y_ticks = [y_ticks[0], y_ticks[2]]
    labelled = (points[0], points[len(points) // 2], points[-1]) if points else ()
    x_ticks = [(point.x, point.date.strftime("%b %-d")) for point in labelled]
    return LineChart(
        metric=metric,
        label=label,
        total=sum(values),
        points=points,
        line=line,
        area=area,
        y_ticks=y_ticks,
        x_ticks=x_ticks,
    )
