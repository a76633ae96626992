"""The 3DSTPM real-data tables in docs/ must be the ones the committed result CSVs give."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("stpm3d_csv", "label"),
    [("quality_daub_stpm3d.csv", None), ("quality_daub_stpm3d_lr1e-3.csv", "3DSTPM lr 1e-3")],
)
def test_docs_3dstpm_table_matches_the_result_csvs(stpm3d_csv: str, label: str | None, benchmark_script):
    script = benchmark_script("table_stpm3d")
    loaded = script.load(script.RESULTS / stpm3d_csv, script.RESULTS / "quality_daub_neurstt_stt.csv")
    table = script.markdown(*loaded, label=label or script.DEFAULT_LABEL)
    page = (ROOT / "docs" / "methods" / "stpm3d.md").read_text()
    missing = [line for line in table.splitlines() if line and line not in page]
    assert not missing, f"docs/methods/stpm3d.md lacks these lines of `python benchmarks/table_stpm3d.py`: {missing}"
