r"""LaTeX (booktabs) for a `Table`, as in the seed paper: best value bold, second underlined.

The output is a complete float needing ``\usepackage{booktabs}`` (and
``graphicx`` in the rare case of a table too wide even for the text width at
script size). `texwidth` picks ``table`` or ``table*`` and the font size from
the printed width of the cells; the caption carries the table's notes
(protocol, threshold, data, ground truth) and the marking legend, so the float
reads on its own. Two-level columns get a spanning group header with
``\cmidrule``; rows with a citation key get ``~\cite{key}``.
"""

from __future__ import annotations

import re

from .formatting import cell_grid, direction, header_mode, legend
from .tables import Table
from .texwidth import choose_layout, wrapped_columns

DASH = "--"

LABELS = {
    "AUC_FPR_TPR": r"AUC$_{(\mathrm{FPR},\mathrm{TPR})}$",
    "AUC_tau_TPR": r"AUC$_{(\tau,\mathrm{TPR})}$",
    "AUC_tau_FPR": r"AUC$_{(\tau,\mathrm{FPR})}$",
    "AUC_BS": r"AUC$_{\mathrm{BS}}$",
    "AUC_TD": r"AUC$_{\mathrm{TD}}$",
    "AUC_TDBS": r"AUC$_{\mathrm{TDBS}}$",
    "AUC_ODP": r"AUC$_{\mathrm{ODP}}$",
    "AUC_SNPR": r"AUC$_{\mathrm{SNPR}}$",
    "Pd": r"$P_d$",
    "Fa": r"$F_a$",
    "s_per_frame": "s/frame",
    "n_params": "Parameters",
    "params_M": "Params (M)",
    "ratio": "Ratio",
    "F1": "$F_1$",
}

_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_SPECIAL_RE = re.compile("|".join(re.escape(k) for k in _SPECIAL))


def escape(text: str) -> str:
    """Escape LaTeX's special characters in plain text (names, notes)."""
    text = _SPECIAL_RE.sub(lambda m: _SPECIAL[m.group()], str(text))
    return text.replace("τ", r"$\tau$").replace("×", r"$\times$")


def metric_label(metric: str) -> str:
    way = direction(metric)
    arrow = {"max": r" $\uparrow$", "min": r" $\downarrow$", None: ""}[way]
    return LABELS.get(metric, escape(metric)) + arrow


def _number(text: str) -> str:
    """``1.23e-05`` -> ``$1.23\\times10^{-5}$``; ``16.6×`` -> ``16.6$\\times$``."""
    m = re.fullmatch(r"(-?[0-9.]+)e([+-])0*([0-9]+)", text)
    if m:
        sign = "-" if m.group(2) == "-" else ""
        return rf"${m.group(1)}\times10^{{{sign}{m.group(3)}}}$"
    return escape(text)


def _breakable(text: str) -> str:
    """Let a wrapped cell break after the commas and slashes of long specs (``synthetic/h=96,w=128,...``)."""
    return re.sub(r"([,/])(?=\S)", r"\1\\allowbreak{}", text)


def _wrap(text: str, mark: str) -> str:
    if not text:
        return DASH
    if text == "failed":
        return r"\textit{failed}"
    text = _number(text)
    if mark == "best":
        return rf"\textbf{{{text}}}"
    if mark == "second":
        return rf"\underline{{{text}}}"
    return text


def _group_header(groups: list[str], first_col: int) -> tuple[list[str], str, list[tuple[int, int, str]]]:
    """The spanning header row (as one joined cell), its cmidrules and the spans (0-based column, count, text)."""
    cells, rules, spans, col = [], [], [], first_col
    i = 0
    while i < len(groups):
        j = i
        while j < len(groups) and groups[j] == groups[i]:
            j += 1
        span = j - i
        cells.append(rf"\multicolumn{{{span}}}{{c}}{{{escape(groups[i])}}}" if span > 1 else escape(groups[i]))
        rules.append(rf"\cmidrule(lr){{{col}-{col + span - 1}}}")
        spans.append((col - first_col, span, escape(groups[i])))
        col += span
        i = j
    return [" & ".join(cells)], " ".join(rules), spans


def _row_label(table: Table, row: str) -> str:
    key = dict(table.cite_keys).get(row, "")
    return escape(row) + (rf"~\cite{{{key}}}" if key else "")


def render_latex(table: Table) -> str:
    """The table as a LaTeX ``table`` or ``table*`` float with booktabs rules, a full caption and a label."""
    mode = header_mode(table.values.columns)
    info_cols = list(table.info.columns) if table.info is not None else []
    lead = [escape(table.row_header), *(escape(c) for c in info_cols)]
    groups = [g for g, _ in table.values.columns]
    metrics = [m for _, m in table.values.columns]
    spec = "l" * len(lead) + "r" * len(metrics)
    header_rows: list[list[str]] = []
    rules = ""
    spans: list[tuple[int, int, str]] = []
    if mode == "both":
        group_cells, rules, spans = _group_header(groups, len(lead) + 1)
        header_rows.append([""] * len(lead) + group_cells)
    heads = [escape(g) for g in groups] if mode == "groups" else [metric_label(m) for m in metrics]
    header_rows.append([*lead, *heads])
    texts, marked = cell_grid(table.values, table.status, table.decimals)
    body = []
    for row in table.values.index:
        info = [escape(table.info.loc[row, c]) or DASH for c in info_cols] if table.info is not None else []
        cells = [_wrap(t, m) for t, m in zip(texts.loc[row].tolist(), marked.loc[row].tolist(), strict=True)]
        body.append([_row_label(table, row), *info, *cells])
    wrapped = wrapped_columns(body, range(1, len(lead)))  # long text (info) columns wrap in p{} columns
    if wrapped:
        spec = "".join(f"p{{{wrapped[i]:g}pt}}" if i in wrapped else c for i, c in enumerate(spec))
        body = [[_breakable(c) if i in wrapped else c for i, c in enumerate(cells)] for cells in body]
    layout = choose_layout([header_rows[-1], *body], [(len(lead) + a, n, t) for a, n, t in spans], wrapped)
    caption = " ".join([table.title.rstrip(".") + ".", *table.notes, *legend(table.status, marked, DASH)])
    env = layout.environment
    lines = [
        rf"\begin{{{env}}}[t]",
        r"\centering",
        rf"\caption{{{escape(caption)}}}",
        rf"\label{{tab:{table.key}}}",
        *([layout.size] if layout.size else []),
        rf"\setlength{{\tabcolsep}}{{{layout.tabcolsep:g}pt}}",
        *([rf"\resizebox{{{layout.width_macro}}}{{!}}{{%"] if layout.resize else []),
        rf"\begin{{tabular}}{{{spec}}}",
        r"\toprule",
    ]
    if mode == "both":
        lines += [" & ".join(header_rows[0]) + r" \\", rules]
    lines.append(" & ".join(header_rows[-1]) + r" \\")
    lines.append(r"\midrule")
    lines += [" & ".join(cells) + r" \\" for cells in body]
    lines += [r"\bottomrule", r"\end{tabular}" + ("}" if layout.resize else "")]
    lines += [rf"\end{{{env}}}", ""]
    return "\n".join(lines)
