"""The results store in an output folder: per-job folders that appear whole or not at all.

Layout of ``OUT``::

    manifest.json              suite name, store schema and suite version (written first)
    run.json                   the last run: config, job keys, environment
    results.csv                the long table of the last run's jobs (rebuilt from the job folders)
    jobs/<job_key>/rows.csv    the job's metric rows (or one failure row)
    jobs/<job_key>/maps.npz    target (and background) maps, 1-based frame numbers
    jobs/<job_key>/curves.npz  thresholds, tau, tpr, fpr of the 3-D ROC
    jobs/<job_key>/job.json    the job's description
    fit-state/<detection_key>/ resumable state of a neural fit still running or killed (local runs;
                               removed once its detection is complete)

A job's files are written into a staging folder ``jobs/.staging-*`` and the
folder is renamed into place in one step, so a kill at any moment leaves either
the complete job folder or none (staging leftovers are never read and are
removed by the next run). A job counts as done only when ``jobs/<key>/rows.csv``
exists. A write that fails (disk full, permissions) removes its staging folder
and raises `StoreError`; what was stored before is untouched.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import json
import logging
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from istdbench import __version__
from istdbench.core.errors import IstdbenchError
from istdbench.core.io import atomic_write_bytes
from istdbench.core.runfolder import JOB_CURVES, JOB_MAPS, JOB_META, JOB_ROWS, JOBS_DIR, MANIFEST, RESULTS, RUN_INFO
from istdbench.core.schema import ADDED_COLUMNS, ROW_COLUMNS

log = logging.getLogger(__name__)

SUITE = "istdbench"
STORE_SCHEMA = 1
STAGING_PREFIX = ".staging-"


class StoreError(IstdbenchError):
    """The output folder cannot be used or written; nothing stored before was changed."""


class ResultStore:
    """Read and write the job folders of one output folder (see the module docstring for the layout)."""

    def __init__(self, out: str | Path) -> None:
        self.out = Path(out)
        self.jobs_dir = self.out / JOBS_DIR

    # --- opening -------------------------------------------------------------------------------------
    @classmethod
    def open(cls, out: str | Path) -> ResultStore:
        """Open ``out`` for writing, creating it (and its manifest) if new.

        Raises
        ------
        StoreError
            If ``out`` is not a directory, is a non-empty folder without a manifest, holds results of
            another store schema or suite version, or cannot be written.
        """
        store = cls(out)
        store._check_or_create()
        return store

    def _check_or_create(self) -> None:
        out = self.out
        if out.exists() and not out.is_dir():
            raise StoreError(f"Output path {out} exists and is not a folder.")
        manifest = out / MANIFEST
        if manifest.is_file():
            self._check_manifest(manifest)
        elif out.is_dir() and any(out.iterdir()):
            raise StoreError(
                f"Output folder {out} is not empty and holds no istdbench {MANIFEST}; "
                "refusing to write into it. Choose a new or empty folder."
            )
        else:
            payload = {
                "suite": SUITE,
                "store_schema": STORE_SCHEMA,
                "istdbench_version": __version__,
                "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }
            self._guard(manifest, lambda: _write_json(manifest, payload))
        self._guard(self.jobs_dir, lambda: self.jobs_dir.mkdir(exist_ok=True))
        if not os.access(self.jobs_dir, os.W_OK | os.X_OK):
            raise StoreError(f"Cannot write results to {self.jobs_dir}: permission denied.")

    def _check_manifest(self, path: Path) -> None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise StoreError(f"Cannot read {path}: {exc}. Is {self.out} an istdbench results folder?") from None
        found = (data.get("suite"), data.get("store_schema"), data.get("istdbench_version"))
        if found != (SUITE, STORE_SCHEMA, __version__):
            raise StoreError(
                f"Output folder {self.out} holds results of {found[0]} {found[2]} (store schema {found[1]}); "
                f"this is {SUITE} {__version__} (store schema {STORE_SCHEMA}). Nothing was changed; "
                "use a new output folder."
            )

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold an exclusive lock on the folder, so that two runs never write into it at once (POSIX only)."""
        try:
            import fcntl
        except ImportError:  # no advisory locks on this platform: rely on the user
            yield
            return
        path = self.out / ".lock"
        fh = self._guard(path, lambda: open(path, "a+"))
        try:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                raise StoreError(f"Another istdbench run is writing into {self.out}; wait for it to finish.") from None
            yield
        finally:
            fh.close()

    # --- reading -------------------------------------------------------------------------------------
    def job_dir(self, key: str) -> Path:
        return self.jobs_dir / key

    def status(self, key: str) -> str | None:
        """``"ok"`` or ``"failed"`` for a completed job, None if it has no trusted rows."""
        path = self.job_dir(key) / JOB_ROWS
        try:
            with open(path, newline="", encoding="utf-8") as fh:
                first = next(csv.DictReader(fh), None)
        except (OSError, UnicodeDecodeError, csv.Error):
            return None
        status = None if first is None else first.get("status")
        return status if status in ("ok", "failed") else None

    def rows(self, keys: list[str]) -> pd.DataFrame:
        """The stored rows of the given completed jobs, in the given order (missing jobs are skipped)."""
        records: list[dict[str, str]] = []
        for key in keys:
            path = self.job_dir(key) / JOB_ROWS
            if path.is_file():  # the csv module: one pandas parse per job made large reports slow
                with path.open(newline="", encoding="utf-8") as fh:
                    records.extend(csv.DictReader(fh))
        if not records:
            return pd.DataFrame(columns=list(ROW_COLUMNS))
        table = pd.DataFrame.from_records(records)
        return table.assign(**{c: v for c, v in ADDED_COLUMNS.items() if c not in table})[list(ROW_COLUMNS)]

    # --- writing -------------------------------------------------------------------------------------
    def write_job(
        self,
        key: str,
        rows: list[dict[str, Any]],
        meta: dict[str, Any],
        maps: dict[str, np.ndarray] | None = None,
        curves: dict[str, np.ndarray] | None = None,
    ) -> Path:
        """Store one finished job: stage every file, then rename the folder into place."""
        final = self.job_dir(key)
        staging = self.jobs_dir / f"{STAGING_PREFIX}{key}-{os.getpid()}"
        retired = self.jobs_dir / f"{STAGING_PREFIX}old-{key}-{os.getpid()}"

        def stage() -> None:
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir()
            if maps:
                atomic_write_bytes(staging / JOB_MAPS, lambda fh: np.savez_compressed(fh, **maps))
            if curves:
                atomic_write_bytes(staging / JOB_CURVES, lambda fh: np.savez(fh, **curves))
            _write_json(staging / JOB_META, meta)
            table = pd.DataFrame(rows, columns=list(ROW_COLUMNS))
            atomic_write_bytes(staging / JOB_ROWS, lambda fh: fh.write(table.to_csv(index=False).encode()))
            if final.exists():  # a recomputed job (--no-resume): move the old folder aside in one step first
                os.rename(final, retired)
            os.rename(staging, final)

        try:
            self._guard(final, stage)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
            shutil.rmtree(retired, ignore_errors=True)
        return final

    def write_results(self, keys: list[str]) -> Path:
        """Rebuild ``results.csv`` from the rows of ``keys`` (the current run's jobs), atomically."""
        table = self.rows(keys)
        path = self.out / RESULTS
        self._guard(path, lambda: atomic_write_bytes(path, lambda fh: fh.write(table.to_csv(index=False).encode())))
        return path

    def write_run_info(self, info: dict[str, Any]) -> None:
        path = self.out / RUN_INFO
        self._guard(path, lambda: _write_json(path, info))

    @property
    def fit_state_dir(self) -> Path:
        """Where local runs keep the resumable state of unfinished neural fits, one folder per detection."""
        return self.out / "fit-state"

    def clean_fit_state(self) -> None:
        """Forget all saved fit state (a run that recomputes every job must not resume old fits)."""
        shutil.rmtree(self.fit_state_dir, ignore_errors=True)

    def tidy_fit_state(self) -> None:
        """Remove the fit-state folder once no unfinished fit is left in it."""
        with contextlib.suppress(OSError):
            self.fit_state_dir.rmdir()  # fails, as it should, while anything is left

    def clean_staging(self) -> int:
        """Remove staging folders left by a killed run; returns how many were removed."""
        stale = [p for p in self.jobs_dir.glob(f"{STAGING_PREFIX}*") if p.is_dir()]
        for path in stale:
            shutil.rmtree(path, ignore_errors=True)
        if stale:
            log.info("removed %d unfinished job folder(s) left by an interrupted run", len(stale))
        return len(stale)

    def _guard(self, path: Path, action):
        try:
            return action()
        except OSError as exc:
            raise StoreError(_write_message(path, exc)) from exc


def _write_message(path: Path, exc: OSError) -> str:
    reason = exc.strerror or str(exc)
    if exc.errno == errno.ENOSPC:
        hint = " Free some space and run again: finished jobs are kept and will not be recomputed."
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        hint = " Check the folder's permissions or choose another output folder."
    else:
        hint = " Results stored before are intact."
    return f"Cannot write {path}: {reason}.{hint}"


def _write_json(path: Path, payload: dict[str, Any]) -> None:
    text = json.dumps(payload, indent=2, sort_keys=True, default=str)
    atomic_write_bytes(path, lambda fh: fh.write(text.encode()))
