"""Kill and resume for real: ``istdbench run`` in a subprocess, SIGKILLed mid-run, then resumed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from test_runner_helpers import write_config

TESTS = Path(__file__).resolve().parent
REFS = tuple(f"synthetic:h=24,w=24,t=3,seed={s}" for s in range(6))
CLI = (
    "import sys; sys.path.insert(0, {tests!r}); "
    "from test_runner_helpers import register_test_methods; register_test_methods(); "
    "from istdbench.cli import main; main(sys.argv[1:])"
)


def _istdbench(*args: str) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-c", CLI.format(tests=str(TESTS)), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        start_new_session=True,  # its own process group, so the kill reaches any worker too
    )


def _done(out: Path) -> dict[str, int]:
    return {p.parent.name: p.stat().st_ino for p in (out / "jobs").glob("*/rows.csv")}


def test_sigkill_mid_run_then_resume(tmp_path):
    cfg = write_config(tmp_path / "slow.toml", "sleepy = { set = { delay = 0.25 } }", refs=REFS)
    out = tmp_path / "out"
    proc = _istdbench("run", str(cfg), "-o", str(out), "--threads", "1")
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and proc.poll() is None and len(_done(out) if out.exists() else {}) < 2:
        time.sleep(0.05)
    assert proc.poll() is None, f"the run ended before it could be killed:\n{proc.communicate()[0]}"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)

    done_before = _done(out)
    assert 2 <= len(done_before) < len(REFS)
    assert not (out / "results.csv").exists()  # the table is only written once a run completes
    planned = [j["key"] for j in json.loads((out / "run.json").read_text())["jobs"]]
    pending = [k for k in planned if k not in done_before]
    # What a kill at the worst moment could leave: a half-written staging folder and a job folder without rows.
    staging = out / "jobs" / f".staging-{pending[0]}-99999"
    staging.mkdir(exist_ok=True)
    (staging / "rows.csv").write_text("job_key,metric,value,status\n" + pending[0] + ",AUC_ODP,0.")
    (out / "jobs" / pending[1]).mkdir(exist_ok=True)
    (out / "jobs" / pending[1] / "maps.npz").write_bytes(b"PK\x03\x04 half a zip")

    resumed = _istdbench("run", str(cfg), "-o", str(out), "--resume", "--threads", "1")
    log, _ = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, log
    assert f"{len(REFS)} jobs: {len(done_before)} reused" in log

    done_after = _done(out)
    assert set(done_after) == set(planned)
    assert all(done_after[k] == ino for k, ino in done_before.items())  # finished jobs were not recomputed
    assert not list((out / "jobs").glob(".staging-*"))
    table = pd.read_csv(out / "results.csv")
    assert set(table["job_key"]) == set(planned) and set(table["status"]) == {"ok"}
    with np.load(out / "jobs" / pending[1] / "maps.npz") as z:  # the planted partial folder was replaced
        assert z["target"].shape == (3, 24, 24)
