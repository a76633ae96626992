"""The benchmarks' CSV writer keeps an existing file's header, so older result files stay readable."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def test_new_file_gets_columns_and_later_rows_fit_the_existing_header(tmp_path: Path, benchmark_script):
    append_rows = benchmark_script("result_rows").append_rows
    out = tmp_path / "rows.csv"
    append_rows(out, [{"clip": "a", "auc": 0.5}], ["clip", "auc", "runtime_s"])
    append_rows(out, [{"clip": "b", "auc": 0.75, "lr": 1e-3}], ["clip", "auc", "runtime_s", "lr"])
    table = pd.read_csv(out)
    assert list(table.columns) == ["clip", "auc", "runtime_s"]
    assert table["clip"].tolist() == ["a", "b"]
    assert table["auc"].tolist() == [0.5, 0.75]
    assert table["runtime_s"].isna().all()
