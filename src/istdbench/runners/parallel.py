"""Where tasks run: in child processes of this one (one per task), in this process, or on a Dask cluster.

Results come back in completion order, as soon as each task finishes, so the
caller can store it at once (a kill then loses only the tasks in flight) and
update the progress bar. The same `run_task` runs in every backend; tasks
carry references, so a Dask worker only needs the package and the data.

A worker that dies (a segfault in native code, ``os._exit``, an out-of-memory
kill) never ends the run: local children are watched by `workers`, and a task
whose Dask worker died (``KilledWorker`` after the scheduler's retries)
becomes failure rows like any other failed job.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterable, Iterator
from typing import Any

from istdbench.core.errors import InvalidParameterError

from .execute import JobOutcome, died, run_task
from .jobs import Task

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = "10s"
"""How long to wait for a Dask scheduler to answer before giving up with a clear error."""


COMMAND_THREADS = 1
"""Default threads of ``detect``, ``evaluate`` and ``report``: one, as the shipped run configs pin per job
(on a busy machine, contending BLAS/torch threads made small SVDs 5-50x slower)."""


def default_threads(n_jobs: int) -> int:
    """Threads per job so that ``n_jobs`` concurrent jobs share this machine's cores."""
    return max(1, (os.cpu_count() or 1) // max(1, n_jobs))


def execute_tasks(
    tasks: Iterable[Task], n_jobs: int = 1, scheduler: str | None = None, isolate: bool = True
) -> Iterator[list[JobOutcome]]:
    """Run tasks and yield each one's outcomes as it finishes.

    Parameters
    ----------
    tasks : iterable of Task
        What to run.
    n_jobs : int
        Concurrent local worker processes. Ignored with ``scheduler``, where the cluster's workers decide.
    scheduler : str, optional
        Address of a Dask scheduler (``tcp://host:8786``): run on that cluster.
    isolate : bool
        Run each local task in a child process whose death the run survives (the default). False runs
        them one after another in this process (for a debugger; a crash then ends the run).
    """
    tasks = list(tasks)
    if not tasks:
        return
    if n_jobs < 1:
        raise InvalidParameterError(f"--jobs must be a positive number of workers. Got {n_jobs}.")
    if scheduler:
        yield from _on_dask(tasks, scheduler)
    elif isolate:
        from .workers import run_isolated

        yield from run_isolated(tasks, n_jobs)
    else:
        for task in tasks:
            yield run_task(task)


def _on_dask(tasks: list[Task], scheduler: str) -> Iterator[list[JobOutcome]]:
    """Submit every task to the cluster; a task the cluster could not finish becomes failure rows."""
    with _dask_client(scheduler) as client:
        from distributed import as_completed

        futures = {client.submit(run_task, t, pure=False): t for t in tasks}
        for future in as_completed(futures):
            task = futures[future]
            try:
                yield future.result()
            except Exception as exc:  # KilledWorker: its worker died (every retry); run_task itself never raises
                yield died(task, f"was lost on the Dask cluster ({type(exc).__name__}: {exc})", 0.0)
            finally:
                future.release()


@contextlib.contextmanager
def _dask_client(address: str) -> Iterator[Any]:
    try:
        from distributed import Client
    except ImportError:
        raise InvalidParameterError(
            "--scheduler needs the 'distributed' package: pip install 'istdbench[dist]'."
        ) from None
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as exc:
        raise InvalidParameterError(f"Cannot connect to the Dask scheduler at {address!r}: {exc}") from None
    log.info("running on Dask cluster %s (%s)", address, client.dashboard_link)
    try:
        yield client
    finally:
        client.close()
