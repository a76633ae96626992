"""Fast reports: figures keyed by their inputs and reused, drawn over processes, summaries per group."""

from __future__ import annotations

import logging
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from reports_fake import make_results, write_run

from istdbench.cli import main
from istdbench.reports import build, figureplan, write_report
from istdbench.reports.drawing import MIN_PARALLEL
from istdbench.reports.figcache import CACHE_DIR, figure_key
from istdbench.reports.summary import CurveSummary, roc_summary_figure


def test_figure_key_follows_the_inputs():
    a = {"curves": {"m": {"tau": np.linspace(0, 1, 5)}}, "title": "s"}
    same = {"curves": {"m": {"tau": np.linspace(0, 1, 5)}}, "title": "s"}
    assert figure_key("roc3d", a, ("png",)) == figure_key("roc3d", same, ("png",))
    changed = {"curves": {"m": {"tau": np.linspace(0, 1, 5) + 1e-12}}, "title": "s"}
    as_f32 = {"curves": {"m": {"tau": np.linspace(0, 1, 5).astype(np.float32)}}, "title": "s"}
    keys = {figure_key("roc3d", x, ("png",)) for x in (a, changed, as_f32)}
    keys |= {figure_key("roc3d", a, ("png", "pdf")), figure_key("visual", a, ("png",))}
    assert len(keys) == 5
    with pytest.raises(TypeError, match="cannot key a figure input of type object"):
        figure_key("roc3d", {"x": object()}, ("png",))


def test_curve_summary_mean_min_max_and_regridding():
    tau = np.linspace(0, 1, 5)
    summary = CurveSummary()
    summary.add("b", {"tau": tau, "tpr": np.ones(5), "fpr": np.zeros(5)})
    summary.add("b", {"tau": tau, "tpr": np.zeros(5), "fpr": np.full(5, 0.5)})
    coarse = np.array([0.0, 1.0])
    summary.add("a", {"tau": tau, "tpr": tau, "fpr": tau})
    summary.add("a", {"tau": coarse[::-1], "tpr": np.array([1.0, 0.0]), "fpr": np.array([1.0, 0.0])})
    out = summary.curves()
    assert list(out) == ["a", "b"] and out["b"]["n"] == 2
    np.testing.assert_allclose(out["b"]["tpr_mean"], 0.5, rtol=0, atol=0)
    np.testing.assert_allclose(out["b"]["fpr_max"], 0.5, rtol=0, atol=0)
    np.testing.assert_allclose(out["a"]["tpr_mean"], tau, rtol=0, atol=1e-15)  # the reversed grid interpolated
    fig = roc_summary_figure(out, "g")
    _, ax_td, ax_tf = fig.axes
    assert len(ax_td.get_lines()) == 2 and len(ax_td.collections) == 2  # a mean line and a band per method
    assert ax_tf.get_yscale() == "log"


def _two_sequence_run(tmp_path):
    """The fake run, clean jobs only, with a second synthetic sequence (same curves, new job keys)."""
    df = make_results(seeds=(0,))
    df = df[df["noise"] == "none"]
    extra = df[df["sequence"] == "synthetic/s0"].assign(
        sequence="synthetic/s1", job_key=lambda d: d["job_key"].str.replace("s0", "s1")
    )
    return write_run(tmp_path / "out", pd.concat([df, extra], ignore_index=True))


@pytest.fixture
def spy(monkeypatch):
    """Record how many figures each report draws and how many curve files it reads."""
    seen = {"drawn": [], "curves": 0}
    real_draw, real_load = build.draw_all, figureplan.load_curves

    def draw_all(tasks, folder, jobs=None):
        seen["drawn"].append(sorted(t.kind for t in tasks))
        return real_draw(tasks, folder, jobs=1)

    def load_curves(job):
        seen["curves"] += 1
        return real_load(job)

    monkeypatch.setattr(build, "draw_all", draw_all)
    monkeypatch.setattr(figureplan, "load_curves", load_curves)
    return seen


def test_unchanged_figures_are_reused_and_changed_ones_redrawn(tmp_path, spy):
    out = _two_sequence_run(tmp_path)
    first = write_report(out, formats="md", max_figures=1)
    # with the paper-layout grids of the drawn sequences (docs/paper-output.md)
    assert spy["drawn"][0] == ["roc3d", "roc3d", "roc_grid", "roc_summary", "visual", "visual", "visual_paper"]
    assert "ROC summary, synthetic (tensoristd@1)" in first.figures
    index = (out / "report" / "index.md").read_text()
    assert "### 3-D ROC summaries" in index and "3-D ROC figures of 1 of 3 sequence(s) are not drawn" in index
    files = {p: (out / "report" / p).read_bytes() for paths in first.figures.values() for p in paths}
    tables = (out / "report" / "tables" / "table8_auc3d.md").read_bytes()
    reads = spy["curves"]
    again = write_report(out, formats="md", max_figures=1)
    assert spy["drawn"][1] == [] and spy["curves"] == reads  # found by the job files' sizes and times
    assert again.figures == first.figures
    assert {p: (out / "report" / p).read_bytes() for p in files} == files
    assert (out / "report" / "tables" / "table8_auc3d.md").read_bytes() == tables
    write_report(out, formats="md", figures=False)  # keeps the cache for the next full report
    write_report(out, formats="md", max_figures=1)
    assert spy["drawn"][2] == [] and spy["curves"] == reads

    job = next(p for p in (out / "jobs").iterdir() if p.name.startswith("alpha") and "s1" in p.name)
    curves = dict(np.load(job / "curves.npz"))
    np.savez(job / "curves.npz", **curves)  # same content, new file: read again, not redrawn
    write_report(out, formats="md", max_figures=1)
    assert spy["drawn"][3] == [] and spy["curves"] > reads
    np.savez(job / "curves.npz", **{**curves, "tpr": curves["tpr"] * 0.5})
    write_report(out, formats="md", max_figures=1)
    assert spy["drawn"][4] == ["roc_summary"]  # s1 has no figure of its own at max_figures=1
    cached = {p.name for p in (out / "report" / CACHE_DIR).iterdir()}
    assert len(cached) == 2 * 7 + 1  # the report's seven figures in two formats, and sources.json


def test_two_processes_draw_the_same_files(tmp_path, caplog):
    df = make_results(seeds=(0,))
    df = df[df["noise"] == "none"]
    one = write_run(tmp_path / "one", df)
    two = write_run(tmp_path / "two", df)
    a = write_report(one, formats="md", jobs=1)
    with caplog.at_level(logging.INFO, logger="istdbench.reports.drawing"):
        b = write_report(two, formats="md", jobs=2)
    assert "drawing 6 figure(s) with 2 process(es)" in caplog.text
    assert a.figures == b.figures and len(a.figures) == 6 >= MIN_PARALLEL
    for paths in a.figures.values():
        for p in paths:
            assert (one / "report" / p).read_bytes() == (two / "report" / p).read_bytes(), p


def test_cli_figure_flags(tmp_path):
    out = _two_sequence_run(tmp_path)
    runner = CliRunner()
    args = ["report", str(out), "--formats", "md", "-j", "1", "--roc", "synthetic/s1", "--visual", "none"]
    res = runner.invoke(main, [*args, "--no-summary"])
    assert res.exit_code == 0, res.output
    assert "7 table(s) and 2 figure(s) written" in res.output  # its 3-D ROC and the paper-layout grid
    assert sorted(p.name for p in (out / "report" / "figures").iterdir()) == [
        "fig9_roc_grid_1.pdf",
        "fig9_roc_grid_1.png",
        "fig_roc3d_synthetic_s1.pdf",
        "fig_roc3d_synthetic_s1.png",
    ]
    index = (out / "report" / "index.md").read_text()
    assert "Visual-grid rows of 3 of 3 sequence(s) are not drawn (not selected;" in index
    res = runner.invoke(main, ["report", str(out), "--roc", "synthetic/s9"])
    assert res.exit_code == 2
    assert res.output.startswith("error: The ROC figure selection (--roc or report.roc) names 'synthetic/s9'")
    assert "Traceback" not in res.output


def test_unchanged_report_imports_neither_matplotlib_nor_torch(tmp_path):
    """What an unchanged rerun skips, it does not import: matplotlib (nothing is drawn) and torch (no network)."""
    out = _two_sequence_run(tmp_path)
    write_report(out, formats="md", max_figures=1)
    code = (
        "import sys; from istdbench.reports import write_report; "
        f"write_report({str(out)!r}, formats='md', max_figures=1); "
        "print('matplotlib' in sys.modules, 'torch' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]
