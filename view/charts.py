"""Bar charts drawn as inline SVG on the server: no script, nothing fetched by the browser."""
from __future__ import annotations

from html import escape


def bar_chart(bars: list[tuple[str, int]], *, width: int = 640, bar_height: int = 18, label_width: int = 180) -> str:
    """A horizontal bar chart, one labelled bar per (label, value), the value printed at its end."""
    if not bars:
        return '<p class="empty">no data yet</p>'
    top = max(value for _, value in bars) or 1
    room = width - label_width - 60
    rows = []
    for i, (label, value) in enumerate(bars):
        y = i * (bar_height + 4)
        length = max(1, round(room * value / top))
        rows.append(
            f'<g transform="translate(0,{y})"><title>{escape(label)}: {value}</title>'
            f'<text x="{label_width - 6}" y="{bar_height - 5}" text-anchor="end">{escape(label[:32])}</text>'
            f'<rect x="{label_width}" width="{length}" height="{bar_height}" class="bar"/>'
            f'<text x="{label_width + length + 4}" y="{bar_height - 5}">{value}</text></g>'
        )
    height = len(bars) * (bar_height + 4)
    return (f'<svg class="chart" role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
            f'xmlns="http://www.w3.org/2000/svg">{"".join(rows)}</svg>')
