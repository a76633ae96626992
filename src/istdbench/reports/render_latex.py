r"""LaTeX (booktabs) for a `Table`, as in the seed paper: best value bold, second underlined.

The output is a complete ``table`` float needing ``\usepackage{booktabs}`` (and
``graphicx`` for tables wider than `WIDE_COLUMNS`, which are scaled to the line
width); two-level columns get a spanning group header with ``\cmidrule``.
"""

from __future__ import annotations

import re

from .formatting import cell_grid, direction, header_mode, legend
from .tables import Table

DASH = "--"
WIDE_COLUMNS = 10
"""Tables with more columns are scaled to the line width (needs ``graphicx``)."""

LABELS = {
    "AUC_FPR_TPR": r"AUC$_{(D,F)}$",
    "AUC_tau_TPR": r"AUC$_{(D,\tau)}$",
    "AUC_tau_FPR": r"AUC$_{(F,\tau)}$",
    "AUC_BS": r"AUC$_{\mathrm{BS}}$",
    "AUC_TD": r"AUC$_{\mathrm{TD}}$",
    "AUC_TDBS": r"AUC$_{\mathrm{TDBS}}$",
    "AUC_ODP": r"AUC$_{\mathrm{ODP}}$",
    "AUC_SNPR": r"AUC$_{\mathrm{SNPR}}$",
    "Pd": r"$P_d$",
    "Fa": r"$F_a$",
    "s_per_frame": "s/frame",
    "n_params": "Parameters",
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
    return _SPECIAL_RE.sub(lambda m: _SPECIAL[m.group()], str(text)).replace("τ", r"$\tau$")


def metric_label(metric: str) -> str:
    way = direction(metric)
    arrow = {"max": r" $\uparrow$", "min": r" $\downarrow$", None: ""}[way]
    return LABELS.get(metric, escape(metric)) + arrow


def _wrap(text: str, mark: str) -> str:
    if not text:
        return DASH
    if text == "failed":
        return r"\textit{failed}"
    if mark == "best":
        return rf"\textbf{{{text}}}"
    if mark == "second":
        return rf"\underline{{{text}}}"
    return text


def _group_header(groups: list[str], first_col: int) -> tuple[str, str]:
    """The spanning header row and its cmidrules for runs of equal group names."""
    cells, rules, col = [], [], first_col
    i = 0
    while i < len(groups):
        j = i
        while j < len(groups) and groups[j] == groups[i]:
            j += 1
        span = j - i
        cells.append(rf"\multicolumn{{{span}}}{{c}}{{{escape(groups[i])}}}" if span > 1 else escape(groups[i]))
        rules.append(rf"\cmidrule(lr){{{col}-{col + span - 1}}}")
        col += span
        i = j
    return " & ".join(cells), " ".join(rules)


def render_latex(table: Table) -> str:
    """The table as a LaTeX ``table`` float with booktabs rules, caption, label and notes."""
    mode = header_mode(table.values.columns)
    info_cols = list(table.info.columns) if table.info is not None else []
    lead = [escape(table.row_header), *(escape(c) for c in info_cols)]
    groups = [g for g, _ in table.values.columns]
    metrics = [m for _, m in table.values.columns]
    spec = "l" * len(lead) + "r" * len(metrics)
    wide = len(lead) + len(metrics) > WIDE_COLUMNS
    lines = [
        r"\begin{table}[t]",
        r"\centering",
        rf"\caption{{{escape(table.title)}}}",
        rf"\label{{tab:{table.key}}}",
        *([r"\resizebox{\linewidth}{!}{%"] if wide else []),
        rf"\begin{{tabular}}{{{spec}}}",
        r"\toprule",
    ]
    if mode == "both":
        spans, rules = _group_header(groups, len(lead) + 1)
        lines.append(" & ".join([""] * len(lead)) + " & " + spans + r" \\")
        lines.append(rules)
    if mode == "groups":
        heads = [escape(g) for g in groups]
    else:
        heads = [metric_label(m) for m in metrics]
    lines.append(" & ".join([*lead, *heads]) + r" \\")
    lines.append(r"\midrule")
    texts, marked = cell_grid(table.values, table.status)
    for row in table.values.index:
        info = [escape(table.info.loc[row, c]) or DASH for c in info_cols] if table.info is not None else []
        cells = [_wrap(t, m) for t, m in zip(texts.loc[row].tolist(), marked.loc[row].tolist(), strict=True)]
        lines.append(" & ".join([escape(row), *info, *cells]) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}" + ("}" if wide else "")]
    notes = [*table.notes, *legend(table.status, marked, DASH)]
    if notes:
        lines += [r"\par\smallskip", rf"{{\footnotesize {escape(' '.join(notes))}}}"]
    lines += [r"\end{table}", ""]
    return "\n".join(lines)
