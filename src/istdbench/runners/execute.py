"""Running one task where it is scheduled: load, add noise, detect, evaluate; never raise for a job's failure.

This is the only code a worker (a loky process or a Dask worker) runs. It gets
references, loads the data itself, and returns plain results; the calling
process writes them to the store, so workers need no access to the output
folder. A method or metric that raises turns into a failure row that names
the error type and message, and the run goes on.

An image-set job's maps are stored as ``istdbench detect -o`` writes them
(`istdbench.core.io.image_set_arrays`: ``target/<name>``, ``names``, ``meta``);
a job with derived ground truth (``gt``) is scored against masks grown from
the clean data's points (before any noise), the maps being shared.
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
from istdbench.core.types import Detection, ImageSet, ImageSetDetection, Sequence

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
    det: Detection | ImageSetDetection | None = None
    at: dict[int, Detection] = {}  # the fit's maps at each checkpoint its jobs score
    with thread_limit(task.threads):
        try:
            clean = load_job_data(job, task.data_root)
            seq = add_noise(clean, job)
            method = create_method(job.method, job.preset, dict(job.overrides), job.device, task.state_dir)
            marks = sorted({j.checkpoint for j in task.jobs if j.checkpoint is not None})
            if marks:
                at = method.detect_checkpoints(seq, marks)
                det = at[max(at)]
            else:
                det = method.detect(seq)
            if task.state_dir is not None:  # the detection is complete: its fit state has served
                shutil.rmtree(task.state_dir, ignore_errors=True)
        except Exception as exc:  # a job's failure is a result, not a crash of the run
            log.debug("job %s failed", job.describe(), exc_info=True)
            elapsed = time.perf_counter() - start
            return [_failed(j, exc, env, elapsed, det, task) for j in task.jobs]
        outcomes = []
        truths: dict[str, Sequence | ImageSet] = {"": seq}
        for j in task.jobs:
            try:
                if j.gt not in truths:
                    truths[j.gt] = derived_truth(clean, seq, j.gt)
                scored = det if j.checkpoint is None else at[j.checkpoint]
                outcomes.append(_evaluated(j, truths[j.gt], scored, env, task))
            except Exception as exc:
                log.debug("evaluating %s failed", j.describe(), exc_info=True)
                outcomes.append(_failed(j, exc, env, 0.0, det, task))
    elapsed = time.perf_counter() - start
    for out in outcomes:
        out.seconds = elapsed
    return outcomes


def prepare_sequence(job: Job, data_root: str | None) -> Sequence | ImageSet:
    """Load the job's sequence (or image set) by reference, check it is the data planned, crop it, add its noise."""
    return add_noise(load_job_data(job, data_root), job)


def load_job_data(job: Job, data_root: str | None) -> Sequence | ImageSet:
    """The job's sequence (cropped) or image set as planned (a changed data hash is an error), without noise."""
    from istdbench.datasets.catalog import load_image_set, load_sequence

    from .jobs import crop_sequence

    if job.is_image_set:
        seq: Sequence | ImageSet = load_image_set(job.ref, data_root, job.split or None)
    else:
        seq = load_sequence(job.ref, data_root=data_root, frames=job.frames)
    if seq.provenance.data_hash != job.data_hash:
        raise DataError(
            f"sequence {job.ref!r} changed since the run was planned (data hash {seq.provenance.data_hash!r}, "
            f"expected {job.data_hash!r}); run again to re-plan."
        )
    return seq if job.is_image_set else crop_sequence(seq, job.crop)


def add_noise(seq: Sequence | ImageSet, job: Job) -> Sequence | ImageSet:
    """``seq`` with the job's noise added (planning allows noise on sequences only)."""
    if job.noise == "none":
        return seq
    from istdbench.datasets.noise import apply_noise

    return apply_noise(seq, job.noise, job.seed)


def derived_truth(clean: Sequence | ImageSet, seq: Sequence | ImageSet, gt: str) -> Sequence | ImageSet:
    """``seq`` (the data as detected on) with the masks ``gt`` grows from the clean data's points."""
    from istdbench.datasets.derived import with_derived_masks

    return dataclasses.replace(seq, masks=with_derived_masks(clean, gt).masks)


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


def _evaluated(
    job: Job, seq: Sequence | ImageSet, det: Detection | ImageSetDetection, env: dict[str, Any], task: Task
) -> JobOutcome:
    from istdbench.metrics.evaluate import evaluate_full

    images = isinstance(det, ImageSetDetection)
    result = evaluate_full(det if images else det.target, seq, protocol=job.protocol, threshold=job.threshold)
    curves = result.roc.curves() if result.roc is not None else None
    base = _base_row(job, env, det)
    rows = [
        {**base, "metric": name, "value": float(v), "status": "ok", "error": ""} for name, v in result.metrics.items()
    ]
    maps = None
    if task.maps != "none" and images:
        from istdbench.core.io import image_set_arrays

        maps = image_set_arrays(det, seq, job.preset, backgrounds=task.maps == "all")
    elif task.maps != "none":
        maps = {"target": det.target, "frames": np.asarray(seq.provenance.frame_numbers, dtype=np.int64)}
        if task.maps == "all" and det.background is not None:
            maps["background"] = det.background
    return JobOutcome(job=job, rows=rows, meta=_meta(job, det, task.data_root), maps=maps, curves=curves)


def _failed(
    job: Job,
    exc: BaseException,
    env: dict[str, Any],
    elapsed: float,
    det: Detection | ImageSetDetection | None,
    task: Task,
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


def _base_row(job: Job, env: dict[str, Any], det: Detection | ImageSetDetection | None) -> dict[str, Any]:
    n_frames, height, width = job.shape  # an image set: its images count as frames; sizes differ (left empty)
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
        "checkpoint": "" if job.checkpoint is None else job.checkpoint,
        "n_frames": n_frames,
        "height": "" if job.is_image_set else height,
        "width": "" if job.is_image_set else width,
        "gt": job.gt,
        **env,
    }


def _meta(job: Job, det: Detection | ImageSetDetection | None, data_root: str | None) -> dict[str, Any]:
    meta: dict[str, Any] = {"job": dataclasses.asdict(job), "data_root": data_root}
    if det is not None:
        meta.update(config=det.config, runtime_s=det.runtime_s, diagnostics=det.diagnostics)
    return meta
