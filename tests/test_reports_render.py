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
    # AUC(tau,FPR) is lower-is-better: alpha's 0.00105 is the best
    assert "**0.00105**" in alpha and "<u>0.00305</u>" in beta
    assert "AUC(τ,FPR) ↓" in md and "AUC_ODP ↑" in md


def test_markdown_failed_and_missing_cells(tables):
    md = render_markdown(tables["table8_auc3d"])
    assert _row(md, "gamma (slow)").count("| failed") == 8
    alpha_cells = _row(md, "alpha").strip("|").split("|")
    assert alpha_cells[-1].strip() == "—"  # alpha's AUC_SNPR rows were removed
    # with alpha missing, beta is the best SNPR; of two values the other is not "second", just last
    assert "**69.50**" in _row(md, "beta") and "| 49.50 |" in _row(md, "gamma (fast)")
    assert "failed: a job of this cell raised" in md and "—: not available." in md


def test_markdown_fa_is_lower_is_better(tables):
    md = render_markdown(tables["table9_target"])
    assert "**1.050e-05**" in _row(md, "alpha") and "<u>3.050e-05</u>" in _row(md, "beta")
    assert "daub/sequence1 Fa ↓" in md


def test_latex_booktabs_bold_and_underline(tables):
    tex = render_latex(tables["table9_pixel"])
    for rule in (r"\toprule", r"\midrule", r"\bottomrule", r"\cmidrule(lr){2-3}"):
        assert rule in tex
    assert r"\multicolumn{2}{c}{synthetic/s0}" in tex
    assert r"\textbf{0.7950}" in _row(tex, "alpha") and r"\underline{0.5950}" in _row(tex, "beta")
    assert _row(tex, "gamma (slow)").count(r"\textit{failed}") == 4
    assert r"\label{tab:table9_pixel}" in tex and tex.count(r"\begin{tabular}{lrrrr}") == 1


def test_latex_missing_is_double_dash_and_labels_are_math(tables):
    tex = render_latex(tables["table8_auc3d"])
    assert _row(tex, "alpha").endswith(r"& -- \\")
    assert r"AUC$_{(F,\tau)}$ $\downarrow$" in tex and r"AUC$_{\mathrm{SNPR}}$ $\uparrow$" in tex


def test_latex_escaping():
    assert escape("a_b & 50% #1 {x} ~^\\") == (
        r"a\_b \& 50\% \#1 \{x\} \textasciitilde{}\textasciicircum{}\textbackslash{}"
    )
    assert escape("AUC(τ,TPR)") == r"AUC($\tau$,TPR)"


def test_runtime_table_has_device_and_ties_are_unmarked(tables):
    md = render_markdown(tables["table10_runtime"])
    assert md.splitlines()[2] == "| Method | Device | daub/sequence1 | synthetic/s0 | Average |"
    assert "| alpha | cpu | 0.9 | 0.9 | 0.9 |" in md  # every method prints 0.9: no mark
    assert "**" not in md


def test_params_table_is_unmarked_and_grouped_by_size(tables):
    md = render_markdown(tables["table11_params"])
    assert "| Method | 32x40 | 48x48 |" in md and "| beta | 1,234,567 | 1,234,567 |" in md
    assert "**" not in md
    assert render_csv(tables["table11_params"]).splitlines()[1] == "beta,1234567,1234567"


def test_csv_is_plain_and_rounded(tables):
    lines = render_csv(tables["table9_target"]).splitlines()
    assert lines[0] == (
        "Method,daub/sequence1/Pd,daub/sequence1/Fa,daub/sequence1/AUC_tau_TPR,Average/Pd,Average/Fa,Average/AUC_tau_TPR"
    )
    assert lines[1] == "alpha,0.8950,1.050e-05,0.8950,0.8950,1.050e-05,0.8950"
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
    assert format_value("Fa", 2.5e-6) == "2.500e-06"
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


def test_wide_latex_table_is_scaled_to_the_line(tables):
    columns = pd.MultiIndex.from_product([[f"s{i}" for i in range(6)], ["IoU", "F1"]], names=["group", "metric"])
    values = pd.DataFrame(np.linspace(0, 1, 24).reshape(2, 12), index=["a", "b"], columns=columns)
    status = pd.DataFrame("ok", index=values.index, columns=columns)
    tex = render_latex(Table("wide", "Wide", values, status))
    assert tex.count(r"\resizebox{\linewidth}{!}{%") == 1 and r"\end{tabular}}" in tex
    assert r"\resizebox" not in render_latex(tables["table8_auc3d"])
