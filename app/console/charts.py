"""Inline SVG charts drawn on the server: no script and no chart library reach the browser."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from markupsafe import Markup, escape

from app.console.views import money

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 84, 16, 16, 36


@dataclass(frozen=True, slots=True)
class Point:
    at: datetime
    exposure: Decimal
    limit: Decimal | None


def _scale_max(values: Sequence[Decimal]) -> Decimal:
    """A round upper bound for the y axis: 1, 2 or 5 times a power of ten."""
    top = max([v for v in values if v > 0], default=Decimal(1))
    magnitude = Decimal(10) ** (len(str(int(top))) - 1)
    for step in (1, 2, 5, 10):
        if top <= magnitude * step:
            return magnitude * step
    return top


def _svg(title: str, description: str, body: list[str], chart_id: str) -> Markup:
    # Every text put into the markup is escaped here or where `body` was built; numbers are formatted floats.
    return Markup(  # noqa: S704
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" preserveAspectRatio="xMidYMid meet" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-title">{escape(title)}</title><desc id="{chart_id}-desc">{escape(description)}</desc>'
        + "".join(body)
        + "</svg>"
    )


def _y_axis(top: Decimal, y_of: Callable[[Decimal], float], currency: str) -> list[str]:
    parts = []
    for share in (0, 1, 2, 3, 4):
        value = top * share / 4
        y = y_of(value)
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(
            f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(money(value.quantize(Decimal(1))))}</text>"
        )
    parts.append(f'<text class="tick" x="4" y="{HEIGHT - 6}">{escape(currency)}</text>')
    return parts


def exposure_chart(points: Sequence[Point], currency: str) -> Markup:
    """Exposure (solid) and credit limit (dashed) over time, oldest on the left."""
    ordered = sorted(points, key=lambda point: point.at)
    description = (
        f"{len(ordered)} points from {ordered[0].at:%Y-%m-%d} to {ordered[-1].at:%Y-%m-%d}"
        if ordered
        else "No decisions in the period"
    )
    if not ordered:
        return _svg("Exposure over time", description, [_empty("No decisions in the last 90 days")], "exposure")
    top = _scale_max([p.exposure for p in ordered] + [p.limit for p in ordered if p.limit is not None])
    first, last = ordered[0].at.timestamp(), ordered[-1].at.timestamp()
    span = max(last - first, 1.0)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x_of(at: datetime) -> float:
        return LEFT + (at.timestamp() - first) / span * plot_w if len(ordered) > 1 else LEFT + plot_w / 2

    def y_of(value: Decimal) -> float:
        return TOP + plot_h - float(value / top) * plot_h

    body = _y_axis(top, y_of, currency)
    exposure_path = " ".join(f"{x_of(p.at):.1f},{y_of(p.exposure):.1f}" for p in ordered)
    limits = [p for p in ordered if p.limit is not None]
    if limits:
        limit_path = " ".join(f"{x_of(p.at):.1f},{y_of(p.limit):.1f}" for p in limits if p.limit is not None)
        body.append(f'<polyline class="limit" points="{limit_path}"/>')
    body.append(f'<polyline class="exposure" points="{exposure_path}"/>')
    body.extend(
        f'<circle class="dot" cx="{x_of(p.at):.1f}" cy="{y_of(p.exposure):.1f}" r="3">'
        f"<title>{p.at:%Y-%m-%d %H:%M}: {escape(money(p.exposure, currency))}</title></circle>"
        for p in ordered[-60:]
    )
    baseline = HEIGHT - BOTTOM + 18
    body.append(f'<text class="tick" x="{LEFT}" y="{baseline}">{ordered[0].at:%Y-%m-%d}</text>')
    body.append(
        f'<text class="tick" x="{WIDTH - RIGHT}" y="{baseline}" text-anchor="end">{ordered[-1].at:%Y-%m-%d}</text>'
    )
    return _svg("Exposure over time", description, body, "exposure")


def ageing_chart(buckets: Sequence[tuple[str, Decimal]], currency: str) -> Markup:
    """Open receivables per ageing bucket as vertical bars; overdue buckets drawn in the warning colour."""
    description = "; ".join(f"{name}: {money(amount, currency)}" for name, amount in buckets)
    if not any(amount > 0 for _name, amount in buckets):
        return _svg("Ageing of open receivables", "No open invoices", [_empty("No open invoices")], "ageing")
    top = _scale_max([amount for _name, amount in buckets])
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def y_of(value: Decimal) -> float:
        return TOP + plot_h - float(value / top) * plot_h

    body = _y_axis(top, y_of, currency)
    slot = plot_w / len(buckets)
    for index, (name, amount) in enumerate(buckets):
        x = LEFT + index * slot + slot * 0.2
        y = y_of(amount)
        kind = "bar" if name == "not due" else "bar overdue"
        body.append(
            f'<rect class="{kind}" x="{x:.1f}" y="{y:.1f}" width="{slot * 0.6:.1f}" height="{TOP + plot_h - y:.1f}">'
            f"<title>{escape(name)}: {escape(money(amount, currency))}</title></rect>"
        )
        label = "not due" if name == "not due" else f"{name} days"
        body.append(
            f'<text class="tick" x="{x + slot * 0.3:.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle">'
            f"{escape(label)}</text>"
        )
    return _svg("Ageing of open receivables", description, body, "ageing")


def _empty(message: str) -> str:
    return f'<text class="empty" x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">{escape(message)}</text>'


def _axis(top: Decimal, y_of: Callable[[Decimal], float], unit: str, fmt: Callable[[Decimal], str]) -> list[str]:
    parts = []
    for share in (0, 1, 2, 3, 4):
        value = top * share / 4
        y = y_of(value)
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(fmt(value))}</text>')
    parts.append(f'<text class="tick" x="4" y="{HEIGHT - 6}">{escape(unit)}</text>')
    return parts


def whole(value: Decimal) -> str:
    """A tick or count without decimals, thousands grouped."""
    return money(value.quantize(Decimal(1)))


def bar_chart(
    title: str,
    chart_id: str,
    bars: Sequence[tuple[str, Decimal]],
    unit: str,
    fmt: Callable[[Decimal], str] = whole,
    *,
    warn: Sequence[str] = (),
    counts: bool = False,
) -> Markup:
    """One vertical bar per (label, value), labels under the bars; bars named in `warn` in the warning colour."""
    description = "; ".join(f"{label}: {fmt(value)} {unit}" for label, value in bars)
    if not any(value > 0 for _label, value in bars):
        return _svg(title, "Nothing to show", [_empty("Nothing to show yet")], chart_id)
    top = _scale_max([value for _label, value in bars])
    if counts:  # whole ticks: the axis's four steps are whole numbers
        top = max(Decimal(4), -(-top // 4) * 4)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def y_of(value: Decimal) -> float:
        return TOP + plot_h - float(value / top) * plot_h

    body = _axis(top, y_of, unit, whole)
    slot = plot_w / len(bars)
    for index, (label, value) in enumerate(bars):
        x = LEFT + index * slot + slot * 0.2
        y = y_of(value)
        kind = "bar overdue" if label in warn else "bar"
        body.append(
            f'<rect class="{kind}" x="{x:.1f}" y="{y:.1f}" width="{slot * 0.6:.1f}" height="{TOP + plot_h - y:.1f}">'
            f"<title>{escape(label)}: {escape(fmt(value))} {escape(unit)}</title></rect>"
        )
        body.append(
            f'<text class="tick" x="{x + slot * 0.3:.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle">'
            f"{escape(label)}</text>"
        )
    return _svg(title, description, body, chart_id)


def ranking_chart(
    title: str, chart_id: str, rows: Sequence[tuple[str, Decimal]], unit: str, fmt: Callable[[Decimal], str] = whole
) -> Markup:
    """Horizontal bars, largest first, each labelled on its left: for long labels such as customer ids."""
    description = "; ".join(f"{label}: {fmt(value)} {unit}" for label, value in rows)
    if not rows:
        return _svg(title, "Nothing to show", [_empty("Nothing to show")], chart_id)
    label_w, bar_h = 180, (HEIGHT - TOP - BOTTOM) / max(len(rows), 5)
    top = _scale_max([value for _label, value in rows])
    plot_w = WIDTH - label_w - RIGHT - 70
    body = []
    for index, (label, value) in enumerate(rows):
        y = TOP + index * bar_h
        width = float(value / top) * plot_w if top > 0 else 0
        shown = label if len(label) <= 22 else label[:21] + "…"
        body.append(
            f'<text class="tick" x="{label_w - 8}" y="{y + bar_h * 0.65:.1f}" text-anchor="end">{escape(shown)}</text>'
        )
        body.append(
            f'<rect class="bar" x="{label_w}" y="{y + bar_h * 0.15:.1f}" width="{width:.1f}" '
            f'height="{bar_h * 0.7:.1f}">'
            f"<title>{escape(label)}: {escape(fmt(value))} {escape(unit)}</title></rect>"
        )
        body.append(
            f'<text class="tick" x="{label_w + width + 6:.1f}" y="{y + bar_h * 0.65:.1f}">{escape(fmt(value))}</text>'
        )
    body.append(f'<text class="tick" x="4" y="{HEIGHT - 6}">{escape(unit)}</text>')
    return _svg(title, description, body, chart_id)


def trend_chart(title: str, chart_id: str, points: Sequence[tuple[str, Decimal | None]], unit: str) -> Markup:
    """A line through the points that have a value, oldest on the left; every point's label under the axis."""
    known = [(index, label, value) for index, (label, value) in enumerate(points) if value is not None]
    description = "; ".join(f"{label}: {value if value is not None else 'none'} {unit}" for label, value in points)
    if not known:
        return _svg(title, description or "Nothing to show", [_empty("No sales to divide by yet")], chart_id)
    top = _scale_max([value for _index, _label, value in known])
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    inset = 28  # room for the first and last labels, centred under their points
    step = (plot_w - 2 * inset) / max(len(points) - 1, 1)

    def x_of(index: int) -> float:
        return LEFT + inset + index * step if len(points) > 1 else LEFT + plot_w / 2

    def y_of(value: Decimal) -> float:
        return TOP + plot_h - float(value / top) * plot_h

    body = _axis(top, y_of, unit, whole)
    path = " ".join(f"{x_of(index):.1f},{y_of(value):.1f}" for index, _label, value in known)
    body.append(f'<polyline class="exposure" points="{path}"/>')
    body.extend(
        f'<circle class="dot" cx="{x_of(index):.1f}" cy="{y_of(value):.1f}" r="4">'
        f"<title>{escape(label)}: {value} {escape(unit)}</title></circle>"
        for index, label, value in known
    )
    body.extend(
        f'<text class="tick" x="{x_of(index):.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle">'
        f"{escape(label)}</text>"
        for index, (label, _value) in enumerate(points)
    )
    return _svg(title, description, body, chart_id)
