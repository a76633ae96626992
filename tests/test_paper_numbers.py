"""The seed paper's published numbers (package data): completeness, entries checked against the text."""

from __future__ import annotations

import re

import pytest

from istdbench.core.errors import UnknownNameError
from istdbench.reports.paper_numbers import COLUMNS, TABLES, load_paper_numbers


def test_every_table_is_complete():
    df = load_paper_numbers()
    assert tuple(df.columns) == COLUMNS and set(df["table"]) == set(TABLES)
    rows = {  # table -> (rows, numbers per row) as the paper prints them
        "table3": (22, 2),
        "table4": (5, 4),
        "table5": (4, 2),
        "table6": (2, 2),
        "table7": (7, 2),
        "table8": (13, 8),
        "table9": (13, 20),
        "table10": (13, 10),
        "table11": (2, 2),
    }
    for table, (n_rows, per_row) in rows.items():
        sub = df[df["table"] == table]
        assert len(sub) == n_rows * per_row, table
        assert sub.groupby(["group", "row"]).ngroups == n_rows, table
    assert not df.duplicated(["table", "group", "row", "sequence", "metric"]).any()


def test_entries_against_the_text():
    df = load_paper_numbers()

    def value(table, row, metric, sequence=None, group=None):
        sel = (df["table"] == table) & (df["row"] == row) & (df["metric"] == metric)
        if sequence is not None:
            sel &= df["sequence"] == sequence
        if group is not None:
            sel &= df["group"] == group
        (v,) = df.loc[sel, "value"]
        return v

    assert value("table8", "NeurSTT", "AUC_tau_FPR") == 0.0050
    assert value("table8", "3DSTPM", "AUC_tau_FPR") == 0.0050
    assert value("table8", "MPCM", "AUC_TDBS") == 0.3988
    assert value("table8", "NeurSTT", "AUC_SNPR") == 191.6919
    assert value("table9", "NeurSTT", "IoU", "mean of Seqs. 1-9") == pytest.approx(0.8282)
    assert value("table9", "3DSTPM", "F1", "Seq.8") == 0.0
    assert value("table10", "STT", "s_per_frame", "Seq.9") == 29.706
    assert value("table4", "3DSTPM", "n_params") == pytest.approx(5.269e6)
    assert value("table11", "NeurSTT", "n_params", "720x480") == pytest.approx(2.117e6)
    assert value("table3", "L=80, lambda=0.05, phi=5e-5, kappa=100, k_max=2000", "IoU", group="II") == 0.387
    t7 = load_paper_numbers("table7")
    assert t7.loc[(t7["variant"] == "subtract, no TV") & (t7["metric"] == "IoU"), "printed"].item() == "28.68"
    assert set(load_paper_numbers("table4")["variant"]) == {"r_d=1", "r_d=1/2", "paper", "r_d=1/8", "3DSTPM"}


def test_rows_that_contradict_their_table_are_flagged():
    df = load_paper_numbers()
    flagged = df[df["note"].str.startswith("as printed")]
    assert {("table9", "STT", "Seq.1"), ("table9", "ASTTV-NTLA", "Seq.5")} <= set(
        zip(flagged["table"], flagged["row"], flagged["sequence"], strict=True)
    )
    assert {"AUC_ODP", "AUC_TDBS"} <= set(flagged.loc[flagged["row"] == "CTSTC", "metric"])


def test_every_printed_number_is_in_its_table_of_the_text(data_root):
    """Each number appears, as printed, in the block of its table in the paper's text file."""
    path = data_root.parent / "paper" / "neurstt-wu-et-al.txt"
    if not path.is_file():
        pytest.skip(f"the seed paper's text is not at {path}")
    lines = path.read_text(encoding="utf-8").splitlines()
    df = load_paper_numbers()
    for table in TABLES:
        n = table.removeprefix("table")
        start = next(i for i, line in enumerate(lines) if line.startswith(f"Table {n}:"))
        block = [re.sub(r"<[^>]+>|\$|\^|\{|\}", "", line) for line in lines[start : start + 30] if "\t" in line]
        for rec in df[df["table"] == table].itertuples():
            assert any(rec.printed in line for line in block), (table, rec.row, rec.metric, rec.printed)


def test_the_ablation_configs_name_every_row_of_tables_3_to_7():
    from istdbench.runners.config import load_config

    for n in range(3, 8):
        cfg = load_config(f"ablation-table{n}")
        labels = {m.label for m in cfg.methods}
        assert labels == set(load_paper_numbers(f"table{n}")["variant"]), n


def test_unknown_table():
    with pytest.raises(UnknownNameError, match="Did you mean 'table8'"):
        load_paper_numbers("table08")
