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
