"""``istdbench run CONFIG --plan``: the jobs of a config, how many are stored, and what the rest will cost.

Work is counted per detection (jobs that differ only in how they are scored
share one), in *megavoxel-steps*: frames x height x width / 1e6, times the
optimiser steps of iterative fits (the method's ``checkpoint_parameter``), so
one rate per method covers every clip size and iteration count. The rate comes
from the detections of the same method and preset already stored in the
output folder (their median seconds per megavoxel-step, on the machine and
threads they ran with), else from the
cost model below, measured on a 2-core CPU (``benchmarks/README.md``) and
stated as such; methods with neither get no estimate. Both are linear
extrapolations: they ignore per-job overheads and, for STT, that its cost per
frame grows with the clip's window count.
"""

from __future__ import annotations

import csv
import json
import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from istdbench.core.registry import create_method, get_method
from istdbench.core.runfolder import JOB_META, JOB_ROWS

from .config import RunConfig
from .jobs import Job, plan_jobs
from .store import ResultStore

COST_MODEL: dict[tuple[str, str | None], tuple[float, str]] = {
    ("tophat", None): (0.037, "top-hat, 0.0024 s/frame at 256x256"),
    ("mpcm", None): (0.053, "MPCM paper, 0.0035 s/frame at 256x256"),
    ("mpcm", "tensoristd"): (0.12, "MPCM tensoristd, 0.0078 s/frame at 256x256"),
    ("ipi", None): (21.0, "IPI paper, about 1.4 s/frame at 256x256"),
    ("ipi", "tensoristd"): (1.5, "IPI tensoristd, 0.097 s/frame at 256x256"),
    ("pstnn", None): (1.1, "PSTNN paper, 0.071 s/frame at 256x256"),
    ("pstnn", "tensoristd"): (3.2, "PSTNN tensoristd, 0.21 s/frame at 256x256"),
    ("stt", None): (660.0, "STT paper, about 47 s per 7-frame window, 74 windows per 80 frames at 256x256"),
    ("stt", "tensoristd"): (29.0, "STT tensoristd, 1.92 s/frame on 80 frames at 256x256"),
    ("asttv-ntla", None): (5.9, "ASTTV-NTLA, 0.39 CPU-s/frame at 256x256"),
    ("npstt", None): (41.0, "NPSTT, 2.9 CPU-s per 7-frame window, 74 windows per 80 frames at 256x256"),
    ("neurstt", None): (0.018, "NeurSTT paper, 0.095 s/step at 256x256x80 on 2 threads"),
    ("3dstpm", None): (0.28, "3DSTPM, 1.48 s/step at 256x256x80 on 1 thread"),
    ("nftdgstv", None): (84.0, "NFTDGSTV, about 5.5 s/frame at 256x256 on a loaded machine"),
    ("ctstc", None): (14.0, "CTSTC, about 0.93 s/frame at 256x256 on a loaded machine"),
}
"""(method, preset or None for any) -> (seconds per megavoxel-step, what was measured), CPU, benchmarks/README.md."""


@dataclass
class MethodPlan:
    """One method's part of a plan (all its presets and variants together)."""

    method: str
    jobs: int = 0
    stored: int = 0
    detections_to_run: int = 0
    work_to_run: float = 0.0  # megavoxel-steps
    seconds: float | None = 0.0  # estimated on one worker; None: some detection has no basis
    basis: str = ""  # where the rates come from, per preset


@dataclass
class Plan:
    """The jobs of a config against an output folder, with the estimate of what is left."""

    config: str
    out: Path
    jobs: list[Job]
    status: dict[str, str | None]  # job key -> "ok", "failed" or None (not stored)
    methods: dict[str, MethodPlan] = field(default_factory=dict)
    n_workers: int = 1

    @property
    def stored(self) -> int:
        return sum(s is not None for s in self.status.values())

    @property
    def seconds(self) -> float | None:
        """Estimated remaining seconds on one worker (None when some method has no basis)."""
        parts = [m.seconds for m in self.methods.values()]
        return None if any(p is None for p in parts) else sum(parts)

    def describe(self, list_jobs: bool = True) -> str:
        lines = []
        if list_jobs:
            for job in self.jobs:
                status = self.status[job.key] or "to run"
                label = f" '{job.label}'" if job.label else ""
                lines.append(f"{job.key}  {status:<7} {job.describe()}{label} {job.protocol_version}")
        detections = len({j.detection_key for j in self.jobs})
        lines.append(
            f"run config {self.config!r} -> {self.out}: {len(self.jobs)} jobs ({detections} detections), "
            f"{self.stored} stored, {len(self.jobs) - self.stored} to run"
        )
        header = ("method", "jobs", "stored", "to run", "detections to run", "estimate", "basis")
        rows = [
            (
                m.method,
                str(m.jobs),
                str(m.stored),
                str(m.jobs - m.stored),
                str(m.detections_to_run),
                "-" if m.seconds is None else format_seconds(m.seconds),
                m.basis,
            )
            for m in self.methods.values()
        ]
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        for row in [header, *rows]:
            lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        total = self.seconds
        if total is None:
            lines.append("remaining: unknown (a method has neither stored timings nor a cost model)")
        else:
            workers = f"; about {format_seconds(total / self.n_workers)} on {self.n_workers} workers"
            lines.append(
                f"remaining: about {format_seconds(total)} on one worker{workers if self.n_workers > 1 else ''}"
            )
        return "\n".join(lines)


def plan_run(
    cfg: RunConfig,
    out: str | Path,
    *,
    data_root: str | Path | None = None,
    device: str | None = None,
    retry_failed: bool = False,
    n_workers: int = 1,
) -> Plan:
    """Plan ``cfg`` against the output folder ``out`` (which may not exist yet) and estimate what is left."""
    jobs = plan_jobs(cfg, data_root=data_root, device=device)
    store = ResultStore(out)
    status = {j.key: store.status(j.key) for j in jobs}
    rates = measured_rates(stored_timings(store))
    plan = Plan(config=cfg.name, out=Path(out), jobs=jobs, status=status, n_workers=max(1, n_workers))
    pending: dict[str, Job] = {}
    for job in jobs:
        entry = plan.methods.setdefault(job.method, MethodPlan(job.method))
        entry.jobs += 1
        entry.stored += status[job.key] is not None
        if status[job.key] is None or (retry_failed and status[job.key] == "failed"):
            pending.setdefault(job.detection_key, job)
    bases: dict[str, dict[str, set[str]]] = {}  # method -> basis -> presets
    for job in pending.values():
        entry = plan.methods[job.method]
        amount = work(job.method, job.shape, _config(job))
        entry.detections_to_run += 1
        entry.work_to_run += amount
        rate, basis = _rate(job.method, job.preset, rates)
        bases.setdefault(job.method, {}).setdefault(basis, set()).add(job.preset)
        entry.seconds = None if rate is None or entry.seconds is None else entry.seconds + rate * amount
    for entry in plan.methods.values():
        given = bases.get(entry.method, {})
        entry.basis = "; ".join(f"{', '.join(sorted(p))}: {b}" for b, p in sorted(given.items())) or "all stored"
    return plan


def _rate(method: str, preset: str, rates: dict[tuple[str, str], tuple[float, int]]) -> tuple[float | None, str]:
    """Seconds per megavoxel-step of one preset: measured in the store, else the cost model, else None."""
    if (method, preset) in rates:
        rate, n = rates[method, preset]
        return rate, f"measured on {n} stored detection(s), {rate:.3g} s per megavoxel-step"
    model = COST_MODEL.get((method, preset)) or COST_MODEL.get((method, None))
    if model is None:
        return None, "no stored timing and no cost model"
    return model[0], f"cost model, {model[0]:.3g} s per megavoxel-step ({model[1]}; CPU)"


def work(method: str, shape: tuple[int, int, int], config: dict[str, Any]) -> float:
    """Megavoxel-steps of one detection: frames x height x width / 1e6, times its optimiser steps."""
    steps_field = get_method(method).checkpoint_parameter
    steps = config.get(steps_field, 1) if steps_field else 1
    return math.prod(shape) / 1e6 * float(steps)


_CONFIGS: dict[tuple[str, str, tuple], dict[str, Any]] = {}


def _config(job: Job) -> dict[str, Any]:
    key = (job.method, job.preset, job.overrides)
    if key not in _CONFIGS:
        _CONFIGS[key] = create_method(job.method, job.preset, dict(job.overrides)).config.to_dict()
    return _CONFIGS[key]


@dataclass(frozen=True)
class StoredTiming:
    """The runtime of one stored detection and the work it did."""

    method: str
    preset: str
    detection_key: str
    seconds: float
    work: float


def stored_timings(store: ResultStore) -> list[StoredTiming]:
    """One timing per detection stored (ok) in ``store``, from its jobs' ``rows.csv`` and ``job.json``."""
    found: dict[str, StoredTiming] = {}
    if not store.jobs_dir.is_dir():
        return []
    for folder in sorted(p for p in store.jobs_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
        timing = _timing(folder)
        if timing is not None:
            found.setdefault(timing.detection_key, timing)
    return list(found.values())


def _timing(folder: Path) -> StoredTiming | None:
    try:
        meta = json.loads((folder / JOB_META).read_text(encoding="utf-8"))
        first = (folder / JOB_ROWS).read_text(encoding="utf-8").splitlines()[:2]
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    rows = list(csv.DictReader(first))
    job, config = meta.get("job") or {}, meta.get("config") or {}
    if not rows or rows[0].get("status") != "ok" or not job.get("detection_key"):
        return None
    try:
        seconds = float(rows[0]["runtime_s"])
        shape = tuple(int(rows[0][k]) for k in ("n_frames", "height", "width"))
        amount = work(job["method"], shape, config)
    except (KeyError, ValueError, TypeError, LookupError):
        return None
    if not (math.isfinite(seconds) and seconds > 0 and amount > 0):
        return None
    return StoredTiming(job["method"], str(job.get("preset", "")), job["detection_key"], seconds, amount)


def measured_rates(timings: Iterable[StoredTiming]) -> dict[tuple[str, str], tuple[float, int]]:
    """(method, preset) -> (median seconds per megavoxel-step, number of detections it rests on)."""
    per: dict[tuple[str, str], list[float]] = {}
    for t in timings:
        per.setdefault((t.method, t.preset), []).append(t.seconds / t.work)
    return {k: (statistics.median(v), len(v)) for k, v in per.items()}


def format_seconds(seconds: float) -> str:
    """``42 s``, ``3.5 min``, ``2.1 h``, ``4.3 days``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"
