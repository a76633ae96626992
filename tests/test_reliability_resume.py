"""A neural fit whose job process is SIGKILLed (as by the out-of-memory killer) resumes, and its runtime sums.

The job runs in its child process; the test kills that process once the fit has saved its 100-step
state. The job is stored as failed with the signal; ``retry_failed`` continues the fit from the saved
state, and the stored row counts the steps taken from it (``resumed_steps``) and the seconds of both
attempts (``runtime_s`` at least the seconds the saved state had spent).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time

import pandas as pd
import torch

from istdbench.runners.config import parse_config
from istdbench.runners.runner import run

CFG = parse_config(
    {
        "methods": {"3dstpm": {"set": {"iterations": 200, "lr": 1e-2}}},
        "sequences": [{"refs": ["synthetic:h=24,w=24,t=4,seed=0"]}],
        "protocols": ["tensoristd"],
        "threads": 1,
    }
)


def _kill_after_first_state(out, seen: dict) -> None:
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        saved = list((out / "fit-state").glob("*/*.pt")) if (out / "fit-state").is_dir() else []
        if saved:
            for child in multiprocessing.active_children():
                if child.name.startswith("istdbench-job-"):
                    os.kill(child.pid, signal.SIGKILL)
                    seen["killed"] = child.pid
            return
        time.sleep(0.02)


def test_killed_job_process_resumes_with_summed_runtime(tmp_path):
    out = tmp_path / "out"
    seen: dict = {}
    killer = threading.Thread(target=_kill_after_first_state, args=(out, seen))
    killer.start()
    first = run(CFG, out, progress=False)
    killer.join()
    assert "killed" in seen, "the fit finished before its process could be killed"
    assert (first.failed, first.exit_status) == (1, 1)
    assert "killed by signal 9 (SIGKILL)" in first.failures[0]
    (saved,) = (out / "fit-state").glob("*/*.pt")
    payload = torch.load(saved, weights_only=True)
    assert payload["steps_done"] % 100 == 0 and payload["steps_done"] < 200

    second = run(CFG, out, progress=False, retry_failed=True)
    assert (second.ran, second.failed, second.exit_status) == (1, 0, 0)
    row = pd.read_csv(second.results).iloc[0]
    assert row["status"] == "ok" and int(row["resumed_steps"]) == payload["steps_done"]
    assert row["runtime_s"] > float(payload["seconds"])  # the first attempt's seconds are counted
