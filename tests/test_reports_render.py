"""Markdown, LaTeX and CSV rendering: marks, placeholders, directions, escaping and determinism."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from reports_fake import make_results

from istdbench.reports.formatting import displayed, format_value, marks
from istdbench.reports.render_csv import render_csv
from istdbench.reports.render_latex import escape, render_latex
from istdbench.reports.render_markdown import render_markdown
from istdbench.reports.results import normalize
from istdbench.reports.tables import Table, build_tables


def _tables(df: pd.DataFrame) -> dict[str, Table]:
    return {t.key: t for t in build_tables(normalize(df))}


@pytest.fixture(scope="module")
def tables() -> dict[str, Table]:
    df = make_results()
    no_snpr = (df["method"] == "alpha") & (df["metric"] == "AUC_SNPR")
    return _tables(df[~no_snpr])


def _row(text: str, label: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(f"| {label} |") or line.startswith(f"{label} &"))


def test_markdown_marks_best_and_second(tables):
    md = render_markdown(tables["table8_auc3d"])
    alpha, beta, fast = _row(md, "alpha"), _row(md, "beta"), _row(md, "gamma (fast)")
    assert "| **0.8950** |" in alpha and "<u>0.6950</u>" in beta
    first_seven = fast.rsplit("|", 2)[0]  # its AUC_SNPR is second once alpha's is missing
    assert "**" not in first_seven and "<u>" not in first_seven
    # AUC(tau,FPR) is lower-is-better: alpha's 0.00105 is the best; every column prints 4 decimals
    assert "**0.0010**" in alpha and "<u>0.0031</u>" in beta
    assert "| AUC(FPR,TPR) ↑ | AUC(τ,FPR) ↓ | AUC(τ,TPR) ↑ |" in md
    assert "AUC(τ,FPR) ↓" in md and "AUC_ODP ↑" in md


def test_markdown_failed_and_missing_cells(tables):
    md = render_markdown(tables["table8_auc3d"])
    assert _row(md, "gamma (slow)").count("| failed") == 8
    alpha_cells = _row(md, "alpha").strip("|").split("|")
    assert alpha_cells[-1].strip() == "—"  # alpha's AUC_SNPR rows were removed
    # with alpha missing, beta is the best SNPR; of two values the other is not "second", just last
    assert "**69.5000**" in _row(md, "beta") and "| 49.5000 |" in _row(md, "gamma (fast)")
    assert "failed: a job of this cell raised" in md and "—: not available." in md


def test_markdown_fa_is_lower_is_better(tables):
    md = render_markdown(tables["table9_target"])
    assert "**1.05e-05**" in _row(md, "alpha") and "<u>3.05e-05</u>" in _row(md, "beta")
    assert "| Method | Pd ↑ | Fa ↓ | AUC(τ,TPR) ↑ |" in md  # narrow: the mean over the point-annotated clips


def test_latex_booktabs_bold_and_underline(tables):
    tex = render_latex(tables["table9_pixel"])
    for rule in (r"\toprule", r"\midrule", r"\bottomrule", r"\cmidrule(lr){2-3}"):
        assert rule in tex
    assert r"\multicolumn{2}{c}{Seq. 2}" in tex
    assert r"\textbf{79.50}" in _row(tex, "alpha") and r"\underline{59.50}" in _row(tex, "beta")  # percent
    assert _row(tex, "gamma (slow)").count(r"\textit{failed}") == 4
    assert r"\label{tab:table9_pixel}" in tex and tex.count(r"\begin{tabular}{lrrrr}") == 1


def test_latex_missing_is_double_dash_and_labels_are_math(tables):
    tex = render_latex(tables["table8_auc3d"])
    assert _row(tex, "alpha").endswith(r"& -- \\")
    assert r"AUC$_{(\tau,\mathrm{FPR})}$ $\downarrow$" in tex and r"AUC$_{\mathrm{SNPR}}$ $\uparrow$" in tex
    # the caption states protocol and ground truth; the legend is in it too
    caption = next(line for line in tex.splitlines() if line.startswith(r"\caption{"))
    assert "tensoristd@1" in caption and "Ground truth" in caption and "Best in bold" in caption


def test_latex_escaping():
    assert escape("a_b & 50% #1 {x} ~^\\") == (
        r"a\_b \& 50\% \#1 \{x\} \textasciitilde{}\textasciicircum{}\textbackslash{}"
    )
    assert escape("AUC(τ,TPR)") == r"AUC($\tau$,TPR)"
    assert escape("256×256") == r"256$\times$256"


def test_runtime_table_has_device_and_ties_are_unmarked(tables):
    md = render_markdown(tables["table10_runtime"])
    assert md.splitlines()[2] == "| Method | Seq. 1 | Seq. 2 | Average |"
    assert "| alpha | 0.900 | 0.900 | 0.900 |" in md  # every method prints 0.900: no mark
    assert "**" not in md and "Measured on the CPU (Test CPU" in md


def test_params_table_is_unmarked_and_grouped_by_size(tables):
    md = render_markdown(tables["table11_params"])
    assert "| Method | 32×40 | 48×48 |" in md and "| beta | 1.235 | 1.235 |" in md  # millions, 3 decimals
    assert "**" not in md
    assert render_csv(tables["table11_params"]).splitlines()[1] == "beta,1.235,1.235"


def test_csv_is_plain_and_rounded(tables):
    lines = render_csv(tables["table9_target"]).splitlines()
    assert lines[0] == "Method,Pd,Fa,AUC_tau_TPR"
    assert lines[1] == "alpha,0.8950,1.05e-05,0.8950"
    csv8 = render_csv(tables["table8_auc3d"]).splitlines()
    assert csv8[1].endswith(",") and csv8[4].split(",")[1:] == ["failed"] * 8


def test_output_is_byte_identical_for_shuffled_input():
    df = make_results()
    first = _tables(df)
    second = _tables(df.sample(frac=1.0, random_state=3).reset_index(drop=True))
    assert list(first) == list(second)
    for key, table in first.items():
        assert render_markdown(table) == render_markdown(second[key])
        assert render_latex(table) == render_latex(second[key])
        assert render_csv(table) == render_csv(second[key])


def test_format_value_rules():
    assert format_value("AUC_ODP", 1.23456) == "1.2346"
    assert format_value("AUC_SNPR", 191.666) == "191.67"
    assert format_value("Fa", 2.5e-6) == "2.50e-06"
    assert format_value("AUC_SNPR", 191.666, decimals=4) == "191.6660"
    assert format_value("Fa", 2.5e-6, decimals=4) == "2.50e-06"  # Fa keeps its own format
    assert format_value("ratio", 16.56, decimals=3) == "16.6×"
    assert format_value("AUC_ODP", -0.00001) == "0.0000"
    assert format_value("AUC_SNPR", math.inf) == "inf"
    assert format_value("n_params", 317184) == "317,184"
    assert math.isnan(displayed("IoU", math.nan))


def test_marks_ties_share_and_respect_status():
    values = pd.Series([0.50001, 0.49999, 0.4, 0.9, 0.3], index=list("abcde"))
    status = pd.Series(["ok", "ok", "ok", "failed", "ok"], index=list("abcde"))
    got = marks(values, status, "IoU")
    assert list(got) == ["best", "best", "second", "", ""]  # a and b both print 0.5000; d failed
    assert list(marks(values, status, "Fa")) == ["", "", "second", "", "best"]
    low = marks(pd.Series([3.0, 1.0, 2.0]), pd.Series(["ok"] * 3), "s_per_frame")
    assert list(low) == ["", "best", "second"]
    assert list(marks(pd.Series([3.0, 1.0, 1.0]), pd.Series(["ok"] * 3), "IoU")) == ["best", "", ""]
    assert list(marks(pd.Series([1.0, 2.0]), pd.Series(["ok", "ok"]), "n_params")) == ["", ""]
    assert list(marks(pd.Series([np.nan, 2.0]), pd.Series(["ok", "ok"]), "IoU")) == ["", ""]


def test_latex_layout_follows_the_printed_width(tables):
    def wide(n: int) -> str:
        groups = [f"Seq. {i}" for i in range(n)]
        columns = pd.MultiIndex.from_product([groups, ["IoU", "F1"]], names=["group", "metric"])
        values = pd.DataFrame(np.linspace(0, 99, 4 * n).reshape(2, 2 * n), index=["a", "b"], columns=columns)
        status = pd.DataFrame("ok", index=values.index, columns=columns)
        return render_latex(Table("wide", "Wide", values, status, decimals=2))

    assert r"\begin{table}[t]" in wide(1) and r"\resizebox" not in wide(1)  # one column
    assert r"\begin{table*}[t]" in wide(8) and r"\resizebox" not in wide(8)  # the paper's Table 9: text width
    assert r"\resizebox{\textwidth}{!}{%" in wide(30) and r"\end{tabular}}" in wide(30)  # last resort
    assert r"\resizebox" not in render_latex(tables["table8_auc3d"])
