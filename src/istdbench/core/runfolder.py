"""The run folder: every file name of a run's output, in one place.

A run folder ``OUT`` holds::

    OUT/manifest.json        marks the folder as istdbench's (a run refuses other non-empty folders)
    OUT/run.json             the last run: its config, its jobs, whether it finished
    OUT/results.csv          every stored row (columns: istdbench.core.schema.ROW_COLUMNS)
    OUT/jobs/<key>/job.json  one job's metadata (method, sequence, data hash, environment)
    OUT/jobs/<key>/rows.csv  its result rows
    OUT/jobs/<key>/maps.npz  its maps: ``target`` (and ``background``), or an image set's
                             per-image arrays (istdbench.core.io.image_set_arrays)
    OUT/jobs/<key>/curves.npz its 3-D ROC curves (istdbench.metrics.roc3d.CURVE_KEYS)

The store writes them, and ``detect -o``, ``evaluate``, the reports and the
golden check read them through these names.
"""

from __future__ import annotations

from pathlib import Path

MANIFEST = "manifest.json"
RUN_INFO = "run.json"
RESULTS = "results.csv"
JOBS_DIR = "jobs"
JOB_META = "job.json"
JOB_ROWS = "rows.csv"
JOB_MAPS = "maps.npz"
JOB_CURVES = "curves.npz"


def job_folder(out: str | Path, key: str) -> Path:
    """The folder of job ``key`` in run folder ``out``."""
    return Path(out) / JOBS_DIR / key
