"""README's 3DSTPM real-data table must be the one the committed result CSVs give."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _table_script():
    spec = importlib.util.spec_from_file_location("table_stpm3d", ROOT / "benchmarks" / "table_stpm3d.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_3dstpm_table_matches_the_result_csvs():
    script = _table_script()
    table = script.markdown(
        *script.load(script.RESULTS / "quality_daub_stpm3d.csv", script.RESULTS / "quality_daub_neurstt_stt.csv")
    )
    readme = (ROOT / "README.md").read_text()
    missing = [line for line in table.splitlines() if line and line not in readme]
    assert not missing, f"README lacks these lines of `python benchmarks/table_stpm3d.py`: {missing}"
