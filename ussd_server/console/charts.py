"""Small charts drawn on the server as inline SVG: no library, nothing fetched, no script.

Each chart scales to its container (a ``viewBox``, width 100%), names itself for
screen readers (``role="img"`` with a ``<title>`` and a ``<desc>`` that states the
numbers) and prints its values next to the marks, so it reads without colour.
"""

from __future__ import annotations

from collections.abc import Sequence

from web.kit import esc

WIDTH = 320
LABEL_W = 104  # the label column of bar charts
ROW_H = 16
COLOURS = ("#0b6e4f", "#e09f3e", "#2f6690", "#9e2a2b", "#6a4c93", "#5a6570", "#3a7d44")

Series = Sequence[tuple[str, str]]  # (name, colour)


def _svg(chart_id: str, title: str, desc: str, height: float, marks: str) -> str:
    return (
        f'<figure class="chart"><svg id="{esc(chart_id)}" viewBox="0 0 {WIDTH} {height:.0f}"'
        f' width="100%" role="img" aria-labelledby="{esc(chart_id)}-t {esc(chart_id)}-d"'
        ' style="max-width:100%;height:auto;font:10px system-ui,sans-serif">'
        f'<title id="{esc(chart_id)}-t">{esc(title)}</title>'
        f'<desc id="{esc(chart_id)}-d">{esc(desc)}</desc>{marks}</svg>'
        f"<figcaption>{esc(title)}</figcaption></figure>"
    )


def _short(label: str, chars: int) -> str:
    return label if len(label) <= chars else label[: chars - 1] + "\u2026"


def _legend(series: Series, y: float) -> tuple[str, float]:
    """The legend from ``y`` down, wrapping at the chart's width; (marks, height used)."""
    x, out = 0.0, []
    for name, colour in series:
        width = 18 + 5.5 * len(name)
        if x and x + width > WIDTH:
            x, y = 0.0, y + 13
        out.append(
            f'<rect x="{x:.0f}" y="{y:.0f}" width="9" height="9" fill="{esc(colour)}"/>'
            f'<text x="{x + 12:.0f}" y="{y + 8:.0f}">{esc(name)}</text>'
        )
        x += width
    return "".join(out), y + 14


def bar_groups(
    chart_id: str, title: str, rows: Sequence[tuple[str, Sequence[int]]], series: Series
) -> str:
    """Horizontal bars: one group per row, one bar per series, each with its value."""
    if not rows:
        return _svg(chart_id, title, "no data yet", 20, '<text x="0" y="14">No data yet.</text>')
    top = max((v for _, values in rows for v in values), default=0) or 1
    span, bar_h = WIDTH - LABEL_W - 30, 11
    out, y = [], 0.0
    for label, values in rows:
        group_h = bar_h * len(series)
        out.append(f'<text x="0" y="{y + group_h / 2 + 4:.1f}">{esc(_short(label, 20))}</text>')
        for index, value in enumerate(values):
            width, top_y = span * value / top, y + index * bar_h
            name, colour = series[index]
            out.append(
                f'<rect x="{LABEL_W}" y="{top_y:.1f}" width="{width:.1f}" height="{bar_h - 2}"'
                f' fill="{esc(colour)}"><title>{esc(label)}, {esc(name)}: {value}</title></rect>'
                f'<text x="{LABEL_W + width + 3:.1f}" y="{top_y + bar_h - 3:.1f}">{value}</text>'
            )
        y += group_h + 5
    legend, y = _legend(series, y) if len(series) > 1 else ("", y)
    desc = "; ".join(
        f"{label}: " + ", ".join(f"{s[0]} {v}" for s, v in zip(series, values, strict=True))
        for label, values in rows
    )
    return _svg(chart_id, title, desc, y, "".join(out) + legend)


def stacked_rows(
    chart_id: str, title: str, rows: Sequence[tuple[str, Sequence[int], int]], series: Series
) -> str:
    """One full-width bar per row (label above it): parts of a whole (``total``)."""
    if not rows:
        return _svg(chart_id, title, "none yet", 20, '<text x="0" y="14">None yet.</text>')
    out, y = [], 0.0
    for label, parts, total in rows:
        out.append(f'<text x="0" y="{y + 10:.0f}">{esc(_short(label, 40))} ({total})</text>')
        x, whole = 0.0, max(total, sum(parts), 1)
        for (name, colour), part in zip(series, parts, strict=True):
            width = WIDTH * part / whole
            if width > 0:
                out.append(
                    f'<rect x="{x:.1f}" y="{y + 13:.0f}" width="{width:.1f}" height="12"'
                    f' fill="{esc(colour)}"><title>{esc(name)}: {part}</title></rect>'
                )
            x += width
        out.append(
            f'<rect x="0" y="{y + 13:.0f}" width="{WIDTH}" height="12" fill="none" stroke="#888"/>'
        )
        y += 32
    desc = "; ".join(
        f"{label}: "
        + ", ".join(f"{s[0]} {p}" for s, p in zip(series, parts, strict=True))
        + f" of {total}"
        for label, parts, total in rows
    )
    legend, height = _legend(series, y)
    return _svg(chart_id, title, desc, height, "".join(out) + legend)


def columns(
    chart_id: str,
    title: str,
    labels: Sequence[str],
    stacks: Sequence[Sequence[int]],
    series: Series,
) -> str:
    """Stacked columns, one per label (a day), with each column's total above it.

    With more than a week of columns the axis shows the day of the month only
    ("19" for "19/11"); the full label is in each column's title and the description.
    """
    height, base = 120.0, 104.0
    crowded = len(labels) > 7
    top = max((sum(stack) for stack in stacks), default=0) or 1
    step = WIDTH / max(len(labels), 1)
    out = [f'<line x1="0" y1="{base}" x2="{WIDTH}" y2="{base}" stroke="#888"/>']
    for index, (label, stack) in enumerate(zip(labels, stacks, strict=True)):
        x, y = index * step + 2, base
        for (name, colour), value in zip(series, stack, strict=True):
            tall = (base - 14) * value / top
            if tall > 0:
                y -= tall
                out.append(
                    f'<rect x="{x:.1f}" y="{y:.1f}" width="{step - 4:.1f}" height="{tall:.1f}"'
                    f' fill="{esc(colour)}"><title>{esc(label)} {esc(name)}: {value}</title></rect>'
                )
        out.append(
            f'<text x="{x + (step - 4) / 2:.1f}" y="{y - 2:.1f}" text-anchor="middle">'
            f"{sum(stack)}</text>"
            f'<text x="{x + (step - 4) / 2:.1f}" y="{base + 10:.0f}" text-anchor="middle"'
            f' font-size="8">{esc(label.split("/")[0] if crowded else label)}</text>'
        )
    desc = "; ".join(f"{label}: {sum(stack)}" for label, stack in zip(labels, stacks, strict=True))
    legend, total_height = _legend(series, height)
    return _svg(chart_id, title, desc, total_height, "".join(out) + legend)


def heat_table(
    chart_id: str, title: str, rows: Sequence[tuple[str, Sequence[int]]], days: Sequence[str]
) -> str:
    """A grid of numbers (seats left), red when none is left, green when many are."""
    if not rows or not days:
        return _svg(chart_id, title, "no facilities", 20, '<text x="0" y="14">No data.</text>')
    cell = (WIDTH - LABEL_W) / len(days)
    top = max((v for _, values in rows for v in values), default=0) or 1
    out = [
        f'<text x="{LABEL_W + i * cell + cell / 2:.1f}" y="10" text-anchor="middle"'
        f' font-size="8">{esc(day)}</text>'
        for i, day in enumerate(days)
    ]
    for r, (label, values) in enumerate(rows):
        y = 14 + r * 18
        out.append(f'<text x="0" y="{y + 12}">{esc(_short(label, 20))}</text>')
        for i, value in enumerate(values):
            share = value / top
            colour = "#f4c7c3" if value == 0 else ("#fff3c4" if share < 0.25 else "#cde8d6")
            out.append(
                f'<rect x="{LABEL_W + i * cell:.1f}" y="{y}" width="{cell - 1:.1f}" height="16"'
                f' fill="{colour}"/><text x="{LABEL_W + i * cell + cell / 2:.1f}" y="{y + 12}"'
                f' text-anchor="middle">{value}</text>'
            )
    desc = "; ".join(f"{label}: " + ", ".join(map(str, values)) for label, values in rows)
    return _svg(chart_id, title, desc, 16 + len(rows) * 18, "".join(out))
