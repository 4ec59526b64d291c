"""Small server-side SVG line charts: no JavaScript, no CDN, readable by screen readers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

WIDTH, HEIGHT = 560, 180
PAD_L, PAD_R, PAD_T, PAD_B = 56, 12, 12, 28
# Colour-blind safe (Okabe-Ito), each also drawn with its own dash pattern.
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7")
DASHES = ("", "6 3", "2 2", "8 2 2 2")


@dataclass(frozen=True)
class Series:
    """One line: a name for the legend and (x label, y value or None for a gap) points."""

    name: str
    points: Sequence[tuple[str, float | None]]


def line_chart(title: str, series: Sequence[Series], unit: str = "") -> Markup:
    """An SVG line chart with a title, y-axis ticks, x labels at both ends, and a legend."""
    values = [v for s in series for _, v in s.points if v is not None]
    labels = [x for x, _ in series[0].points] if series else []
    if not values or not labels:
        return Markup('<p class="empty">{}: no data in this period.</p>').format(title)
    top = max(values) or 1.0
    inner_w, inner_h = WIDTH - PAD_L - PAD_R, HEIGHT - PAD_T - PAD_B
    step = inner_w / max(len(labels) - 1, 1)

    def y(v: float) -> float:
        return PAD_T + inner_h * (1 - v / top)

    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             f'aria-label="{escape(title)}"><title>{escape(title)}</title>']
    for frac in (0.0, 0.5, 1.0):
        v = top * frac
        parts.append(f'<line x1="{PAD_L}" x2="{WIDTH - PAD_R}" y1="{y(v):.1f}" y2="{y(v):.1f}" '
                     'class="grid"/>')
        parts.append(f'<text x="{PAD_L - 6}" y="{y(v) + 4:.1f}" text-anchor="end">'
                     f'{escape(_fmt(v, unit))}</text>')
    parts.append(f'<text x="{PAD_L}" y="{HEIGHT - 8}">{escape(labels[0])}</text>')
    parts.append(f'<text x="{WIDTH - PAD_R}" y="{HEIGHT - 8}" text-anchor="end">'
                 f'{escape(labels[-1])}</text>')
    for i, s in enumerate(series):
        colour, dash = COLOURS[i % len(COLOURS)], DASHES[i % len(DASHES)]
        for run in _runs(s.points):
            pts = " ".join(f"{PAD_L + step * j:.1f},{y(v):.1f}" for j, v in run)
            if len(run) == 1:
                j, v = run[0]
                parts.append(f'<circle cx="{PAD_L + step * j:.1f}" cy="{y(v):.1f}" r="3" '
                             f'fill="{colour}"/>')
            else:
                parts.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" '
                             f'stroke-width="2" stroke-dasharray="{dash}"/>')
    parts.append("</svg>")
    legend = "".join(
        f'<li><span class="swatch" style="border-color:{COLOURS[i % len(COLOURS)]};'
        f'border-top-style:{"dashed" if DASHES[i % len(DASHES)] else "solid"}"></span>'
        f"{escape(s.name)}</li>" for i, s in enumerate(series))
    # Every interpolated text went through html.escape above; numbers are formatted floats.
    html = (f'<figure class="chart-box"><figcaption>{escape(title)}</figcaption>'
            f'{"".join(parts)}<ul class="legend">{legend}</ul></figure>')
    return Markup(html)  # noqa: S704  # nosec B704: every text in it went through escape()


def _runs(points: Sequence[tuple[str, float | None]]) -> list[list[tuple[int, float]]]:
    """Consecutive points with values: a gap (None) breaks the line."""
    out: list[list[tuple[int, float]]] = []
    current: list[tuple[int, float]] = []
    for j, (_, v) in enumerate(points):
        if v is None:
            if current:
                out.append(current)
            current = []
        else:
            current.append((j, v))
    if current:
        out.append(current)
    return out


def _fmt(v: float, unit: str) -> str:
    if unit == "%":
        return f"{v:.1f}%"
    if unit == "ms":
        return f"{v:.0f} ms"
    if unit == "s":
        return f"{v / 3600:.1f} h" if v >= 7200 else f"{v:.0f} s"
    return f"{v:.2g}"
