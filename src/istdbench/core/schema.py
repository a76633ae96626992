"""The long results table's columns: written by the runner's store, read by the reports.

One row per (job, metric); a failed job has one row with metric "" and value NaN.
Kept in the core so that both sides share one definition.
"""

from __future__ import annotations

ROW_COLUMNS: tuple[str, ...] = (
    "job_key",
    "method",
    "preset",
    "label",
    "config_hash",
    "dataset",
    "sequence",
    "noise",
    "seed",
    "protocol",
    "threshold",
    "metric",
    "value",
    "status",
    "error",
    "runtime_s",
    "s_per_frame",
    "device",
    "n_params",
    "n_frames",
    "height",
    "width",
    "istdbench_version",
    "git_commit",
    "python",
    "numpy",
    "torch",
    "cpu",
    "gpu",
    "threads",
    "resumed_steps",
    "gt",
    "checkpoint",
)
"""Every column, in the order the CSV files store them.

``label``: the run config's name for the method variant (empty: none given).
``resumed_steps``: optimiser steps a neural fit took from saved state (0: it
ran uninterrupted; empty for methods without a resumable fit); its
``runtime_s`` counts every attempt.
``gt``: the ground truth scored against: empty for the data's own annotations
(masks, else points), else the derived-mask rule (``derived:peak-fraction=...``).
``checkpoint``: for the rows of a fit checkpoint (run config ``checkpoints``),
the optimiser steps after which the maps were scored; empty for final results,
the only rows report tables of results show.
"""

ADDED_COLUMNS: dict[str, str] = {"label": "", "resumed_steps": "", "gt": "", "checkpoint": ""}
"""Columns added after the first store schema, with the value a job stored before them reads as."""

FLOAT_COLUMNS: tuple[str, ...] = ("value", "runtime_s", "s_per_frame")
INT_COLUMNS: tuple[str, ...] = (
    "seed",
    "n_params",
    "n_frames",
    "height",
    "width",
    "threads",
    "resumed_steps",
    "checkpoint",
)
TEXT_COLUMNS: tuple[str, ...] = tuple(c for c in ROW_COLUMNS if c not in FLOAT_COLUMNS + INT_COLUMNS)
