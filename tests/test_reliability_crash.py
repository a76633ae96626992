"""A method that kills its own process (SIGSEGV, ``os._exit(3)``) fails its job only, with ``--jobs 1`` and 2.

Also: the failure is stored and not repeated without ``--retry-failed``, ``run`` exits 1 while jobs are
stored as failed, and workers do not outlive a parent killed with SIGKILL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from test_runner_helpers import register_crash_method, register_test_methods, unregister_test_methods, write_config

from istdbench.runners.config import parse_config
from istdbench.runners.runner import run
from istdbench.runners.workers import describe_exit

TESTS = Path(__file__).resolve().parent
REF = "synthetic:h=20,w=20,t=2,seed=0"
CLI = (
    "import sys; sys.path.insert(0, {tests!r}); "
    "from test_runner_helpers import register_test_methods, register_crash_method; "
    "register_test_methods(); register_crash_method(); "
    "from istdbench.cli import main; main(sys.argv[1:])"
)


@pytest.fixture
def crash_methods():
    register_test_methods()
    register_crash_method()
    yield
    unregister_test_methods()
    from istdbench.core.registry import _REGISTRY

    _REGISTRY.pop("crash", None)


def _cfg(preset: str):
    methods = {"crash": {"preset": preset}, "tophat": {}}
    return parse_config({"methods": methods, "sequences": [{"refs": [REF]}], "threads": 1})


@pytest.mark.parametrize("n_jobs", [1, 2])
@pytest.mark.parametrize(("preset", "how"), [("default", "killed by signal 11 (SIGSEGV)"), ("exit", "status 3")])
def test_crashing_method_fails_only_its_job(tmp_path, crash_methods, n_jobs, preset, how):
    out = tmp_path / "out"
    summary = run(_cfg(preset), out, n_jobs=n_jobs, progress=False)
    assert (summary.total, summary.ran, summary.failed, summary.exit_status) == (2, 2, 1, 1)
    table = pd.read_csv(out / "results.csv", keep_default_na=False)
    crashed = table[table["method"] == "crash"]
    assert len(crashed) == 1 and crashed["status"].iloc[0] == "failed"
    assert "WorkerDied" in crashed["error"].iloc[0] and how in crashed["error"].iloc[0]
    assert set(table.loc[table["method"] == "tophat", "status"]) == {"ok"}
    assert how in summary.describe() and "crash[" in summary.describe()

    again = run(_cfg(preset), out, n_jobs=n_jobs, progress=False)  # the failure is stored: nothing reruns
    assert (again.ran, again.failed, again.exit_status) == (0, 0, 1)
    assert "stored as failed before" in again.describe()
    retried = run(_cfg(preset), out, n_jobs=n_jobs, progress=False, retry_failed=True)
    assert (retried.ran, retried.failed) == (1, 1)


def test_describe_exit():
    assert describe_exit(-9) == "killed by signal 9 (SIGKILL)"
    assert describe_exit(3) == "exited with status 3"
    assert describe_exit(None) == "ended without an exit status"


def _istdbench(*args: str) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-c", CLI.format(tests=str(TESTS)), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        start_new_session=True,
    )


def test_cli_exit_status_is_1_while_jobs_are_failed(tmp_path):
    methods = 'crash = { preset = "exit" }\ntophat = {}'
    cfg = write_config(tmp_path / "c.toml", methods, refs=(REF,), extra="threads = 1")
    proc = _istdbench("run", str(cfg), "-o", str(tmp_path / "out"), "--jobs", "2")
    log, _ = proc.communicate(timeout=120)
    assert proc.returncode == 1, log
    assert "1 job(s) failed" in log and "exited with status 3" in log and "Traceback" not in log


def _session_members(sid: int) -> list[int]:
    """Live processes of session ``sid`` (Linux /proc), zombies excluded."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[3]) == sid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_end_when_the_parent_is_killed(tmp_path):
    refs = tuple(f"synthetic:h=20,w=20,t=2,seed={s}" for s in range(4))
    cfg = write_config(tmp_path / "slow.toml", "sleepy = { set = { delay = 30.0 } }", refs=refs, extra="threads = 1")
    proc = _istdbench("run", str(cfg), "-o", str(tmp_path / "out"), "--jobs", "2")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(_session_members(proc.pid)) < 4:  # parent, forkserver, 2 workers
        time.sleep(0.1)
    time.sleep(1.0)  # let both workers reach their first frame
    members = _session_members(proc.pid)
    assert len(members) >= 4, f"workers did not start: {members}"
    os.kill(proc.pid, signal.SIGKILL)  # the parent only, not its process group
    proc.wait(timeout=10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _session_members(proc.pid):
        time.sleep(0.1)
    left = _session_members(proc.pid)
    for pid in left:  # leave nothing behind even when the test fails
        os.kill(pid, signal.SIGKILL)
    assert not left, f"processes still alive 10 s after the parent was killed: {left}"
