"""Protocol sensitivity: Table 8 as published, all raw and all binarised, on results whose rank changes are known."""

from __future__ import annotations

import pandas as pd
import pytest
from reports_fake import make_results
from scorings_fake import frame, job

from istdbench.reports import write_report
from istdbench.reports.render_csv import render_csv
from istdbench.reports.render_latex import render_latex
from istdbench.reports.render_markdown import render_markdown
from istdbench.reports.results import normalize
from istdbench.reports.sensitivity import is_authors_rule, sensitivity_tables, split_protocol

SEQS = ("daub/sequence1", "daub/sequence2")
SNPR = {"neurstt": 50.0, "ipi": 40.0, "stt": 30.0}  # one value under every scoring: ranks cannot change


def _run(neural_rule: str = "chunk-max:0.4", drop: tuple[str, str | None, str] | None = None) -> list[dict]:
    """neurstt wins only as published (a), ipi only raw (b), stt only under ratio:0.5 (c)."""
    quality = {
        "neurstt": {None: 0.6, neural_rule: 0.9, "ratio:0.5": 0.7},
        "ipi": {None: 0.8, "ratio:0.5": 0.75},
        "stt": {None: 0.7, "ratio:0.5": 0.8},
    }
    rows = []
    for method, by_rule in quality.items():
        for rule, q in by_rule.items():
            for seq in SEQS:
                if drop != (method, rule, seq):
                    rows += job(method, seq, q, rule, snpr=SNPR[method])
    return rows


def _tables(rows) -> dict:
    return {t.key: t for t in sensitivity_tables(frame(rows))}


def test_three_scorings_side_by_side():
    t = _tables(_run())["sensitivity_auc3d"]
    groups = list(dict.fromkeys(t.values.columns.get_level_values("group")))
    assert groups == ["(a) paper's", "(b) raw", "(c) ratio:0.5"]
    col = "AUC_FPR_TPR"
    assert list(t.values.index) == ["IPI", "STT", "NeurSTT"]  # display names in the paper's order, as Table 8
    assert t.values.loc["NeurSTT", ("(a) paper's", col)] == pytest.approx(0.9)  # its authors' rule
    assert t.values.loc["NeurSTT", ("(b) raw", col)] == pytest.approx(0.6)
    assert t.values.loc["NeurSTT", ("(c) ratio:0.5", col)] == pytest.approx(0.7)
    assert t.values.loc["IPI", ("(a) paper's", col)] == pytest.approx(0.8)  # a baseline stays raw in (a)
    assert t.values.loc["STT", ("(c) ratio:0.5", "AUC_tau_FPR")] == pytest.approx(0.002)
    assert (t.status == "ok").all().all()
    assert any("2 sequence(s)" in n and "daub/sequence1, daub/sequence2" in n for n in t.notes)


def test_ranks_and_the_paragraph_name_the_changes():
    t = _tables(_run())["sensitivity_ranks"]
    assert t.info.loc["NeurSTT", "AUC(FPR,TPR)"] == "1 / 3 / 3"
    assert t.info.loc["IPI", "AUC(τ,FPR)"] == "2 / 1 / 2"  # lower is better: ranked the other way round
    assert t.info.loc["STT", "AUC_ODP"] == "3 / 2 / 1"
    assert t.info.loc["NeurSTT", "AUC_SNPR"] == "1 / 1 / 1"
    text = t.notes[0]
    assert text.startswith("Ranks (a / b / c) change in 7 of 8 AUCs.")
    assert "AUC(τ,FPR): IPI 2 / 1 / 2, STT 3 / 2 / 1, NeurSTT 1 / 3 / 3 (best: a: NeurSTT; b: IPI; c: STT)" in text
    assert text.endswith("Unchanged: AUC_SNPR.")


def test_no_change_is_said_so():
    rows = []
    for method, q in (("neurstt", 0.9), ("ipi", 0.5)):
        for rule in (None, "ratio:0.5") + (("chunk-max:0.4",) if method == "neurstt" else ()):
            rows += job(method, SEQS[0], q, rule)
    t = _tables(rows)["sensitivity_ranks"]
    assert t.notes[0] == "No ranking changes between the scorings a / b / c: every method keeps its rank in every AUC."


def test_ties_on_the_printed_value_share_a_rank():
    rows = []
    for method, q in (("neurstt", 0.9), ("ipi", 0.90001), ("stt", 0.5)):
        for rule in (None, "ratio:0.5") + (("chunk-max:0.4",) if method == "neurstt" else ()):
            rows += job(method, SEQS[0], q, rule)
    t = _tables(rows)["sensitivity_ranks"]
    assert t.info.loc["NeurSTT", "AUC(FPR,TPR)"] == t.info.loc["IPI", "AUC(FPR,TPR)"] == "1 / 1 / 1"
    assert t.info.loc["STT", "AUC(FPR,TPR)"] == "3 / 3 / 3"


def test_authors_rule_matches_any_chunk_length():
    assert split_protocol("tensoristd@1+bin(chunk-max:0.4,40)") == ("tensoristd@1", "chunk-max:0.4,40")
    assert split_protocol("clean:norm=sequence@1") == ("clean:norm=sequence@1", None)
    assert is_authors_rule("neurstt", "chunk-max:0.4,40") and is_authors_rule("3dstpm", "chunk-max:0.5")
    assert not is_authors_rule("neurstt", "chunk-max:0.5") and not is_authors_rule("ipi", "chunk-max:0.4")
    t = _tables(_run(neural_rule="chunk-max:0.4,40"))["sensitivity_auc3d"]
    assert t.values.loc["NeurSTT", ("(a) paper's", "AUC_FPR_TPR")] == pytest.approx(0.9)


def test_a_neural_method_without_its_authors_rule_is_missing_in_a():
    t = _tables(_run(neural_rule="fixed:0.1"))["sensitivity_auc3d"]
    assert (t.status.loc["NeurSTT", "(a) paper's"] == "missing").all()
    assert (t.status.loc["NeurSTT", "(b) raw"] == "ok").all()
    assert any("No rows binarised by their authors' rule for NeurSTT" in n for n in t.notes)


def test_a_sequence_missing_under_one_scoring_leaves_that_cell_empty():
    t = _tables(_run(drop=("stt", "ratio:0.5", SEQS[1])))["sensitivity_auc3d"]
    assert (t.status.loc["STT", "(c) ratio:0.5"] == "missing").all()  # not a mean over fewer sequences
    assert (t.status.loc["STT", "(b) raw"] == "ok").all()


def test_failed_job_shows_failed_and_other_common_rules_are_named():
    rows = _run()
    rows += [r for m in ("neurstt", "ipi", "stt") for s in SEQS for r in job(m, s, 0.5, "fixed:0.3")]
    rows += job("pstnn", SEQS[0], 0.5, status="failed")
    rows += [r for rule in ("ratio:0.5", "fixed:0.3") for s in SEQS for r in job("pstnn", s, 0.5, rule)]
    t = _tables(rows)["sensitivity_auc3d"]
    assert (t.status.loc["PSTNN"] == "failed").all()  # the failed job recorded no protocol: every scoring
    assert any("Other rules every method was scored with (not shown): fixed:0.3." in n for n in t.notes)


def test_runs_scored_one_way_have_no_such_section():
    assert sensitivity_tables(normalize(make_results())) == []
    raw_only = [r for m, q in (("ipi", 0.8), ("stt", 0.7)) for r in job(m, SEQS[0], q)]
    assert sensitivity_tables(frame(raw_only)) == []


def test_rendered_like_the_other_tables(tmp_path):
    tables = _tables(_run())
    md = render_markdown(tables["sensitivity_auc3d"])
    assert "| (a) paper's AUC(FPR,TPR) ↑ |" in md and "| **0.9000** |" in md
    tex = render_latex(tables["sensitivity_auc3d"])
    assert r"\multicolumn{8}{c}{(c) ratio:0.5}" in tex and r"\resizebox" in tex
    ranks_tex = render_latex(tables["sensitivity_ranks"])
    assert r"NeurSTT & 1 / 3 / 3" in ranks_tex and r"AUC($\tau$,FPR)" in ranks_tex
    assert render_csv(tables["sensitivity_ranks"]).splitlines()[1].startswith("IPI,2 / 1 / 2,")
    out = tmp_path / "run"
    out.mkdir()
    pd.DataFrame(_run()).to_csv(out / "results.csv", index=False)
    report = write_report(out, formats="md,tex", figures=False)
    assert {"sensitivity_auc3d", "sensitivity_ranks"} <= set(report.tables)
    index = (out / "report" / "index.md").read_text()
    assert "### Protocol sensitivity: rank of each method per AUC under a / b / c" in index


def test_the_shipped_configs_score_each_method_the_three_ways():
    from istdbench.runners.config import load_config

    full, subset = load_config("daub-protocols"), load_config("daub-protocols-subset")
    rules = {m.name: m.binarize or full.binarize for m in full.methods}
    assert rules["neurstt"] == ("none", "chunk-max:0.4", "ratio:0.5")
    assert rules["3dstpm"] == ("none", "chunk-max:0.5", "ratio:0.5")
    assert {rules[m] for m in ("tophat", "mpcm", "ipi", "pstnn", "stt")} == {("none", "ratio:0.5")}
    assert {(m.name, m.preset) for m in full.methods} >= {("stt", "tensoristd"), ("neurstt", "paper")}
    assert {r for b in full.sequences for r in b.refs} == {f"daub/sequence{i}" for i in range(1, 9)}
    assert [b.frames for b in full.sequences] == [(1, 80)]
    assert set(subset.methods) == set(full.methods) - {m for m in full.methods if m.name == "3dstpm"}
    assert subset.binarize == full.binarize


def test_per_scoring_tables_keep_values_and_marks():
    from istdbench.reports.sensitivity import per_scoring

    parts = per_scoring(_tables(_run())["sensitivity_auc3d"])
    assert [p.key for p in parts] == ["sensitivity_auc3d_a", "sensitivity_auc3d_b", "sensitivity_auc3d_c"]
    assert parts[1].title.endswith(": (b) raw") and parts[1].values.shape == (3, 8)
    assert parts[1].values.loc["IPI", ("", "AUC_FPR_TPR")] == pytest.approx(0.8)
    assert "| IPI | **0.8000** |" in render_markdown(parts[1])
