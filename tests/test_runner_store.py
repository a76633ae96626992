"""The results store: version guard, lock, atomic job folders, and write failures that lose nothing."""

from __future__ import annotations

import errno
import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from istdbench import __version__
from istdbench.runners.store import MANIFEST, ROW_COLUMNS, STORE_SCHEMA, ResultStore, StoreError


def _rows(key: str, value: float = 0.5) -> list[dict]:
    return [{c: "" for c in ROW_COLUMNS} | {"job_key": key, "metric": "AUC_ODP", "value": value, "status": "ok"}]


def _snapshot(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != ".lock"
    }


def _store_with_job(tmp_path: Path) -> ResultStore:
    store = ResultStore.open(tmp_path / "out")
    store.write_job("k1", _rows("k1"), {"job": "k1"}, maps={"target": np.ones((2, 3, 3), np.float32)})
    return store


def test_new_folder_gets_manifest_and_job_round_trips(tmp_path):
    store = _store_with_job(tmp_path)
    manifest = json.loads((tmp_path / "out" / MANIFEST).read_text())
    assert manifest["store_schema"] == STORE_SCHEMA and manifest["istdbench_version"] == __version__
    assert store.status("k1") == "ok" and store.status("k2") is None
    with np.load(store.job_dir("k1") / "maps.npz") as z:
        np.testing.assert_allclose(z["target"], 1.0, rtol=0, atol=0)
    table = store.rows(["k1", "k2"])
    assert list(table.columns) == list(ROW_COLUMNS) and table["job_key"].tolist() == ["k1"]
    store.write_results(["k1"])
    assert pd.read_csv(tmp_path / "out" / "results.csv")["value"].tolist() == [0.5]
    assert ResultStore.open(tmp_path / "out").status("k1") == "ok"  # reopening an own folder is fine


@pytest.mark.parametrize(
    ("manifest", "match"),
    [
        ({"suite": "istdbench", "store_schema": STORE_SCHEMA + 1, "istdbench_version": __version__}, "store schema"),
        ({"suite": "istdbench", "store_schema": STORE_SCHEMA, "istdbench_version": "0.0.1"}, "istdbench 0.0.1"),
        ({"suite": "other", "store_schema": 1, "istdbench_version": "1"}, "holds results of other"),
    ],
)
def test_foreign_store_is_refused_untouched(tmp_path, manifest, match):
    out = tmp_path / "out"
    (out / "jobs" / "k").mkdir(parents=True)
    (out / MANIFEST).write_text(json.dumps(manifest))
    (out / "jobs" / "k" / "rows.csv").write_text("job_key\nk\n")
    before = _snapshot(out)
    with pytest.raises(StoreError, match=rf"{match}.*Nothing was changed"):
        ResultStore.open(out)
    assert _snapshot(out) == before


def test_non_store_folders_are_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(StoreError, match=r"not empty and holds no istdbench manifest.json"):
        ResultStore.open(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    with pytest.raises(StoreError, match=r"is not a folder"):
        ResultStore.open(tmp_path / "notes.txt")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / MANIFEST).write_text("{not json")
    with pytest.raises(StoreError, match=r"Cannot read .*manifest.json"):
        ResultStore.open(tmp_path / "bad")


def test_lock_excludes_a_second_writer(tmp_path):
    store = ResultStore.open(tmp_path / "out")
    with store.lock():
        with pytest.raises(StoreError, match=r"Another istdbench run is writing"):
            with ResultStore.open(tmp_path / "out").lock():
                pass
    with store.lock():  # released
        pass


@pytest.mark.parametrize(("code", "hint"), [(errno.ENOSPC, "No space left"), (errno.EACCES, "permissions")])
def test_failed_write_keeps_stored_jobs(tmp_path, monkeypatch, code, hint):
    store = _store_with_job(tmp_path)
    store.write_results(["k1"])
    before = _snapshot(store.out)

    def refuse(src, dst):
        raise OSError(code, os.strerror(code), str(dst))

    monkeypatch.setattr("istdbench.core.io.os.replace", refuse)
    with pytest.raises(StoreError, match=rf"Cannot write .*k2.*{hint}"):
        store.write_job("k2", _rows("k2"), {"job": "k2"}, maps={"target": np.zeros((1, 2, 2), np.float32)})
    with pytest.raises(StoreError, match=rf"Cannot write .*k1.*{hint}"):  # a recompute of a stored job
        store.write_job("k1", _rows("k1", 0.9), {"job": "k1"})
    with pytest.raises(StoreError, match=rf"Cannot write .*results.csv.*{hint}"):
        store.write_results(["k1", "k2"])
    assert _snapshot(store.out) == before  # nothing half-written, nothing lost, no staging left
    assert store.status("k1") == "ok" and store.status("k2") is None


def test_permission_error_on_open(tmp_path, monkeypatch):
    monkeypatch.setattr(
        "istdbench.core.io.os.replace", lambda s, d: (_ for _ in ()).throw(PermissionError(13, "denied"))
    )
    with pytest.raises(StoreError, match=r"Cannot write .*manifest.json: denied. Check the folder's permissions"):
        ResultStore.open(tmp_path / "out")


def test_untrusted_leftovers_are_ignored_and_cleaned(tmp_path):
    store = _store_with_job(tmp_path)
    half = store.jobs_dir / ".staging-k2-123"
    half.mkdir()
    (half / "rows.csv").write_text("job_key,status\nk2,o")
    (store.jobs_dir / "k3").mkdir()
    (store.jobs_dir / "k3" / "maps.npz").write_bytes(b"PK\x03 truncated")
    (store.jobs_dir / "k4").mkdir()
    (store.jobs_dir / "k4" / "rows.csv").write_text("job_key,status\nk4,weird\n")
    assert [store.status(k) for k in ("k2", "k3", "k4")] == [None, None, None]
    assert store.clean_staging() == 1 and not half.exists()
    store.write_job("k3", _rows("k3"), {"job": "k3"})  # replaces the partial folder
    assert store.status("k3") == "ok" and not (store.jobs_dir / "k3" / "maps.npz").exists()
    assert not list(store.jobs_dir.glob(".staging-*"))
