"""Every generated table compiles in a two-column paper without an overfull box (pdflatex where installed)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from reports_fake import make_results

from istdbench.reports.render_latex import render_latex
from istdbench.reports.results import normalize
from istdbench.reports.tables import Table, build_tables
from istdbench.reports.texcheck import TOLERANCE_PT, compile_blocks, pdflatex
from istdbench.reports.texwidth import COLUMN_PT, LAYOUTS, choose_layout, text_width

needs_tex = pytest.mark.skipif(
    pdflatex() is None,
    reason="pdflatex not installed (Debian: apt-get install texlive-latex-base texlive-latex-recommended)",
)

PAPER_METHODS = ("tophat", "mpcm", "ipi", "pstnn", "stt", "rdian", "rpcanet", "3dstpm", "neurstt")


def paper_sized_results() -> pd.DataFrame:
    """The fake results spread over the registered methods and nine clips: six with masks, three with points."""
    base = make_results(seeds=(0,))
    base = base[base["preset"] != "slow"]
    parts = []
    for i, method in enumerate(PAPER_METHODS):
        for k in range(1, 10):
            name = f"synthetic/s{k}" if k <= 6 else f"daub/sequence{k}"
            source = base[(base["method"] == ("alpha", "beta", "gamma")[i % 3])]
            source = source[source["dataset"] == name.split("/")[0]]
            part = source.assign(
                method=method,
                sequence=name,
                value=source["value"] * (1 - 0.01 * k - 0.003 * i),
                n_params={"3dstpm": 5268538, "neurstt": 317184}.get(method, np.nan),
                height=256,
                width=256,
                job_key=source["job_key"] + f"-{method}-{k}",
            )
            parts.append(part)
    return normalize(pd.concat(parts, ignore_index=True))


def test_paper_sized_tables_choose_their_float():
    tables = {t.key: t for t in build_tables(paper_sized_results())}
    assert set(tables) >= {"table8_auc3d", "table9_pixel", "table9_target", "table10_runtime", "table11_params"}
    tex = {key: render_latex(t) for key, t in tables.items()}
    assert tex["table9_target"].startswith(r"\begin{table}[t]")  # narrow: one column
    assert tex["table9_pixel"].startswith(r"\begin{table*}[t]")  # six sequences x (IoU, F1) + average
    assert "Seq. 1: daub/sequence7" in tex["table9_target"] and "Seq. 4: synthetic/s1" in tex["table9_pixel"]
    assert all(r"\resizebox" not in t for t in tex.values())
    assert r"NeurSTT~\cite{wu2025neurstt}" in tex["table8_auc3d"]
    assert r"\mathrm{FPR}" in tex["table8_auc3d"] and "(D,F)" not in tex["table8_auc3d"]


def test_width_estimate_orders_cells():
    assert text_width(r"\textbf{0.9849}") > text_width("0.9849") > text_width("0.98")
    assert text_width(r"AUC$_{(\mathrm{FPR},\mathrm{TPR})}$") < text_width("AUC(FPR,TPR)") + 1
    assert choose_layout([["Method", "IoU"], ["MPCM", "1.00"]]) == LAYOUTS[0]
    huge = choose_layout([["x" * 200]])
    assert huge.resize and huge.environment == "table*"


@needs_tex
def test_every_table_compiles_without_overfull_boxes(tmp_path):
    tables = build_tables(paper_sized_results()) + build_tables(normalize(make_results()))
    result = compile_blocks([render_latex(t) for t in tables], tmp_path)
    assert result.pdf.is_file()
    assert result.too_wide() == [], result.too_wide()


@needs_tex
def test_the_check_sees_an_overfull_table(tmp_path):
    columns = pd.MultiIndex.from_product([["", "x"], ["IoU", "F1"]], names=["group", "metric"])
    values = pd.DataFrame(np.full((1, 4), 12.3456), index=["m" * 60], columns=columns)
    table = Table("over", "Over", values, pd.DataFrame("ok", index=values.index, columns=columns), decimals=4)
    tex = render_latex(table).replace(r"\begin{table*}", r"\begin{table}").replace(r"\end{table*}", r"\end{table}")
    tex = tex.replace(r"\resizebox{\textwidth}{!}{%", "").replace(r"\end{tabular}}", r"\end{tabular}")
    result = compile_blocks([tex], tmp_path)
    assert result.too_wide() and result.too_wide()[0].points > COLUMN_PT / 4 > TOLERANCE_PT


def test_check_command_names_a_folder_without_tables(tmp_path, capsys):
    from istdbench.reports.texcheck import main

    assert main([str(tmp_path)]) == 2
    assert "has no tables/ folder" in capsys.readouterr().err


@needs_tex
def test_check_command_on_a_report_folder(tmp_path, capsys):
    from istdbench.reports.texcheck import main

    (tmp_path / "tables").mkdir()
    for table in build_tables(normalize(make_results())):
        (tmp_path / "tables" / f"{table.key}.tex").write_text(render_latex(table))
    assert main([str(tmp_path), "--keep", str(tmp_path / "tex")]) == 0
    assert "0 overfull box(es) beyond 1.0 pt" in capsys.readouterr().out


def test_long_text_columns_wrap_and_an_unbreakable_word_widens_its_column(tmp_path):
    from istdbench.reports.texwidth import WRAP_PT, wrapped_columns

    long = "mean of " + ", ".join(f"daub/sequence{k}" for k in range(1, 9))
    rows = [["m", long, "0.5"], ["n", "synthetic/h=96,w=128,t=24,seed=1,clutter=ground x", "0.6"]]
    widths = wrapped_columns(rows, [1])
    assert list(widths) == [1] and widths[1] > WRAP_PT  # the spec string is one word wider than 90 pt
    assert wrapped_columns([["m", "short text"]], [1]) == {}
    assert wrapped_columns([["m", "x" * 60]], [1]) == {}  # no space: cannot wrap, stays an l column
    values = pd.DataFrame({("", "IoU"): [50.0, 60.0]}, index=["a", "b"])
    values.columns = pd.MultiIndex.from_tuples(values.columns, names=["group", "metric"])
    info = pd.DataFrame({"Setting": [long, rows[1][1]]}, index=values.index)
    table = Table("wrap", "Wrap", values, pd.DataFrame("ok", index=values.index, columns=values.columns), info=info)
    tex = render_latex(table)
    assert r"\begin{tabular}{lp{" in tex and r"\resizebox" not in tex
    if pdflatex() is not None:
        assert compile_blocks([tex], tmp_path).too_wide() == []
