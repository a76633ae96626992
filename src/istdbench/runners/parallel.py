"""Where tasks run: in this process, in local loky workers, or on a Dask cluster through joblib.

Results come back in completion order, as soon as each task finishes, so the
caller can store it at once (a kill then loses only the tasks in flight) and
update the progress bar. The same `run_task` runs in every backend; tasks
carry references, so a Dask worker only needs the package and the data.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterable, Iterator

from joblib import Parallel, delayed, parallel_config

from istdbench.core.errors import InvalidParameterError

from .execute import JobOutcome, run_task
from .jobs import Task

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = "10s"
"""How long to wait for a Dask scheduler to answer before giving up with a clear error."""


def default_threads(n_jobs: int) -> int:
    """Threads per job so that ``n_jobs`` concurrent jobs share this machine's cores."""
    return max(1, (os.cpu_count() or 1) // max(1, n_jobs))


def execute_tasks(tasks: Iterable[Task], n_jobs: int = 1, scheduler: str | None = None) -> Iterator[list[JobOutcome]]:
    """Run tasks and yield each one's outcomes as it finishes.

    Parameters
    ----------
    tasks : iterable of Task
        What to run.
    n_jobs : int
        Concurrent local workers (loky processes); 1 runs in this process. Ignored with ``scheduler``,
        where the cluster's worker threads decide.
    scheduler : str, optional
        Address of a Dask scheduler (``tcp://host:8786``): run on that cluster through joblib's
        ``dask`` backend.
    """
    tasks = list(tasks)
    if not tasks:
        return
    if n_jobs < 1:
        raise InvalidParameterError(f"--jobs must be a positive number of workers. Got {n_jobs}.")
    if scheduler:
        with _dask_client(scheduler), parallel_config(backend="dask"):
            yield from Parallel(n_jobs=-1, return_as="generator_unordered")(delayed(run_task)(t) for t in tasks)
    elif n_jobs == 1:
        for task in tasks:
            yield run_task(task)
    else:
        parallel = Parallel(n_jobs=n_jobs, backend="loky", return_as="generator_unordered")
        yield from parallel(delayed(run_task)(t) for t in tasks)


@contextlib.contextmanager
def _dask_client(address: str) -> Iterator[object]:
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
