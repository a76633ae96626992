"""Running one task where it is scheduled: load, add noise, detect, evaluate; never raise for a job's failure.

This is the only code a worker (a loky process or a Dask worker) runs. It gets
references, loads the data itself, and returns plain results; the calling
process writes them to the store, so workers need no access to the output
folder. A method or metric that raises turns into a failure row that names
the error type and message, and the run goes on.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import shutil
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from istdbench.core.errors import DataError
from istdbench.core.registry import create_method
from istdbench.core.types import Detection, Sequence

from .env import environment
from .jobs import Job, Task

log = logging.getLogger(__name__)


@dataclass
class JobOutcome:
    """What a worker hands back for one job: rows for the table plus the arrays to store."""

    job: Job
    rows: list[dict[str, Any]]
    meta: dict[str, Any]
    maps: dict[str, np.ndarray] | None = None
    curves: dict[str, np.ndarray] | None = None
    seconds: float = 0.0
    error: str = ""


def run_task(task: Task) -> list[JobOutcome]:
    """Detect once for the task's sequence and evaluate it under each job's protocol."""
    start = time.perf_counter()
    env = environment(task.threads)
    job = task.first
    det: Detection | None = None
    with thread_limit(task.threads):
        try:
            seq = prepare_sequence(job, task.data_root)
            method = create_method(job.method, job.preset, dict(job.overrides), job.device, task.state_dir)
            det = method.detect(seq)
            if task.state_dir is not None:  # the detection is complete: its fit state has served
                shutil.rmtree(task.state_dir, ignore_errors=True)
        except Exception as exc:  # a job's failure is a result, not a crash of the run
            log.debug("job %s failed", job.describe(), exc_info=True)
            elapsed = time.perf_counter() - start
            return [_failed(j, exc, env, elapsed, det, task) for j in task.jobs]
        outcomes = []
        for j in task.jobs:
            try:
                outcomes.append(_evaluated(j, seq, det, env, task))
            except Exception as exc:
                log.debug("evaluating %s failed", j.describe(), exc_info=True)
                outcomes.append(_failed(j, exc, env, 0.0, det, task))
    elapsed = time.perf_counter() - start
    for out in outcomes:
        out.seconds = elapsed
    return outcomes


def prepare_sequence(job: Job, data_root: str | None) -> Sequence:
    """Load the job's sequence by reference, check it is the data planned, and add its noise."""
    from istdbench.datasets.catalog import load_sequence

    seq = load_sequence(job.ref, data_root=data_root, frames=job.frames)
    if seq.provenance.data_hash != job.data_hash:
        raise DataError(
            f"sequence {job.ref!r} changed since the run was planned (data hash {seq.provenance.data_hash!r}, "
            f"expected {job.data_hash!r}); run again to re-plan."
        )
    if job.noise != "none":
        from istdbench.datasets.noise import apply_noise

        seq = apply_noise(seq, job.noise, job.seed)
    return seq


@contextlib.contextmanager
def thread_limit(n: int, torch: bool = True) -> Iterator[None]:
    """Limit BLAS/OpenMP and torch intra-op threads to ``n`` while a job runs (restored afterwards).

    ``torch=False`` leaves torch alone unless it is already imported (commands that do not need it
    should not pay for importing it).
    """
    import sys

    from threadpoolctl import threadpool_limits

    module = None
    if torch or "torch" in sys.modules:
        import torch as module
    before = module.get_num_threads() if module is not None else None
    if module is not None:
        module.set_num_threads(n)
    try:
        with threadpool_limits(limits=n):
            yield
    finally:
        if module is not None and before is not None:
            module.set_num_threads(before)


def _evaluated(job: Job, seq: Sequence, det: Detection, env: dict[str, Any], task: Task) -> JobOutcome:
    from istdbench.metrics.evaluate import evaluate_full

    result = evaluate_full(det.target, seq, protocol=job.protocol, threshold=job.threshold)
    curves = result.roc.curves()
    base = _base_row(job, env, det)
    rows = [
        {**base, "metric": name, "value": float(v), "status": "ok", "error": ""} for name, v in result.metrics.items()
    ]
    maps = None
    if task.maps != "none":
        maps = {"target": det.target, "frames": np.asarray(seq.provenance.frame_numbers, dtype=np.int64)}
        if task.maps == "all" and det.background is not None:
            maps["background"] = det.background
    return JobOutcome(job=job, rows=rows, meta=_meta(job, det, task.data_root), maps=maps, curves=curves)


def _failed(
    job: Job, exc: BaseException, env: dict[str, Any], elapsed: float, det: Detection | None, task: Task
) -> JobOutcome:
    message = f"{type(exc).__name__}: {exc}"
    row = {**_base_row(job, env, det), "metric": "", "value": math.nan, "status": "failed", "error": message}
    trace = "".join(traceback.format_exception(exc))
    meta = {**_meta(job, det, task.data_root), "error": message, "traceback": trace}
    return JobOutcome(job=job, rows=[row], meta=meta, seconds=elapsed, error=message)


class WorkerDied(RuntimeError):
    """The process running a job ended without an answer (a crash in native code, ``os._exit``, a kill)."""


def died(task: Task, how: str, elapsed: float) -> list[JobOutcome]:
    """Failure outcomes for every job of a task whose worker process died (``how``: the signal or exit code)."""
    exc = WorkerDied(f"the worker process running this job {how}; no result was returned")
    env = environment(task.threads)
    outcomes = []
    for job in task.jobs:
        outcome = _failed(job, exc, env, elapsed, None, task)
        outcome.meta["traceback"] = ""
        outcome.meta["worker_exit"] = how
        outcomes.append(outcome)
    return outcomes


def _base_row(job: Job, env: dict[str, Any], det: Detection | None) -> dict[str, Any]:
    n_frames, height, width = job.shape
    runtime = det.runtime_s if det is not None else math.nan
    return {
        "job_key": job.key,
        "method": job.method,
        "preset": job.preset,
        "label": job.label,
        "config_hash": job.config_hash,
        "dataset": job.dataset,
        "sequence": job.sequence,
        "noise": job.noise,
        "seed": job.seed,
        "protocol": job.protocol_version,
        "threshold": job.threshold,
        "runtime_s": runtime,
        "s_per_frame": runtime / n_frames,
        "device": det.device if det is not None else job.device,
        "n_params": det.n_params if det is not None and det.n_params is not None else "",
        "resumed_steps": det.diagnostics.get("resumed_steps", "") if det is not None else "",
        "n_frames": n_frames,
        "height": height,
        "width": width,
        **env,
    }


def _meta(job: Job, det: Detection | None, data_root: str | None) -> dict[str, Any]:
    meta: dict[str, Any] = {"job": dataclasses.asdict(job), "data_root": data_root}
    if det is not None:
        meta.update(config=det.config, runtime_s=det.runtime_s, diagnostics=det.diagnostics)
    return meta
