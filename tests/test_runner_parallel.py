"""The same run in this process, in local loky workers and on a Dask cluster gives the same table."""

from __future__ import annotations

import pandas as pd
import pytest

from istdbench.core.errors import InvalidParameterError
from istdbench.runners.config import parse_config
from istdbench.runners.runner import run

CFG = parse_config(
    {
        "methods": ["tophat", "mpcm"],
        "sequences": [{"refs": ["synthetic:h=24,w=24,t=4,seed=0", "synthetic:h=24,w=32,t=3,seed=1"]}],
        "threads": 1,
    }
)
COMPARED = ["job_key", "method", "sequence", "metric", "value", "status"]


def _table(out) -> pd.DataFrame:
    df = pd.read_csv(out / "results.csv", keep_default_na=False)
    return df[COMPARED].sort_values(["job_key", "metric"], ignore_index=True)


@pytest.fixture(scope="module")
def serial(tmp_path_factory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("serial") / "out"
    run(CFG, out)
    return _table(out)


def test_dask_local_cluster_matches_serial(tmp_path, serial):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    ) as cluster:
        summary = run(CFG, tmp_path / "out", scheduler=cluster.scheduler_address)
    assert (summary.ran, summary.failed) == (4, 0)
    pd.testing.assert_frame_equal(_table(tmp_path / "out"), serial)


def test_loky_workers_match_serial(tmp_path, serial):
    summary = run(CFG, tmp_path / "out", n_jobs=2)
    assert (summary.ran, summary.failed) == (4, 0)
    pd.testing.assert_frame_equal(_table(tmp_path / "out"), serial)


def test_bad_scheduler_and_jobs(tmp_path, monkeypatch):
    monkeypatch.setattr("istdbench.runners.parallel.CONNECT_TIMEOUT", "1s")
    with pytest.raises(InvalidParameterError, match=r"Cannot connect to the Dask scheduler at 'tcp://127\.0\.0\.1:9'"):
        run(CFG, tmp_path / "out", scheduler="tcp://127.0.0.1:9")
    with pytest.raises(InvalidParameterError, match="--jobs must be a positive"):
        run(CFG, tmp_path / "out2", n_jobs=0)
    with pytest.raises(InvalidParameterError, match="--threads must be a positive"):
        run(CFG, tmp_path / "out3", threads=0)
