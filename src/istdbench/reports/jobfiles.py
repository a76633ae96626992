"""Finding and reading the per-job files a run leaves beside its results table.

Figures need more than the table: the ROC curves (``curves.npz``), the raw
maps (``maps.npz``) and the job's description (``job.json``: sequence
reference, frame range, noise). The table's ``job_key`` column leads to them.
A missing or unreadable file is logged and skipped, so a report is still
written from whatever is there.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from istdbench.core.io import NPZ_ERRORS
from istdbench.core.runfolder import JOB_CURVES, JOB_MAPS, JOB_META, JOBS_DIR, job_folder
from istdbench.core.sorting import natural_sorted

from .tables import Setting

log = logging.getLogger(__name__)

CURVE_KEYS = ("thresholds", "tau", "tpr", "fpr")


@dataclass(frozen=True)
class JobRef:
    """One representative job of a (variant, sequence) cell and where its files are."""

    variant: str
    sequence: str
    job_key: str
    folder: Path


def representative_jobs(df: pd.DataFrame, out: Path, setting: Setting | None, noise: str = "none") -> list[JobRef]:
    """Per (variant, sequence) at one noise setting, the successful job of the lowest seed.

    ``df`` must carry the ``variant`` column. With ``setting`` given, only jobs
    of that protocol and threshold qualify (their curves differ by protocol).
    """
    ok = df[(df["status"] == "ok") & (df["noise"] == noise)]
    if setting is not None:
        ok = ok[(ok["protocol"] == setting.protocol) & (ok["threshold"] == setting.threshold)]
        ok = ok[ok["gt"] == setting.gt] if "gt" in ok else ok
    jobs = ok.drop_duplicates("job_key").sort_values(["variant", "sequence", "seed", "job_key"])
    first = jobs.drop_duplicates(["variant", "sequence"])
    refs = [JobRef(r.variant, r.sequence, r.job_key, job_folder(out, r.job_key)) for r in first.itertuples()]
    order = {s: i for i, s in enumerate(natural_sorted(set(first["sequence"])))}
    return sorted(refs, key=lambda j: (order[j.sequence], j.variant))


def _load_npz(path: Path, keys: tuple[str, ...]) -> dict[str, np.ndarray] | None:
    if not path.is_file():
        log.warning("missing %s: its figure panel is left out", path)
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = [k for k in keys if k not in data.files]
            if missing:
                log.warning("%s lacks %s: its figure panel is left out", path, ", ".join(missing))
                return None
            return {k: np.asarray(data[k]) for k in data.files}
    except NPZ_ERRORS as exc:  # an empty, truncated or foreign file
        log.warning("cannot read %s (%s): its figure panel is left out", path, exc)
        return None


def load_curves(job: JobRef) -> dict[str, np.ndarray] | None:
    """``thresholds, tau, tpr, fpr`` of a job's 3-D ROC, or None when unavailable."""
    return _load_npz(job.folder / JOB_CURVES, CURVE_KEYS)


def load_job_maps(job: JobRef) -> dict[str, np.ndarray] | None:
    """``target`` (and ``background``, ``frames`` where stored) of a job, or None when unavailable."""
    return _load_npz(job.folder / JOB_MAPS, ("target",))


def load_job_meta(job: JobRef) -> dict[str, Any] | None:
    """The job's ``job.json`` as a dict, or None when missing or malformed."""
    path = job.folder / JOB_META
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        log.warning("cannot read %s (%s): the job's sequence cannot be reloaded", path, exc)
        return None
    return meta if isinstance(meta, dict) else None


def sequence_request(meta: dict[str, Any]) -> tuple[str, tuple[int, int] | None, str | None] | None:
    """``(reference, frame range, data root)`` to reload a job's sequence, from its ``job.json``.

    The runner stores the job under ``"job"`` with fields ``ref`` and
    ``frames``; a flat dict, and ``sequence_ref`` or ``sequence`` as the
    reference, are accepted too. ``data_root`` is used where recorded.
    """
    root = meta.get("data_root")
    meta = meta["job"] if isinstance(meta.get("job"), dict) else meta
    root = root or meta.get("data_root")
    ref = meta.get("ref") or meta.get("sequence_ref") or meta.get("sequence")
    if not isinstance(ref, str) or not ref:
        return None
    frames = meta.get("frames")
    span = (int(frames[0]), int(frames[1])) if isinstance(frames, list | tuple) and len(frames) == 2 else None
    return ref, span, root if isinstance(root, str) and root else None


def variant_configs(df: pd.DataFrame, out: Path) -> dict[str, dict[str, Any]]:
    """Per method variant, the resolved parameters its first stored job recorded (``job.json`` ``config``).

    A committed run (``docs/runs/NAME``: the results table and its config, no job folders) has none.
    """
    configs: dict[str, dict[str, Any]] = {}
    if not (out / JOBS_DIR).is_dir():
        return configs
    jobs = df.drop_duplicates("job_key").sort_values(["variant", "status", "job_key"], ascending=[True, False, True])
    for row in jobs.itertuples():
        if row.variant in configs:
            continue
        meta = load_job_meta(JobRef(row.variant, row.sequence, row.job_key, job_folder(out, row.job_key)))
        if meta is not None and isinstance(meta.get("config"), dict):
            configs[row.variant] = meta["config"]
    return configs
