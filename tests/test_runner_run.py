"""End-to-end runs on tiny synthetic data: caching, failures, the CLI and the golden comparison."""

from __future__ import annotations

import errno
import json
import os

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from test_runner_helpers import register_test_methods, unregister_test_methods, write_config

from istdbench.cli import main
from istdbench.runners.config import parse_config
from istdbench.runners.env import ENV_COLUMNS
from istdbench.runners.golden import cli as golden_cli
from istdbench.runners.golden import compare_tables, read_table, write_golden
from istdbench.runners.runner import run
from istdbench.runners.store import ROW_COLUMNS, StoreError

TINY = [{"refs": ["synthetic:h=24,w=24,t=4,seed=0", "synthetic:h=24,w=32,t=3,seed=1"]}]
AUCS = {"AUC_FPR_TPR", "AUC_tau_TPR", "AUC_tau_FPR", "AUC_BS", "AUC_TD", "AUC_TDBS", "AUC_ODP", "AUC_SNPR"}


@pytest.fixture
def test_methods():
    register_test_methods()
    yield
    unregister_test_methods()


def _stamps(out) -> dict[str, int]:
    return {p.parent.name: p.stat().st_mtime_ns for p in (out / "jobs").glob("*/rows.csv")}


def test_run_stores_table_maps_curves_and_reuses_them(tmp_path):
    cfg = parse_config({"methods": ["tophat", "mpcm"], "sequences": TINY, "threads": 1})
    out = tmp_path / "out"
    first = run(cfg, out)
    assert (first.total, first.reused, first.ran, first.failed) == (4, 0, 4, 0)
    table = pd.read_csv(out / "results.csv", keep_default_na=False)
    assert list(table.columns) == list(ROW_COLUMNS)
    assert set(table["status"]) == {"ok"} and AUCS | {"IoU", "F1", "Pd", "Fa"} <= set(table["metric"])
    assert set(table["dataset"]) == {"synthetic"} and set(table["protocol"]) == {"tensoristd@1"}
    assert (table["threads"] == 1).all() and (table["istdbench_version"] != "").all()
    assert set(ENV_COLUMNS) <= set(table.columns)
    for key in table["job_key"].unique():
        with np.load(out / "jobs" / key / "maps.npz") as z:
            assert z["target"].dtype == np.float32 and z["frames"][0] == 1
        with np.load(out / "jobs" / key / "curves.npz") as z:
            assert z["tpr"].shape == z["fpr"].shape == z["thresholds"].shape == z["tau"].shape
    run_info = json.loads((out / "run.json").read_text())
    assert len(run_info["jobs"]) == 4 and run_info["finished_utc"]

    stamps = _stamps(out)
    second = run(cfg, out)
    assert (second.reused, second.ran) == (4, 0)
    assert _stamps(out) == stamps
    pd.testing.assert_frame_equal(pd.read_csv(out / "results.csv", keep_default_na=False), table)

    changed = parse_config({"methods": {"tophat": {}, "mpcm": {"set": {"radii": [1, 2]}}}, "sequences": TINY})
    third = run(changed, out)
    assert (third.reused, third.ran) == (2, 2)
    after = _stamps(out)
    assert all(after[k] == v for k, v in stamps.items())  # tophat's jobs untouched; old mpcm jobs kept on disk
    assert len(after) == 6
    assert pd.read_csv(out / "results.csv")["job_key"].nunique() == 4  # the table holds this run's jobs only

    fresh = run(cfg, out, resume=False)
    assert (fresh.reused, fresh.ran) == (0, 4)
    assert all(_stamps(out)[k] != v for k, v in stamps.items())


def test_failed_job_is_recorded_and_the_run_goes_on(tmp_path, test_methods):
    cfg = parse_config({"methods": ["broken", "tophat"], "sequences": TINY, "threads": 1})
    out = tmp_path / "out"
    summary = run(cfg, out)
    assert (summary.ran, summary.failed) == (4, 2)
    table = pd.read_csv(out / "results.csv", keep_default_na=False)
    failed = table[table["status"] == "failed"]
    assert len(failed) == 2 and set(failed["method"]) == {"broken"}
    assert (failed["metric"] == "").all() and (failed["value"] == "").all()
    assert (failed["error"] == "ArithmeticError: planted failure").all()
    assert (table.loc[table["method"] == "tophat", "status"] == "ok").all()
    assert run(cfg, out).ran == 0  # a recorded failure is not retried by default
    assert run(cfg, out, retry_failed=True).ran == 2


def test_cli_run_dry_run_and_errors(tmp_path, test_methods):
    cfg = write_config(tmp_path / "tiny.toml", "tophat = {}\nsleepy = { set = { delay = 0.0 } }")
    out = tmp_path / "out"
    runner = CliRunner()
    dry = runner.invoke(main, ["run", str(cfg), "-o", str(out), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "4 jobs, 0 stored" in dry.output and not out.exists()
    res = runner.invoke(main, ["run", str(cfg), "-o", str(out), "--threads", "1"])
    assert res.exit_code == 0, res.output
    assert "4 jobs: 0 reused" in res.output
    again = runner.invoke(main, ["run", str(cfg), "-o", str(out), "--resume"])
    assert "4 jobs: 4 reused" in again.output

    bad = write_config(tmp_path / "bad.toml", "ipj = {}")
    res = runner.invoke(main, ["run", str(bad), "-o", str(tmp_path / "o2")])
    assert res.exit_code == 2 and "Unknown method 'ipj'" in res.output and "Known:" in res.output
    assert not (tmp_path / "o2").exists()  # nothing is created for a config that does not validate
    broken = tmp_path / "broken.toml"
    broken.write_text("[methods\n")
    res = runner.invoke(main, ["run", str(broken), "-o", str(tmp_path / "o3")])
    assert res.exit_code == 2 and "not valid TOML" in res.output
    res = runner.invoke(main, ["run", str(cfg), "-o", str(out), "--device", "cuda:7"])
    assert res.exit_code == 2 and "cuda:7" in res.output


def test_disk_full_mid_run_keeps_stored_results(tmp_path, monkeypatch):
    cfg = parse_config({"methods": ["tophat"], "sequences": TINY, "threads": 1})
    out = tmp_path / "out"
    run(cfg, out)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file() and p.name != ".lock"}
    calls = {"n": 0}
    real = os.replace

    def flaky(src, dst):  # run.json is written; the first job's files fail
        calls["n"] += 1
        if calls["n"] > 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(src, dst)

    monkeypatch.setattr("istdbench.core.io.os.replace", flaky)
    changed = parse_config({"methods": {"tophat": {"set": {"radius": 3}}}, "sequences": TINY})
    with pytest.raises(StoreError, match=r"No space left on device. Free some space"):
        run(changed, out)
    monkeypatch.undo()
    for path, data in before.items():
        if path.name != "run.json":
            assert path.read_bytes() == data, path
    assert not list((out / "jobs").glob(".staging-*"))
    assert run(cfg, out).ran == 0


def test_golden_round_trip_and_diff(tmp_path):
    cfg = parse_config({"methods": ["tophat"], "sequences": TINY, "threads": 1})
    out = tmp_path / "out"
    run(cfg, out)
    golden = write_golden(out, tmp_path / "golden.csv")
    assert compare_tables(read_table(out), read_table(golden)) == []
    res = CliRunner().invoke(golden_cli, ["write", str(out), str(tmp_path / "copy.csv")])
    assert res.exit_code == 0 and (tmp_path / "copy.csv").read_bytes() == golden.read_bytes()
    res = CliRunner().invoke(golden_cli, ["compare", str(out), str(golden)])
    assert res.exit_code == 0 and "matches" in res.output
    table = pd.read_csv(golden, keep_default_na=False)
    table.loc[0, "value"] += 1e-3
    table = table.drop(index=1)
    table.to_csv(golden, index=False)
    diff = compare_tables(read_table(out), read_table(golden), atol=1e-6)
    assert len(diff) == 2
    assert any(line.startswith("~ value differs") for line in diff)
    assert any(line.startswith("+ not in golden") for line in diff)
    res = CliRunner().invoke(golden_cli, ["compare", str(out), str(golden)])
    assert res.exit_code == 1 and "2 difference(s)" in res.output
