"""The leaderboard run: plan the grid, skip what is stored, run the rest, store each job as it finishes.

Order of work, chosen so that a mistake costs nothing: the config is parsed
and every method, preset, override, sequence, noise spec and protocol is
checked *before* the output folder is touched; then the folder is opened
(manifest checked, lock taken), leftovers of a killed run are cleared, and
only jobs without trusted rows are run. ``results.csv`` is rebuilt from the
job folders at the end, so it always matches what is stored.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from istdbench.core.errors import InvalidParameterError

from .config import RunConfig, load_config
from .env import environment
from .jobs import Job, group_tasks, plan_jobs
from .parallel import default_threads, execute_tasks
from .store import ResultStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunSummary:
    """Counts of a finished run and where its table is."""

    out: Path
    results: Path
    total: int
    reused: int
    ran: int
    failed: int
    failures: tuple[str, ...] = ()  # every job of the config stored as failed (this run's and earlier ones)
    skipped: tuple[str, ...] = ()  # sequences left out as unloadable (on_bad_data = "skip")

    @property
    def exit_status(self) -> int:
        """0 when every job of the config is stored with results, 1 when some are stored as failed."""
        return 1 if self.failures else 0

    def describe(self, listed: int = 5) -> str:
        text = (
            f"{self.total} jobs: {self.reused} reused from {self.out}, {self.ran} run"
            f"{f', {self.failed} failed' if self.failed else ''}; table: {self.results}"
        )
        if self.skipped:
            text += f"\n{len(self.skipped)} sequence(s) skipped as unloadable: {', '.join(self.skipped)}"
        if not self.failures:
            return text
        earlier = len(self.failures) - self.failed
        shown = "; ".join(self.failures[:listed]) + ("; ..." if len(self.failures) > listed else "")
        stored = f" ({earlier} stored as failed before: --retry-failed reruns them)" if earlier > 0 else ""
        return f"{text}\n{len(self.failures)} job(s) failed{stored}: {shown}"


def run(
    config: RunConfig | str | Path,
    out: str | Path,
    *,
    resume: bool = True,
    retry_failed: bool = False,
    n_jobs: int = 1,
    scheduler: str | None = None,
    device: str | None = None,
    data_root: str | Path | None = None,
    threads: int | None = None,
    progress: bool | None = None,
    isolate: bool = True,
) -> RunSummary:
    """Run a config's grid into the output folder ``out``.

    Parameters
    ----------
    config : RunConfig, path or shipped config name
        What to run.
    out : path
        Output folder (created if new; see `istdbench.runners.store` for its layout).
    resume : bool
        Reuse jobs already stored in ``out`` (the default), and continue the neural fits (NeurSTT,
        3DSTPM) a killed local run left unfinished from their state under ``out/fit-state``. False
        recomputes every job from scratch; each old job folder is replaced only once its new one is complete.
    retry_failed : bool
        Also rerun jobs stored as failed (by default a failure is kept, so a rerun recomputes nothing).
    n_jobs : int
        Local worker processes (ignored with ``scheduler``).
    scheduler : str, optional
        Dask scheduler address; run on that cluster.
    device : str, optional
        Overrides the config's device for GPU-capable methods (``cpu``, ``cuda``, ``cuda:1``).
    data_root : path, optional
        Root of the catalog of real sequences (default: ``$ISTDBENCH_DATA``).
    threads : int, optional
        Threads per job (default: the config's, else cores / ``n_jobs``).
    progress : bool, optional
        Show a progress bar (default: only on a terminal).
    isolate : bool
        Run each local job in a child process, so that a crash in native code (a segfault, ``os._exit``,
        an out-of-memory kill) fails that job only (the default). False runs jobs in this process.
    """
    cfg = config if isinstance(config, RunConfig) else load_config(config)
    if n_jobs < 1:
        raise InvalidParameterError(f"--jobs must be a positive number of workers. Got {n_jobs}.")
    if threads is not None and threads < 1:
        raise InvalidParameterError(f"--threads must be a positive integer. Got {threads}.")
    threads = threads or cfg.threads or (1 if scheduler else default_threads(n_jobs))
    skipped: dict[str, str] = {}
    jobs = plan_jobs(cfg, data_root=data_root, device=device, skipped=skipped)
    store = ResultStore.open(out)
    with store.lock():
        store.clean_staging()
        if not resume:
            store.clean_fit_state()
        pending = [j for j in jobs if not resume or _needs_run(store.status(j.key), retry_failed)]
        reused = len(jobs) - len(pending)
        log.info("config %r: %d jobs, %d stored, %d to run", cfg.name, len(jobs), reused, len(pending))
        started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        store.write_run_info(_run_info(cfg, jobs, threads, started, None, skipped))
        # local workers share this file system: a killed neural fit resumes from its saved state
        state_root = None if scheduler else store.fit_state_dir
        tasks = group_tasks(pending, data_root, cfg.maps, threads, state_root)
        failed = _execute(store, tasks, len(pending), n_jobs, scheduler, progress, isolate)
        store.tidy_fit_state()
        results = store.write_results([j.key for j in jobs])
        finished = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        store.write_run_info(_run_info(cfg, jobs, threads, started, finished, skipped))
        failures = tuple(_failure(store, j) for j in jobs if store.status(j.key) == "failed")
    return RunSummary(
        out=Path(out),
        results=results,
        total=len(jobs),
        reused=reused,
        ran=len(pending),
        failed=failed,
        failures=failures,
        skipped=tuple(skipped),
    )


def _failure(store: ResultStore, job: Job) -> str:
    """``method[preset] on sequence (...) protocol: error`` of a job stored as failed."""
    rows = store.rows([job.key])
    error = str(rows["error"].iloc[0]) if len(rows) else ""
    return f"{job.describe()} {job.protocol}: {error}"


def _needs_run(status: str | None, retry_failed: bool) -> bool:
    return status is None or (status == "failed" and retry_failed)


def _execute(
    store: ResultStore, tasks, total: int, n_jobs: int, scheduler: str | None, progress: bool | None, isolate: bool
) -> int:
    failed = 0
    disable = None if progress is None else not progress
    with logging_redirect_tqdm(), tqdm(total=total, unit="job", desc="istdbench run", disable=disable) as bar:
        for outcomes in execute_tasks(tasks, n_jobs=n_jobs, scheduler=scheduler, isolate=isolate):
            for outcome in outcomes:
                store.write_job(outcome.job.key, outcome.rows, outcome.meta, outcome.maps, outcome.curves)
                _log_finished(outcome.job, outcome.seconds, outcome.error)
                failed += bool(outcome.error)
                bar.update(1)
    return failed


def _log_finished(job: Job, seconds: float, error: str) -> None:
    what = f"{job.method}[{job.preset}] {job.sequence} noise={job.noise} seed={job.seed} {job.protocol}"
    if error:
        log.warning("FAILED %s after %.2f s: %s", what, seconds, error)
    else:
        log.info("done %s in %.2f s", what, seconds)


def _run_info(
    cfg: RunConfig, jobs: list[Job], threads: int, started: str, finished: str | None, skipped: dict[str, str]
) -> dict[str, Any]:
    config = asdict(cfg)
    return {
        "config": config,
        "skipped_sequences": skipped,
        "started_utc": started,
        "finished_utc": finished,
        "environment": environment(threads),
        "jobs": [
            {
                "key": j.key,
                "method": j.method,
                "preset": j.preset,
                "sequence": j.sequence,
                "noise": j.noise,
                "seed": j.seed,
                "protocol": j.protocol_version,
            }
            for j in jobs
        ],
    }
