"""The results a report shows: the jobs of the output folder's last run, read from its job folders.

``run.json`` names the last run's config and job keys as soon as that run
starts, and each job folder holds its rows from the moment it finished, so a
table rebuilt from them shows exactly what is stored for that config: nothing
of an earlier config that used the folder, and whatever a killed run finished.
`RunState` says how many of the planned jobs are missing or failed and whether
the run finished. A folder without a job list in ``run.json`` (written by
hand or by an older suite) is read from its ``results.csv``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from istdbench.core.errors import DataError
from istdbench.core.runfolder import RUN_INFO

from .results import load_results, normalize


@dataclass(frozen=True)
class RunState:
    """How complete the last run of an output folder is."""

    config: str
    planned: int
    stored: int
    failed: int
    finished: bool

    @property
    def missing(self) -> int:
        return self.planned - self.stored

    @property
    def complete(self) -> bool:
        return self.finished and self.missing == 0

    def describe(self) -> str:
        """One sentence: ``run config 'quick': 40 jobs planned, 12 stored (1 failed), 28 missing; unfinished``."""
        failed = f" ({self.failed} failed)" if self.failed else ""
        text = f"run config {self.config!r}: {self.planned} jobs planned, {self.stored} stored{failed}"
        text += f", {self.missing} missing" if self.missing else ""
        return text + ("" if self.finished else "; the run did not finish (it is still running or was stopped)")


def read_run_info(out: Path) -> dict[str, Any] | None:
    """``OUT/run.json`` as a dict, or None when it is absent or unreadable."""
    try:
        info = json.loads((out / RUN_INFO).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return info if isinstance(info, dict) else None


def planned_keys(info: dict[str, Any] | None) -> list[str] | None:
    """The job keys ``run.json`` lists, or None when it lists none."""
    jobs = (info or {}).get("jobs")
    if not isinstance(jobs, list) or not jobs:
        return None
    keys = [j.get("key") for j in jobs if isinstance(j, dict)]
    return [k for k in keys if isinstance(k, str) and k] or None


def load_run_results(out: str | Path) -> tuple[pd.DataFrame, RunState | None]:
    """The rows of the last run's stored jobs and its state (None when the folder names no job list).

    Raises
    ------
    DataError
        If nothing can be shown: no job of the run is stored yet, or there is no results table.
    """
    from istdbench.runners.store import ResultStore

    out = Path(out)
    info = read_run_info(out) if out.is_dir() else None
    keys = planned_keys(info)
    if keys is None:
        return load_results(out), None
    store = ResultStore(out)
    status = {k: store.status(k) for k in keys}
    stored = [k for k in keys if status[k] is not None]
    name = str(((info or {}).get("config") or {}).get("name", "?"))
    state = RunState(
        config=name,
        planned=len(keys),
        stored=len(stored),
        failed=sum(s == "failed" for s in status.values()),
        finished=bool((info or {}).get("finished_utc")),
    )
    if not stored:
        raise DataError(f"No job of {state.describe()} is stored in {out} yet: nothing to report.")
    try:
        return normalize(store.rows(stored)), state
    except (ValueError, pd.errors.ParserError) as exc:
        raise DataError(f"Cannot read the job rows under {out / 'jobs'}: {exc}") from None
