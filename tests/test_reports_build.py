"""The whole report folder and the ``istdbench report`` command."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner
from reports_fake import make_results, write_run

from istdbench.cli import main
from istdbench.core.errors import InvalidParameterError
from istdbench.reports import ReportError, write_report
from istdbench.reports.build import parse_formats

TABLE_KEYS = (
    "table8_auc3d",
    "table8_sequences_odp",
    "table8_sequences_snpr",
    "table9_pixel",
    "table9_target",
    "table10_runtime",
    "table11_params",
    "table12_noise_pixel",
    "table12_noise_target",
)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    df = make_results(seeds=(0,))
    return write_run(tmp_path_factory.mktemp("run") / "out", df)


@pytest.fixture(scope="module")
def report(run):
    return write_report(run)


def test_report_writes_every_table_and_figure(run, report):
    folder = run / "report"
    assert sorted(report.tables) == sorted(TABLE_KEYS)
    for key in TABLE_KEYS:
        for fmt in ("md", "tex", "csv"):
            assert (folder / "tables" / f"{key}.{fmt}").is_file()
    figures = {p.name for p in (folder / "figures").iterdir()}
    for stem in (
        "fig_roc3d_synthetic_s0",
        "fig_roc3d_daub_sequence1",
        "fig_visual_synthetic",
        "fig_visual_daub",
        "fig12_noise_pixel",
        "fig12_noise_target",
    ):
        assert {f"{stem}.png", f"{stem}.pdf"} <= figures
    assert not any(name.startswith(".report") for name in os.listdir(run))  # no staging left


def test_runtime_is_not_among_deterministic_files(report):
    assert "tables/table8_auc3d.md" in report.deterministic
    assert not any("table10_runtime" in p for p in report.deterministic)


def test_index_links_everything_and_lists_failures(run, report):
    index = (run / "report" / "index.md").read_text()
    for paths in [*report.tables.values(), *report.figures.values()]:
        for rel in paths:
            assert f"]({rel})" in index
    assert "3-D ROC protocol `tensoristd@1`" in index and "`ratio:0.5`" in index
    assert "| gamma (slow) | synthetic/s0 | none | 0 | RuntimeError: out of patience |" in index
    assert "| cpu | Test CPU |" in index
    assert "## Failed jobs" in index and "[`results.csv`](../results.csv) of run config `fake`" in index
    assert "| gamma (slow) | gamma | slow | `h_gslow` | mode=slow, quality=0.5 |" in index
    assert "- sequences `daub/sequence1`, `synthetic/s0` (frames 1-6); noise cross, gaussian:snr=5, none" in index
    assert "- seeds: 0" in index and "Hand-made results for the report tests." in index


def test_second_report_is_byte_identical(run, report):
    before = {p: (run / "report" / p).read_bytes() for p in [*report.deterministic, "index.md"]}
    again = write_report(run)
    assert again.deterministic == report.deterministic
    for path, data in before.items():
        assert (run / "report" / path).read_bytes() == data, path


def test_formats_and_no_figures(tmp_path):
    out = write_run(tmp_path / "out", make_results(seeds=(0,)))
    rep = write_report(out, formats="md", figures=False)
    assert sorted(p.name for p in (out / "report" / "tables").iterdir()) == sorted(f"{k}.md" for k in TABLE_KEYS)
    assert not (out / "report" / "figures").exists() and rep.figures == {}
    assert "## Figures" not in (out / "report" / "index.md").read_text()
    with pytest.raises(
        InvalidParameterError, match=r"--formats must be .*md, tex, csv; got unknown format\(s\) docx\."
    ):
        parse_formats("md,docx")
    with pytest.raises(InvalidParameterError, match="got no format"):
        parse_formats(" , ")


def test_failed_swap_keeps_previous_report(tmp_path, monkeypatch):
    out = write_run(tmp_path / "out", make_results(seeds=(0,)))
    write_report(out, formats="md", figures=False)
    old_index = (out / "report" / "index.md").read_bytes()

    def no_space(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "rename", no_space)
    with pytest.raises(ReportError, match=r"No space left on device\. The previous report is kept"):
        write_report(out, formats="md,tex", figures=False)
    monkeypatch.undo()
    assert (out / "report" / "index.md").read_bytes() == old_index
    assert not (out / "report" / "tables" / "table8_auc3d.tex").exists()
    assert sorted(os.listdir(out)) == ["jobs", "report", "results.csv", "run.json"]


def test_cli_report(tmp_path):
    out = write_run(tmp_path / "out", make_results(seeds=(0,)))
    runner = CliRunner()
    res = runner.invoke(main, ["report", str(out), "--formats", "md,csv", "--no-figures"])
    assert res.exit_code == 0, res.output
    assert "9 table(s) and 0 figure(s) written" in res.output
    assert (out / "report" / "tables" / "table8_auc3d.csv").is_file()
    res = runner.invoke(main, ["report", str(tmp_path / "nothing")])
    assert res.exit_code == 2 and "error: No results table" in res.output
    res = runner.invoke(main, ["report", str(out), "--formats", "pdf"])
    assert res.exit_code == 2 and "--formats must be" in res.output


def test_protocol_rules_come_from_the_metrics_layer():
    from istdbench.reports.index import _protocol_rules

    rules = _protocol_rules("tensoristd@1")
    assert "quantise=True" in rules and "threshold_den=99" in rules and "name=" not in rules
    assert "norm=sequence" in _protocol_rules("clean:norm=sequence@1")
    assert _protocol_rules("plain@1") == " (not a protocol of this suite version)"
