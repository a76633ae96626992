"""The benchmarks' CSV writer keeps an existing file's header, so older result files stay readable."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def _append_rows():
    spec = importlib.util.spec_from_file_location("result_rows", ROOT / "benchmarks" / "result_rows.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.append_rows


def test_new_file_gets_columns_and_later_rows_fit_the_existing_header(tmp_path: Path):
    append_rows = _append_rows()
    out = tmp_path / "rows.csv"
    append_rows(out, [{"clip": "a", "auc": 0.5}], ["clip", "auc", "runtime_s"])
    append_rows(out, [{"clip": "b", "auc": 0.75, "lr": 1e-3}], ["clip", "auc", "runtime_s", "lr"])
    table = pd.read_csv(out)
    assert list(table.columns) == ["clip", "auc", "runtime_s"]
    assert table["clip"].tolist() == ["a", "b"]
    assert table["auc"].tolist() == [0.5, 0.75]
    assert table["runtime_s"].isna().all()
