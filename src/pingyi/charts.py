"""Tiny server-side SVG charts, returned as strings.

Readable in black and white (greys, hatching-free outlines, dash styles per series,
value labels), every label escaped, no external assets, no scripts. The returned
``<svg>`` has no xmlns so it can be inlined in HTML without naming any URL; use
:func:`standalone_svg` for a separate .svg file.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from html import escape

FONT = "font-family='sans-serif' font-size='12'"
DASHES = ("", "6 3", "2 3", "8 3 2 3", "1 2")
GREYS = ("#000", "#555", "#888", "#333", "#aaa")


def _fmt(x: float) -> str:
    if math.isnan(x):
        return ""
    if abs(x) >= 100 or x == int(x):
        return f"{x:.0f}"
    return f"{x:.2f}".rstrip("0").rstrip(".")


def _text_width(text: str) -> int:
    """Rough width in pixels of a 12 px label: CJK characters are about twice as wide."""
    return sum(12 if ord(ch) >= 0x2E80 else 7 for ch in text)


def _label_width(labels: Sequence[str]) -> int:
    return min(240, 12 + max((_text_width(str(x)) for x in labels), default=8))


def _open(width: int, height: int, title: str) -> list[str]:
    t = escape(title)
    return [
        f"<svg width='{width}' height='{height}' viewBox='0 0 {width} {height}' role='img' "
        f"aria-label='{t}' {FONT}>",
        f"<title>{t}</title>",
        f"<rect x='0' y='0' width='{width}' height='{height}' fill='#fff'/>",
        f"<text x='{width / 2:.0f}' y='16' text-anchor='middle' font-weight='bold'>{t}</text>",
    ]


def standalone_svg(svg: str) -> str:
    """Makes an inline chart a valid standalone SVG document."""
    return svg.replace("<svg ", "<svg xmlns='http://www.w3.org/2000/svg' ", 1)


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    title: str = "",
    width: int = 560,
    bar_height: int = 18,
    value_format=_fmt,
) -> str:
    """Horizontal bars (long labels fit), one per label, value printed at the end."""
    label_w = _label_width(labels)
    height = 30 + len(labels) * (bar_height + 6) + 10
    out = _open(width, height, title)
    finite = [abs(v) for v in values if not math.isnan(v)]
    top = max(finite, default=1.0) or 1.0
    span = width - label_w - 70
    has_negative = any(v < 0 for v in values if not math.isnan(v))
    # with negative values the zero line sits in the middle, and each side keeps room
    # for its value labels so that they never run into the row labels
    zero = label_w + (span / 2 + 35 if has_negative else 0)
    scale = (span / 2 - 35 if has_negative else span) / top
    for k, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = 30 + k * (bar_height + 6)
        out.append(
            f"<text x='{label_w - 6}' y='{y + bar_height - 5}' text-anchor='end'>"
            f"{escape(str(label))}</text>"
        )
        if math.isnan(value):
            continue
        length = abs(value) * scale
        x = zero if value >= 0 else zero - length
        out.append(
            f"<rect x='{x:.1f}' y='{y}' width='{length:.1f}' height='{bar_height}' "
            "fill='#888' stroke='#000'/>"
        )
        tx = x + length + 4 if value >= 0 else x - 4
        anchor = "start" if value >= 0 else "end"
        out.append(
            f"<text x='{tx:.1f}' y='{y + bar_height - 5}' text-anchor='{anchor}'>"
            f"{escape(value_format(value))}</text>"
        )
    out.append(f"<line x1='{zero:.1f}' y1='26' x2='{zero:.1f}' y2='{height - 8}' stroke='#000'/>")
    out.append("</svg>")
    return "".join(out)


def histogram(
    values: Sequence[float],
    bins: int = 20,
    title: str = "",
    x_label: str = "",
    width: int = 560,
    height: int = 240,
) -> str:
    """Counts of ``values`` in equal-width bins, with the range on the axis."""
    data = [v for v in values if not math.isnan(v)]
    out = _open(width, height, title)
    left, right, top, bottom = 40, width - 10, 28, height - 36
    if not data:
        out.append(f"<text x='{width / 2}' y='{height / 2}' text-anchor='middle'>—</text></svg>")
        return "".join(out)
    lo, hi = min(data), max(data)
    if hi == lo:
        lo, hi = lo - 0.5, hi + 0.5
    counts = [0] * bins
    for v in data:
        counts[min(int((v - lo) / (hi - lo) * bins), bins - 1)] += 1
    peak = max(counts)
    bw = (right - left) / bins
    for k, c in enumerate(counts):
        h = (bottom - top) * c / peak
        out.append(
            f"<rect x='{left + k * bw:.1f}' y='{bottom - h:.1f}' width='{bw:.1f}' "
            f"height='{h:.1f}' fill='#aaa' stroke='#000'/>"
        )
    out.append(f"<line x1='{left}' y1='{bottom}' x2='{right}' y2='{bottom}' stroke='#000'/>")
    out.append(f"<text x='{left}' y='{bottom + 14}'>{escape(_fmt(lo))}</text>")
    out.append(f"<text x='{right}' y='{bottom + 14}' text-anchor='end'>{escape(_fmt(hi))}</text>")
    out.append(f"<text x='4' y='{top + 10}'>{peak}</text>")
    if lo < 0 < hi:
        zx = left + (0 - lo) / (hi - lo) * (right - left)
        out.append(
            f"<line x1='{zx:.1f}' y1='{top}' x2='{zx:.1f}' y2='{bottom}' stroke='#000' "
            "stroke-dasharray='4 3'/>"
        )
    out.append(
        f"<text x='{(left + right) / 2:.0f}' y='{height - 6}' text-anchor='middle'>"
        f"{escape(x_label)}</text></svg>"
    )
    return "".join(out)


def line_chart(
    x: Sequence[float],
    series: dict[str, Sequence[float]],
    title: str = "",
    x_label: str = "",
    width: int = 560,
    height: int = 260,
) -> str:
    """One line per series, told apart by dash style and marker, with a legend."""
    out = _open(width, height, title)
    left, right, top, bottom = 48, width - 140, 28, height - 36
    ys = [v for s in series.values() for v in s if not math.isnan(v)]
    if not x or not ys:
        out.append("</svg>")
        return "".join(out)
    x0, x1 = min(x), max(x)
    y0, y1 = min(ys), max(ys)
    x1 = x1 if x1 > x0 else x0 + 1
    y1 = y1 if y1 > y0 else y0 + 1

    def px(v: float) -> float:
        return left + (v - x0) / (x1 - x0) * (right - left)

    def py(v: float) -> float:
        return bottom - (v - y0) / (y1 - y0) * (bottom - top)

    out.append(f"<line x1='{left}' y1='{bottom}' x2='{right}' y2='{bottom}' stroke='#000'/>")
    out.append(f"<line x1='{left}' y1='{top}' x2='{left}' y2='{bottom}' stroke='#000'/>")
    for v, anchor_y in ((y0, bottom), (y1, top + 8)):
        out.append(f"<text x='{left - 4}' y='{anchor_y}' text-anchor='end'>{_fmt(v)}</text>")
    out.append(f"<text x='{left}' y='{bottom + 14}'>{escape(_fmt(x0))}</text>")
    out.append(f"<text x='{right}' y='{bottom + 14}' text-anchor='end'>{escape(_fmt(x1))}</text>")
    for k, (name, ys_) in enumerate(series.items()):
        dash, grey = DASHES[k % len(DASHES)], GREYS[k % len(GREYS)]
        pts = [(px(a), py(b)) for a, b in zip(x, ys_, strict=True) if not math.isnan(b)]
        path = " ".join(f"{a:.1f},{b:.1f}" for a, b in pts)
        dash_attr = f" stroke-dasharray='{dash}'" if dash else ""
        out.append(
            f"<polyline points='{path}' fill='none' stroke='{grey}' stroke-width='2'{dash_attr}/>"
        )
        for a, b in pts:
            out.append(_marker(k, a, b, grey))
        ly = top + 10 + 18 * k
        out.append(
            f"<line x1='{right + 10}' y1='{ly}' x2='{right + 40}' y2='{ly}' stroke='{grey}' "
            f"stroke-width='2'{dash_attr}/>{_marker(k, right + 25, ly, grey)}"
            f"<text x='{right + 46}' y='{ly + 4}'>{escape(name)}</text>"
        )
    out.append(
        f"<text x='{(left + right) / 2:.0f}' y='{height - 6}' text-anchor='middle'>"
        f"{escape(x_label)}</text></svg>"
    )
    return "".join(out)


def _marker(k: int, x: float, y: float, colour: str) -> str:
    if k % 3 == 0:
        return f"<circle cx='{x:.1f}' cy='{y:.1f}' r='3' fill='{colour}'/>"
    if k % 3 == 1:
        return (
            f"<rect x='{x - 3:.1f}' y='{y - 3:.1f}' width='6' height='6' fill='#fff' "
            f"stroke='{colour}'/>"
        )
    triangle = f"M{x:.1f},{y - 4:.1f} L{x + 4:.1f},{y + 3:.1f} L{x - 4:.1f},{y + 3:.1f} Z"
    return f"<path d='{triangle}' fill='{colour}'/>"


def graph(
    nodes: Sequence[str],
    edges: Sequence[tuple[str, str, float]],
    title: str = "",
    width: int = 320,
    height: int = 260,
) -> str:
    """A small directed node-link graph on a circle; edges labelled with their weight."""
    out = _open(width, height, title)
    arrow = f"arrow{zlib.crc32(repr((title, list(nodes))).encode()):08x}"  # unique per graph
    out.append(
        f"<defs><marker id='{arrow}' viewBox='0 0 10 10' refX='10' refY='5' markerWidth='6' "
        "markerHeight='6' orient='auto-start-reverse'><path d='M0,0 L10,5 L0,10 z' fill='#000'/>"
        "</marker></defs>"
    )
    cx, cy = width / 2, height / 2 + 8
    radius = min(width, height) / 2 - 44
    pos = {}
    for k, name in enumerate(nodes):
        angle = 2 * math.pi * k / max(len(nodes), 1) - math.pi / 2
        pos[name] = (cx + radius * math.cos(angle), cy + radius * math.sin(angle))
    node_r = 16
    for a, b, w in edges:
        if a not in pos or b not in pos:
            continue
        (x1, y1), (x2, y2) = pos[a], pos[b]
        d = math.hypot(x2 - x1, y2 - y1) or 1
        # offset both directions of a pair sideways so they do not overlap
        ox, oy = -(y2 - y1) / d * 4, (x2 - x1) / d * 4
        sx, sy = x1 + (x2 - x1) / d * node_r + ox, y1 + (y2 - y1) / d * node_r + oy
        ex, ey = x2 - (x2 - x1) / d * node_r + ox, y2 - (y2 - y1) / d * node_r + oy
        out.append(
            f"<line x1='{sx:.1f}' y1='{sy:.1f}' x2='{ex:.1f}' y2='{ey:.1f}' stroke='#000' "
            f"marker-end='url(#{arrow})'/>"
        )
        mx, my = (sx + ex) / 2 + ox * 2, (sy + ey) / 2 + oy * 2
        out.append(
            f"<text x='{mx:.1f}' y='{my:.1f}' text-anchor='middle' font-size='10'>"
            f"{escape(_fmt(w))}</text>"
        )
    for name, (x, y) in pos.items():
        out.append(
            f"<circle cx='{x:.1f}' cy='{y:.1f}' r='{node_r}' fill='#fff' stroke='#000'/>"
            f"<text x='{x:.1f}' y='{y + node_r + 12:.1f}' text-anchor='middle'>"
            f"{escape(name)}</text>"
        )
    out.append("</svg>")
    return "".join(out)


# Fills told apart without colour: solid black, dense and sparse hatching, dots, white.
_PATTERNS = (
    "<rect width='6' height='6' fill='#000'/>",
    "<rect width='6' height='6' fill='#fff'/><path d='M0,6 L6,0 M-1,1 L1,-1 M5,7 L7,5' "
    "stroke='#000' stroke-width='2'/>",
    "<rect width='6' height='6' fill='#fff'/><path d='M0,0 L6,6 M-1,5 L1,7 M5,-1 L7,1' "
    "stroke='#000' stroke-width='0.8'/>",
    "<rect width='6' height='6' fill='#fff'/><circle cx='3' cy='3' r='1.1' fill='#000'/>",
    "<rect width='6' height='6' fill='#fff'/>",
)


def stacked_bar_chart(
    labels: Sequence[str],
    rows: Sequence[Sequence[float]],
    series: Sequence[str],
    title: str = "",
    width: int = 640,
    bar_height: int = 18,
) -> str:
    """One horizontal 100 % bar per label, split into the shares of ``series`` (e.g.
    the five rating levels). Readable in black and white: each series has its own fill
    pattern, shown in the legend, and shares of 8 % or more are printed on the bar."""
    label_w = _label_width(labels)
    legend_h = 20
    height = 30 + legend_h + len(labels) * (bar_height + 6) + 10
    out = _open(width, height, title)
    ids = f"p{zlib.crc32(repr((title, list(labels), list(series))).encode()):08x}"
    defs = "".join(
        f"<pattern id='{ids}{k}' width='6' height='6' patternUnits='userSpaceOnUse'>"
        f"{_PATTERNS[k % len(_PATTERNS)]}</pattern>"
        for k in range(len(series))
    )
    out.append(f"<defs>{defs}</defs>")
    x = float(label_w)
    for k, name in enumerate(series):  # legend
        out.append(
            f"<rect x='{x:.0f}' y='26' width='14' height='12' fill='url(#{ids}{k})' "
            f"stroke='#000'/><text x='{x + 18:.0f}' y='36'>{escape(str(name))}</text>"
        )
        x += 26 + _text_width(str(name))
    span = width - label_w - 10
    for i, (label, values) in enumerate(zip(labels, rows, strict=True)):
        y = 30 + legend_h + i * (bar_height + 6)
        out.append(
            f"<text x='{label_w - 6}' y='{y + bar_height - 5}' text-anchor='end'>"
            f"{escape(str(label))}</text>"
        )
        total = sum(v for v in values if not math.isnan(v))
        if total <= 0:
            out.append(f"<text x='{label_w}' y='{y + bar_height - 5}'>—</text>")
            continue
        left = float(label_w)
        for k, v in enumerate(values):
            if math.isnan(v) or v <= 0:
                continue
            w = span * v / total
            out.append(
                f"<rect x='{left:.1f}' y='{y}' width='{w:.1f}' height='{bar_height}' "
                f"fill='url(#{ids}{k})' stroke='#000'/>"
            )
            share = v / total
            if share >= 0.08:
                # white box behind the number keeps it legible on any pattern
                tx = left + w / 2
                out.append(
                    f"<rect x='{tx - 15:.1f}' y='{y + 3}' width='30' height='{bar_height - 6}' "
                    "fill='#fff'/>"
                    f"<text x='{tx:.1f}' y='{y + bar_height - 5}' text-anchor='middle' "
                    f"font-size='10'>{share * 100:.0f}%</text>"
                )
            left += w
    out.append("</svg>")
    return "".join(out)
