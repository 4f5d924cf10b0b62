"""Server-side SVG charts for the reports (issue 12), drawn with matplotlib.

Why matplotlib, server-side: the page stays a plain server-rendered page (no JavaScript
bundle to vendor, pin and audit), the chart prints as it shows, and the same picture is
what a test can read back (``<svg>`` with one ``<path>``/``<rect>`` per bar). We use the
object API (``matplotlib.figure.Figure``) with the Agg-family SVG canvas and never
``pyplot``, so there is no global figure state shared between request threads.

Text is kept as SVG ``<text>`` (``svg.fonttype = "none"``): the browser draws Chinese
labels with its own fonts, which matplotlib's bundled DejaVu fonts lack.
"""

import hashlib
import io
import re
import warnings

import matplotlib
from django.core.cache import cache
from django.utils import translation
from django.utils.html import escape

matplotlib.use("Agg")  # no display on a server; set before anything draws

from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

CACHE_SECONDS = 300

# Colour-blind safe (Okabe–Ito), one per series, in the order given.
PALETTE = ["#0072B2", "#D55E00", "#999999", "#009E73", "#E69F00", "#56B4E9", "#CC79A7"]

RC = {
    "svg.fonttype": "none",
    "svg.hashsalt": "mall-reports",  # stable element ids: the same data, the same file
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def _svg(figure):
    buffer = io.StringIO()
    # Fixed margins rather than bbox_inches="tight", which draws the figure twice.
    figure.savefig(buffer, format="svg")
    text = buffer.getvalue()
    # Inline in HTML: drop the XML prolog and DOCTYPE, keep the <svg> element.
    return text[text.index("<svg") :]


def _label_days(axes, days):
    step = max(1, -(-len(days) // 8))  # at most 8 labels: they never overlap
    positions = list(range(0, len(days), step))
    axes.set_xticks(positions, [days[i].strftime("%m-%d") for i in positions])


def stacked_bars(days, series, *, title, line=None, ylabel="", integer=False):
    """Return an SVG (``str``) of stacked bars per day; the same input is drawn once
    (cached for ``CACHE_SECONDS``: drawing costs a few hundred milliseconds).

    ``days``: list of ``date``; ``series``: list of ``(label, [number per day])``
    stacked in order; ``line``: optional ``(label, [number per day])`` drawn on top.
    Numbers may be ``int``, ``float`` or ``Decimal``; ``integer``: whole-number ticks
    (counts).
    """
    key = (
        "report-chart:"
        + hashlib.sha256(
            repr((days, series, title, line, ylabel, integer, translation.get_language())).encode()
        ).hexdigest()
    )
    svg = cache.get(key)
    if svg is None:
        svg = _draw(days, series, title=title, line=line, ylabel=ylabel, integer=integer)
        cache.set(key, svg, CACHE_SECONDS)
    return svg


def _draw(days, series, *, title, line, ylabel, integer):
    with matplotlib.rc_context(RC), warnings.catch_warnings():
        # Text stays SVG text drawn by the browser's fonts; matplotlib's own font has no
        # Chinese glyphs, which matters only for its layout estimate: not a warning per
        # character in the log.
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        figure = Figure(figsize=(8, 3.2))
        figure.subplots_adjust(left=0.08, right=0.76, bottom=0.12, top=0.9)
        axes = figure.add_subplot()
        x = list(range(len(days)))
        bottom = [0.0] * len(days)
        for index, (label, values) in enumerate(series):
            values = [float(v or 0) for v in values]
            axes.bar(x, values, bottom=bottom, label=label, color=PALETTE[index % len(PALETTE)])
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
        if line is not None:
            label, values = line
            axes.plot(x, [float(v or 0) for v in values], color="#222222", marker="o", label=label)
        _label_days(axes, days)
        axes.set_title(title)
        if ylabel:
            axes.set_ylabel(ylabel)
        tallest = max(bottom + ([float(v or 0) for v in line[1]] if line else []), default=0)
        # Nothing to draw: a 0–1 axis, not matplotlib's 0–0.054 around nothing.
        axes.set_ylim(bottom=0, top=None if tallest > 0 else 1)
        if integer:
            axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
        axes.grid(axis="y", color="#e5e5e5")
        axes.set_axisbelow(True)
        svg = _svg(figure)
    return re.sub(r"<svg ", f'<svg role="img" aria-label="{escape(title)}" ', svg, count=1)
