"""On a Dask cluster, a task whose worker process dies becomes failure rows instead of ending the run.

Marked slow: a process-based `LocalCluster` and a worker restart take about a minute on a loaded machine.
"""

from __future__ import annotations

import pandas as pd
import pytest
from test_runner_helpers import register_crash_method

from istdbench.runners.config import parse_config
from istdbench.runners.runner import run

REF = "synthetic:h=20,w=20,t=2,seed=0"


@pytest.mark.slow
def test_dead_dask_worker_is_a_failed_job(tmp_path):
    distributed = pytest.importorskip("distributed")
    import dask

    # one job: a job queued on the same worker when it dies is lost with it (Dask's rule, not ours)
    cfg = parse_config({"methods": {"crash": {"preset": "exit"}}, "sequences": [{"refs": [REF]}], "threads": 1})
    register_crash_method()
    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 0}),
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=50
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        client.run(register_crash_method)
        summary = run(cfg, tmp_path / "out", scheduler=cluster.scheduler_address, progress=False)
    assert (summary.ran, summary.failed, summary.exit_status) == (1, 1, 1)
    table = pd.read_csv(tmp_path / "out" / "results.csv", keep_default_na=False)
    (error,) = table["error"]
    assert "WorkerDied" in error and "lost on the Dask cluster" in error and "KilledWorker" in error
