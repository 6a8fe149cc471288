"""Small SVG bar charts for the printed monthly report (WeasyPrint draws SVG; no script runs)."""
from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

INK, GRID, FIRST, SECOND = "#1c1c1c", "#d9d9d9", "#c62828", "#607d8b"


def horizontal_bars(rows: Sequence[tuple[str, float | None, str]], *, width: int = 640,
                    scale_max: float | None = None, colour: str = FIRST) -> Markup:
    """One bar per (label, value, text shown after the bar); a None value draws no bar."""
    bar_h, gap, label_w, text_w = 16, 6, 210, 70
    height = max(1, len(rows)) * (bar_h + gap) + gap
    top = scale_max or max((v or 0 for _, v, _ in rows), default=0) or 1
    span = width - label_w - text_w
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans, sans-serif" font-size="10">']
    for i, (label, value, shown) in enumerate(rows):
        y = gap + i * (bar_h + gap)
        parts.append(f'<text x="{label_w - 6}" y="{y + 12}" text-anchor="end" fill="{INK}">{escape(label)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y}" width="{span}" height="{bar_h}" fill="none" stroke="{GRID}"/>')
        if value:
            w = max(1.0, span * min(value, top) / top)
            parts.append(f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{colour}"/>')
        parts.append(f'<text x="{label_w + span + 6}" y="{y + 12}" fill="{INK}">{escape(shown)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def daily_columns(days: Sequence[tuple[str, int, int]], *, width: int = 640, height: int = 190) -> Markup:
    """Calls and incidents per day as paired columns, with the day of month below."""
    left, bottom, top_pad = 34, 22, 14
    plot_w, plot_h = width - left - 8, height - bottom - top_pad
    top = max((max(c, i) for _, c, i in days), default=0) or 1
    slot = plot_w / max(1, len(days))
    bar = max(1.0, slot / 2 - 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans, sans-serif" font-size="9">',
             f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{width - 8}" y2="{top_pad + plot_h}" stroke="{INK}"/>',
             f'<text x="{left - 4}" y="{top_pad + 4}" text-anchor="end" fill="{INK}">{top}</text>',
             f'<text x="{left - 4}" y="{top_pad + plot_h}" text-anchor="end" fill="{INK}">0</text>']
    for n, (label, calls, incidents) in enumerate(days):
        x = left + n * slot
        for k, (value, colour) in enumerate(((calls, SECOND), (incidents, FIRST))):
            h = plot_h * value / top
            parts.append(f'<rect x="{x + k * bar:.1f}" y="{top_pad + plot_h - h:.1f}" width="{bar:.1f}" '
                         f'height="{h:.1f}" fill="{colour}"/>')
        parts.append(f'<text x="{x + bar:.1f}" y="{height - 8}" text-anchor="middle" fill="{INK}">'
                     f'{escape(label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
