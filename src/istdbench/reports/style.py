"""Publication style for the report's figures: journal sizes, TrueType fonts, colour-blind-safe method styles.

A figure pasted into a paper is printed at the column (3.5 in) or page width
(7.16 in) of IEEE and Elsevier two-column layouts, so it is drawn at that size
with 8 pt text (7 pt ticks and legends) instead of being scaled down from a
large canvas. PDFs embed TrueType fonts (``pdf.fonttype = 42``): the Type 3
fonts matplotlib writes by default are rejected by IEEE PDF eXpress and
Elsevier's checks. DejaVu Sans ships with matplotlib, so the same input gives
the same file on every machine.

Methods are told apart by colour *and* line style *and* marker, so a plot
survives greyscale printing and colour-vision deficiency: the Okabe-Ito
palette (8 colours), 4 dash patterns and 10 markers give every one of up to
80 methods its own combination. One method can be highlighted (black, thicker,
drawn on top), as papers do with their own method.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from matplotlib.figure import Figure


COLUMN_IN = 3.5
DOUBLE_IN = 7.16
FONT_PT = 8.0
SMALL_PT = 7.0

OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7", "#999999", "#F0E442")
"""Okabe & Ito (2008), without black (reserved for the highlighted method), grey added; yellow, faint as a
line on white, comes last."""
SKY_BLUE, VERMILLION, YELLOW = "#56B4E9", "#D55E00", "#F0E442"
HIGHLIGHT_COLOR = "#000000"
LINESTYLES = ("-", "--", "-.", ":")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">")

Width = Literal["column", "double"]

RC: dict[str, Any] = {
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": FONT_PT,
    "axes.titlesize": FONT_PT,
    "axes.labelsize": FONT_PT,
    "figure.titlesize": FONT_PT,
    "legend.fontsize": SMALL_PT,
    "xtick.labelsize": SMALL_PT,
    "ytick.labelsize": SMALL_PT,
    "legend.frameon": False,
    "axes.linewidth": 0.6,
    "grid.linewidth": 0.4,
    "lines.linewidth": 1.0,
    "lines.markersize": 3.0,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "xtick.major.size": 2.5,
    "ytick.major.size": 2.5,
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
    "svg.fonttype": "none",
    "savefig.dpi": 300,
    "mathtext.fontset": "dejavusans",
    "axes.unicode_minus": False,
}
"""Matplotlib settings of every report figure (read at drawing and at saving time)."""


@contextlib.contextmanager
def publication_style() -> Iterator[None]:
    """Context in which figures are both built and saved with `RC`."""
    import matplotlib as mpl

    with mpl.rc_context(RC):
        yield


def figure(width: Width = "double", height_in: float | None = None) -> Figure:
    """An Agg `Figure` at the journal width (``column`` 3.5 in, ``double`` 7.16 in), constrained layout."""
    from matplotlib.figure import Figure

    w = COLUMN_IN if width == "column" else DOUBLE_IN
    return Figure(figsize=(w, height_in if height_in is not None else w * 0.62), layout="constrained")


@dataclass(frozen=True)
class LineStyle:
    """How one method is drawn: pass ``**style.kwargs`` to ``plot``."""

    color: str
    linestyle: Any
    marker: str
    linewidth: float
    zorder: float

    @property
    def kwargs(self) -> dict[str, Any]:
        return {
            "color": self.color,
            "linestyle": self.linestyle,
            "marker": self.marker,
            "linewidth": self.linewidth,
            "zorder": self.zorder,
        }


def method_styles(methods: Sequence[str], highlight: str = "") -> dict[str, LineStyle]:
    """A distinct colour / dash / marker combination per method, in the given (table) order.

    The highlighted method (matched by exact label, or by label prefix such as
    ``NeurSTT`` for ``NeurSTT (paper)``) is black, solid, thicker and on top;
    the others share the Okabe-Ito colours.
    """
    out, i = {}, 0
    for name in methods:
        if highlight and (name == highlight or name.startswith(highlight + " ")):
            out[name] = LineStyle(HIGHLIGHT_COLOR, "-", "o", 1.8, 10.0)
            continue
        out[name] = LineStyle(
            OKABE_ITO[i % len(OKABE_ITO)],
            LINESTYLES[(i // len(OKABE_ITO)) % len(LINESTYLES)] if i >= len(OKABE_ITO) else LINESTYLES[i % 2],
            MARKERS[i % len(MARKERS)],
            1.0,
            2.0,
        )
        i += 1
    return out
