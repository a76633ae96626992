r"""How wide a LaTeX table will print, estimated from its cells, to choose a column or a page-wide float.

A journal table must fit a single column (``table``) or the text width
(``table*``) at a readable size. Scaling a wide tabular down with
``\resizebox`` makes its text unreadably small and inconsistent between
tables, so the layout is chosen by estimating the printed width of every
column from its content in Computer Modern 10 pt (character widths below, in
pt) and trying, in order: one column at normal, small and footnote size, then
the text width at those sizes and at script size; ``\resizebox`` only when
even that does not fit.

The targets are IEEEtran's two-column page (column 252 pt, text 516 pt;
Elsevier's two-column layout is within 2%). `istdbench.reports.texcheck`
compiles the result and checks the estimate: no overfull box.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

COLUMN_PT = 252.0
TEXT_PT = 516.0

_WIDTHS = {
    **dict.fromkeys("0123456789", 5.0),
    **dict.fromkeys(".,:;!'", 2.78),
    **dict.fromkeys("()[]", 3.89),
    " ": 3.33,
    "-": 3.33,
    "–": 5.0,
    "%": 8.33,
    "×": 7.78,
    "↑": 5.0,
    "↓": 5.0,
    "τ": 4.4,
    "/": 5.0,
    "=": 7.78,
    "+": 7.78,
    **dict.fromkeys("ijlft", 2.9),
    **dict.fromkeys("mw", 7.8),
    **dict.fromkeys("MW", 9.6),
}
_LOWER, _UPPER = 5.0, 7.4
_BOLD = 1.12


@dataclass(frozen=True)
class Layout:
    """How a tabular is set: float environment, font size command, column gap and scaling."""

    environment: str  # "table" or "table*"
    size: str  # "" or a size command such as r"\small"
    tabcolsep: float  # pt
    resize: bool = False

    @property
    def width_macro(self) -> str:
        return r"\columnwidth" if self.environment == "table" else r"\textwidth"


LAYOUTS = (
    Layout("table", "", 6.0),
    Layout("table", r"\small", 5.0),
    Layout("table", r"\footnotesize", 4.0),
    Layout("table*", "", 6.0),
    Layout("table*", r"\small", 5.0),
    Layout("table*", r"\footnotesize", 4.0),
    Layout("table*", r"\scriptsize", 3.0),
    Layout("table*", r"\scriptsize", 2.0),
)
_SCALE = {"": 1.0, r"\small": 0.9, r"\footnotesize": 0.8, r"\scriptsize": 0.7}


@functools.lru_cache(maxsize=65536)  # the same cells recur across layouts and rows
def text_width(cell: str) -> float:
    r"""Estimated printed width (pt, 10 pt type) of one LaTeX cell: macros dropped, sub/superscripts at 70%."""
    bold = r"\textbf" in cell
    text = re.sub(r"~?\\cite\{[^}]*\}", " [99]", cell)
    width = 0.0
    for part, small in _pieces(text):
        plain = re.sub(r"\\(times)", "×", part)
        plain = re.sub(r"\\(uparrow)", "↑", plain)
        plain = re.sub(r"\\(downarrow)", "↓", plain)
        plain = re.sub(r"\\(tau)", "τ", plain)
        plain = re.sub(r"\\[A-Za-z]+\*?", "", plain)
        plain = re.sub(r"[{}$&^_]", "", plain).replace("\\", "")
        w = sum(_WIDTHS.get(ch, _UPPER if ch.isupper() else _LOWER) for ch in plain)
        width += w * (0.7 if small else 1.0)
    return width * (_BOLD if bold else 1.0)


def _pieces(text: str) -> list[tuple[str, bool]]:
    """Split into (text, is_subscript) runs: ``_{...}`` and ``^{...}`` are the small ones."""
    out, pos = [], 0
    for m in re.finditer(r"[_^]\{([^{}]*(?:\{[^{}]*\}[^{}]*)*)\}|[_^](\\?[A-Za-z0-9])", text):
        out.append((text[pos : m.start()], False))
        out.append((m.group(1) or m.group(2) or "", True))
        pos = m.end()
    out.append((text[pos:], False))
    return out


def tabular_width(
    rows: Sequence[Sequence[str]],
    spans: Sequence[tuple[int, int, str]] = (),
    sep: float = 6.0,
    caps: dict[int, float] | None = None,
) -> float:
    """Estimated natural width (pt, 10 pt type) of a tabular.

    Parameters
    ----------
    rows : sequence of sequences of str
        Every row's cells (header rows included), one string per column.
    spans : sequence of (first column, number of columns, text)
        Multi-column header cells; a span wider than its columns widens them.
    sep : float
        ``\tabcolsep`` in pt (LaTeX puts it on both sides of every column).
    caps : dict, optional
        Column index -> the most it may take (a ``p{}`` column that wraps its text).
    """
    n = max((len(r) for r in rows), default=0)
    cols = [max((text_width(r[i]) for r in rows if i < len(r)), default=0.0) for i in range(n)]
    for i, cap in (caps or {}).items():
        cols[i] = min(cols[i], cap)
    for first, count, text in spans:
        have = sum(cols[first : first + count]) + 2 * sep * (count - 1)
        need = text_width(text)
        if need > have and count:
            for i in range(first, first + count):
                cols[i] += (need - have) / count
    return sum(cols) + 2 * sep * n


WRAP_PT = 90.0
"""Width of a wrapped text column (``p{90pt}``): long text cells wrap rather than widen the table."""


def wrapped_columns(rows: Sequence[Sequence[str]], text_columns: Sequence[int]) -> dict[int, float]:
    """Text columns wider than `WRAP_PT` at normal size whose cells can break (have spaces): ``p{}`` columns.

    Returns column -> width (pt): `WRAP_PT`, or the column's longest word where that is wider, since
    a word cannot be broken.
    """
    out = {}
    for i in text_columns:
        cells = [r[i] for r in rows if i < len(r)]
        wide = [c for c in cells if text_width(c) > WRAP_PT]
        if wide and all(" " in c for c in wide):
            longest = max(text_width(w) for c in cells for w in c.split())
            out[i] = float(np.ceil(max(WRAP_PT, longest + 2)))
    return out


def choose_layout(
    rows: Sequence[Sequence[str]],
    spans: Sequence[tuple[int, int, str]] = (),
    wrapped: Mapping[int, float] | None = None,
) -> Layout:
    """The first layout of `LAYOUTS` whose estimated width fits its target; else the widest, scaled to fit."""
    for layout in LAYOUTS:
        target = COLUMN_PT if layout.environment == "table" else TEXT_PT
        scale = _SCALE[layout.size]
        caps = {i: w / scale for i, w in (wrapped or {}).items()}  # a p{} column keeps its width at every font size
        margin = 0.9  # the estimate ran up to 8% under pdflatex (math headers, wrapped text)
        if tabular_width(rows, spans, layout.tabcolsep / scale, caps) * scale <= margin * target:
            return layout
    last = LAYOUTS[-1]
    return Layout(last.environment, last.size, last.tabcolsep, resize=True)
