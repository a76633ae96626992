"""The committed runs in docs/runs/ and the report tables the docs pages generate from them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from istdbench.core.errors import DataError
from istdbench.core.schema import ADDED_COLUMNS, ROW_COLUMNS
from istdbench.reports import write_report
from istdbench.reports.docblocks import BLOCK, regenerate, render_table
from istdbench.reports.results import load_results
from istdbench.runners.config import CONFIG_DIR, load_config

ROOT = Path(__file__).resolve().parents[1]
RUNS = sorted(p for p in (ROOT / "docs" / "runs").iterdir() if p.is_dir())
PAGES = sorted(
    p for p in [ROOT / "README.md", *(ROOT / "docs").rglob("*.md")] if BLOCK.search(p.read_text(encoding="utf-8"))
)


def test_pages_with_blocks_exist():
    names = {p.relative_to(ROOT).as_posix() for p in PAGES}
    assert {"docs/results.md", "docs/methods/stpm3d.md", "docs/networks.md"} <= names


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_docs_tables_are_the_reports_of_the_committed_runs(page: Path):
    _, stale = regenerate(page)
    assert not stale, f"{page} has stale blocks {stale}: run `python -m istdbench.reports.docblocks {page}`"


def test_a_block_is_the_file_istdbench_report_writes(tmp_path: Path):
    run = ROOT / "docs" / "runs" / "study-stpm3d-lr"
    write_report(run, formats="md", figures=False, report_dir=tmp_path / "report")
    written = (tmp_path / "report" / "tables" / "checkpoints_odp.md").read_text(encoding="utf-8")
    page = (ROOT / "docs" / "methods" / "stpm3d.md").read_text(encoding="utf-8")
    blocks = {(m["run"], m["key"]): m["body"] for m in BLOCK.finditer(page)}
    assert blocks["../runs/study-stpm3d-lr", "checkpoints_odp"] == written
    assert not (run / "report").exists()  # the committed run folder is left as it is


def test_an_edited_row_makes_its_block_stale(tmp_path: Path):
    docs = tmp_path / "docs"
    shutil.copytree(ROOT / "docs" / "runs" / "study-stpm3d-lr", docs / "runs" / "study-stpm3d-lr")
    shutil.copy(ROOT / "docs" / "methods" / "stpm3d.md", tmp_path / "page.md")
    (docs / "methods").mkdir()
    page = docs / "methods" / "stpm3d.md"
    text = (tmp_path / "page.md").read_text(encoding="utf-8")
    kept = [m for m in BLOCK.finditer(text) if m["run"] == "../runs/study-stpm3d-lr"]
    page.write_text("\n".join(m.group(0) for m in kept), encoding="utf-8")
    assert regenerate(page)[1] == []
    table = pd.read_csv(docs / "runs" / "study-stpm3d-lr" / "results.csv", dtype=str, keep_default_na=False)
    odp = (table["metric"] == "AUC_ODP") & (table["checkpoint"] == "500") & (table["label"] == "lr=1e-3")
    table.loc[odp, "value"] = "1.0"
    table.to_csv(docs / "runs" / "study-stpm3d-lr" / "results.csv", index=False)
    assert regenerate(page)[1] == ["../runs/study-stpm3d-lr checkpoints_odp"]


@pytest.mark.parametrize("run", RUNS, ids=lambda p: p.name)
def test_committed_run_is_a_results_table_of_its_shipped_config(run: Path):
    assert sorted(p.name for p in run.iterdir()) == ["README.md", "config.toml", "results.csv"]
    shipped = CONFIG_DIR / f"{run.name}.toml"
    assert (run / "config.toml").read_text() == shipped.read_text(), f"{run}/config.toml differs from {shipped}"
    header = pd.read_csv(run / "results.csv", nrows=0).columns.tolist()
    assert header == [c for c in ROW_COLUMNS if c in header]  # the store's columns, in its order
    assert set(ROW_COLUMNS) - set(header) <= set(ADDED_COLUMNS)  # a run made before a column was added lacks it
    rows = load_results(run)
    cfg = load_config(run / "config.toml")
    variants = {(m.name, m.label): set(m.checkpoints) for m in cfg.methods}
    for (method, label), group in rows.groupby(["method", "label"]):
        assert (method, label) in variants, f"{run}: rows of {method} {label!r} are not a variant of its config"
        assert set(group["checkpoint"].dropna().astype(int)) <= variants[method, label]


def test_a_block_joins_runs_and_takes_chosen_methods_from_each():
    runs = ROOT / "docs" / "runs"
    single = render_table(runs, "study-neurstt-daub", "table8_auc3d")
    assert render_table(runs, "study-neurstt-daub+study-neurstt-daub", "table8_auc3d") == single
    joined = render_table(runs, "study-neurstt-daub:neurstt+study-stpm3d-daub", "table8_auc3d")
    rows = [line.split("|")[1].strip() for line in joined.splitlines() if line.startswith("| ") and "---" not in line]
    assert sorted(rows[1:]) == ["3DSTPM (lr=1e-4)", "NeurSTT (authors)", "NeurSTT (paper)"]


def test_one_variant_from_two_runs_is_refused(tmp_path: Path):
    shutil.copytree(ROOT / "docs" / "runs" / "study-neurstt-daub", tmp_path / "a")
    table = pd.read_csv(tmp_path / "a" / "results.csv", dtype=str, keep_default_na=False)
    (tmp_path / "b").mkdir()
    table.assign(job_key=table["job_key"] + "-rerun").to_csv(tmp_path / "b" / "results.csv", index=False)
    with pytest.raises(DataError, match=r"two jobs of .* on daub/sequence1; take that method from one run only"):
        render_table(tmp_path, "a+b", "table8_auc3d")
    assert "STT" not in render_table(tmp_path, "a:neurstt+b:stt", "table8_auc3d").split("NeurSTT (paper)")[1]


def test_a_block_takes_one_preset_of_a_method():
    runs = ROOT / "docs" / "runs"
    both = render_table(runs, "study-neurstt-daub:neurstt", "table8_auc3d")
    one = render_table(runs, "study-neurstt-daub:neurstt[paper]", "table8_auc3d")
    assert "NeurSTT (authors)" in both and "NeurSTT (paper)" in both
    assert "NeurSTT (authors)" not in one and "NeurSTT" in one
