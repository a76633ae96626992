"""Replication report: the paper's published numbers beside ours, on hand-made results whose numbers are known."""

from __future__ import annotations

import pandas as pd
import pytest
from reports_fake import make_results
from scorings_fake import frame, job

from istdbench.reports import write_report
from istdbench.reports.paper_numbers import load_paper_numbers
from istdbench.reports.render_latex import render_latex
from istdbench.reports.render_markdown import render_markdown
from istdbench.reports.replication import SEQUENCE_MAP, replication_tables
from istdbench.reports.results import normalize

DAUB = ("daub/sequence1", "daub/sequence2")
SYN = "synthetic/h=32,w=32,t=80,seed=0"


def _leaderboard() -> list[dict]:
    """neurstt scored raw (0.5) and by its authors' rule (0.9); ipi raw (0.6); tophat, which the paper lacks."""
    rows = []
    for seq in DAUB:
        rows += job("neurstt", seq, 0.5, n_params=300_000, s_per_frame=0.4)
        rows += job("neurstt", seq, 0.9, "chunk-max:0.4", n_params=300_000, s_per_frame=0.4)
        rows += job("ipi", seq, 0.6, s_per_frame=1.0)
        rows += job("tophat", seq, 0.3)
    return rows


def _tables(rows) -> dict:
    return {t.key: t for t in replication_tables(frame(rows))}


def _published(table: str, variant: str, metric: str, sequence: str) -> float:
    df = load_paper_numbers(table)
    sel = (df["variant"] == variant) & (df["metric"] == metric) & (df["sequence"] == sequence)
    return float(df.loc[sel, "value"].iloc[0])


def test_table8_sets_ours_beside_the_published_number_scored_as_the_paper():
    t = _tables(_leaderboard())["replication_table8"]
    row = t.info.loc["neurstt / AUC(FPR,TPR)"]
    assert row["Paper"] == "Table 8, NeurSTT, mean of Seqs. 1-9"
    assert (row["Published"], row["Ours"], row["Ours - published"]) == ("0.9849", "0.9000", "-0.0849")
    assert row["Our scoring"] == "tensoristd@1+bin(chunk-max:0.4)"  # the authors' binary maps, not the raw 0.5
    ipi = t.info.loc["ipi / AUC(τ,FPR)"]
    assert (ipi["Published"], ipi["Ours"], ipi["Our scoring"]) == ("0.00620", "0.00400", "tensoristd@1")
    assert ipi["Our data"] == "2 sequence(s) (ours): daub/sequence1, daub/sequence2; 40 frames; 256x256"
    assert len(t.info) == 16 and not any(i.startswith("tophat") for i in t.info.index)
    notes = " ".join(t.notes)
    assert "nine sequences" in notes and "labelled as ours" in notes and "authors' rules" in notes


def test_daub_clips_are_compared_with_the_papers_seqs_1_to_6_where_it_prints_them():
    tables = _tables(_leaderboard())
    assert "replication_table9" not in tables  # no IoU/F1 without masks
    t = tables["replication_table10"]
    row = t.info.loc["neurstt / s_per_frame"]
    seqs = [_published("table10", "neurstt", "s_per_frame", f"Seq.{k}") for k in range(1, 7)]
    assert row["Paper"] == "Table 10, NeurSTT (DL Multi.), mean of Seqs. 1-6 (computed)"
    assert row["Published"] == f"{sum(seqs) / 6:.4g}" and row["Ours"] == "0.4" and row["Our scoring"] == "cpu"
    assert not t.deterministic
    notes = " ".join(t.notes)
    assert "GeForce 3090" in notes and "MATLAB R2021b" in notes and "(computed)': the mean" in notes
    params = tables["replication_table11"].info
    assert list(params.index) == ["neurstt / n_params"]  # at 256x256 only: ours has no 720x480 frames
    assert params.iloc[0][["Published", "Ours", "Ours - published"]].tolist() == ["317,000", "300,000", "-17,000"]
    assert SEQUENCE_MAP == {}  # Table 1 identifies none of our clips (see the docstring)


def test_ious_use_the_papers_threshold_and_flag_contradicted_numbers():
    rows = job("ipi", SYN, 0.5, extra={"IoU": 0.3, "F1": 0.45}, size=(32, 32), n_frames=80)
    rows += job("stt", DAUB[0], 0.5, extra={"IoU": 0.5, "F1": 0.6})
    other = job("ipi", SYN, 0.5, extra={"IoU": 0.9, "F1": 0.9}, size=(32, 32), n_frames=80)
    rows += [{**r, "threshold": "fixed:0.1", "job_key": "other"} for r in other]  # not the paper's rule
    t = _tables(rows)["replication_table9"]
    ipi = t.info.loc["ipi / IoU"]
    assert ipi["Paper"] == "Table 9, IPI, mean of Seqs. 1-9"  # synthetic data: the printed average
    assert (ipi["Published"], ipi["Ours"], ipi["Ours - published"]) == ("0.2791", "0.3000", "0.0209")
    assert ipi["Our scoring"] == "tensoristd@1, threshold ratio:0.5"
    stt = t.info.loc["stt / IoU"]
    expected = sum(_published("table9", "stt", "IoU", f"Seq.{k}") for k in range(1, 7)) / 6
    assert stt["Published"] == f"{expected:.4f} *"  # Seq. 1's printed IoU/F1 pair contradicts itself
    notes = " ".join(t.notes)
    assert "pixel masks" in notes and "centre points" in notes and "*: a printed number" in notes


def test_ablation_labels_join_tables_3_to_7():
    rows = []
    for label, iou in (("L=10", 0.1), ("paper", 0.2)):
        rows += job("neurstt", SYN, 0.5, "chunk-max:0.4", label=label, extra={"IoU": iou, "F1": 0.3}, size=(32, 32))
    tables = _tables(rows)
    assert "replication_table8" not in tables  # labelled variants are ablation rows, not the leaderboard
    t3 = tables["replication_table3"].info
    row = t3.loc["neurstt [L=10] / IoU"]
    assert row["Published"] == "0.5190" and row["Ours"] == "0.1000" and row["Ours - published"] == "-0.4190"
    assert row["Paper"].startswith("Table 3, L=10, lambda=0.20") and "(I)" in row["Paper"]
    assert list(t3.index).count("neurstt [paper] / IoU") == 1  # Table 3 prints its published row in each group
    assert {"replication_table4", "replication_table5", "replication_table6", "replication_table7"} <= set(tables)


def test_a_neural_method_scored_only_raw_gets_no_auc_comparison():
    rows = [r for seq in DAUB for r in job("neurstt", seq, 0.5)]
    tables = _tables(rows)
    assert "replication_table8" not in tables and "replication_table10" in tables


def test_nothing_to_compare_gives_no_section(tmp_path):
    assert replication_tables(normalize(make_results())) == []
    out = tmp_path / "run"
    out.mkdir()
    pd.DataFrame(_leaderboard()).to_csv(out / "results.csv", index=False)
    report = write_report(out, formats="md,tex", figures=False)
    assert {"replication_table8", "replication_table10", "replication_table11"} <= set(report.tables)
    md = render_markdown(_tables(_leaderboard())["replication_table8"])
    assert "| neurstt / AUC(FPR,TPR) | Table 8, NeurSTT, mean of Seqs. 1-9 | 0.9849 | 0.9000 | -0.0849 |" in md
    tex = render_latex(_tables(_leaderboard())["replication_table8"])
    # its long text columns wrap (p{} columns); only what still exceeds the text width at script size is scaled
    assert r"neurstt / AUC($\tau$,FPR)" in tex and r"p{90pt}" in tex


@pytest.mark.parametrize("metric", ["IoU", "AUC_ODP"])
def test_failed_and_noisy_rows_are_not_compared(metric):
    rows = job("ipi", DAUB[0], 0.5, extra={"IoU": 0.3, "F1": 0.4})
    noisy = [{**r, "noise": "gaussian:snr=5", "job_key": "noisy", "value": 0.99} for r in rows]
    failed = job("ipi", DAUB[1], 0.5, status="failed")
    t = _tables(rows + noisy + failed)
    table = "replication_table9" if metric == "IoU" else "replication_table8"
    label = f"ipi / {metric}"
    assert t[table].info.loc[label, "Our data"].startswith("1 sequence(s) (ours): daub/sequence1;")
