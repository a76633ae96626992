"""Speed of ``istdbench report`` as runs grow: tables only, default figures, unchanged rerun, two processes.

The goals (issue 21): a report of a 1,000-job run under 60 s with default
settings and under 5 s when nothing changed since the last report; with every
per-sequence figure requested, at least 1.8x faster with two processes than
with one.

The runs are the top-hat on tiny synthetic sequences (20x20, 4 frames), so
that building them is cheap (a rerun reuses them from ``--work``). Each report
is the ``istdbench report`` command in a fresh process, startup included, as
a user runs it. Wall and CPU seconds are both printed (CPU: the report
process and the processes it waited for): on a shared machine the wall time
mostly measures the other processes, so the load average is printed too.

The 1-versus-2-process comparison draws every per-sequence 3-D ROC figure of
a run in this process (`write_report`, so the command's start-up is not in
it) and prints, besides the wall time, the CPU critical path: this process's
CPU time plus the busiest drawing process's (its start-up and its figures).
On idle cores that is the wall time. On a busy Linux machine the wall time
shows little of the parallelism: autogroup scheduling gives each login
session one share of the CPUs however many processes it runs.

Example::

    OMP_NUM_THREADS=1 python benchmarks/bench_report.py --work /tmp/bench-report
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from istdbench.reports import write_report
from istdbench.runners.config import parse_config
from istdbench.runners.runner import run

CLI = [sys.executable, "-c", "from istdbench.cli import main; main()", "report"]


def build_run(folder: Path, n: int) -> Path:
    """A run of the top-hat on ``n`` tiny synthetic sequences (stored jobs are reused)."""
    refs = [f"synthetic:h=20,w=20,t=4,seed={k}" for k in range(n)]
    cfg = parse_config(
        {"name": f"bench{n}", "methods": {"tophat": {"preset": "tensoristd"}}, "sequences": [{"refs": refs}]}
    )
    out = folder / f"run{n}"
    run(cfg, out, threads=1, progress=False)
    return out


def timed_report(out: Path, *flags: str, fresh: bool = True) -> tuple[float, float]:
    """Wall and CPU seconds of ``istdbench report OUT FLAGS`` (``fresh``: without the previous report)."""
    if fresh:
        shutil.rmtree(out / "report", ignore_errors=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([*CLI, str(out), *flags], check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--work", type=Path, help="Folder for the runs (kept; default: a temporary folder).")
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000], help="Jobs per run.")
    parser.add_argument("--parallel-size", type=int, default=100, help="Jobs of the --roc all run (0: skip).")
    parser.add_argument("--jobs", type=int, default=2, help="Processes of the default reports.")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-report-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"# istdbench report timings (load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} cores)")
    print(f"{'jobs':>6} | {'case':<40} | {'wall s':>7} | {'CPU s':>7}")
    for n in args.sizes:
        out = build_run(work, n)
        jobs = ("--jobs", str(args.jobs))
        for case, flags, fresh in (
            ("tables only (--no-figures)", ("--no-figures",), True),
            (f"default figures, first report (-j {args.jobs})", jobs, True),
            ("default figures, unchanged rerun", jobs, False),
        ):
            wall, cpu = timed_report(out, *flags, fresh=fresh)
            print(f"{n:>6} | {case:<40} | {wall:7.1f} | {cpu:7.1f}", flush=True)
    if args.parallel_size > 0:
        compare_processes(build_run(work, args.parallel_size), args.parallel_size)


def compare_processes(out: Path, n: int) -> None:
    """Every per-sequence ROC figure of ``out``, drawn with one and with two processes."""
    walls = {}
    print(f"# every per-sequence 3-D ROC figure of the {n}-job run, in this process (write_report)")
    print(f"{'procs':>6} | {'wall s':>7} | {'CPU s':>7} | {'CPU critical path s':>19} | drawing CPU s per process")
    critical = {}
    for jobs in (1, 2):
        shutil.rmtree(out / "report", ignore_errors=True)
        self0, child0 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        report = write_report(out, formats="md", jobs=jobs, roc="all", visual="none", summary=False)
        wall = time.perf_counter() - start
        own = _cpu(resource.getrusage(resource.RUSAGE_SELF)) - _cpu(self0)
        workers = _cpu(resource.getrusage(resource.RUSAGE_CHILDREN)) - _cpu(child0)
        drawing = {pid: s for pid, s in report.draw_cpu_s.items() if pid != os.getpid()}
        startup = (workers - sum(drawing.values())) / len(drawing) if drawing else 0.0
        critical[jobs] = own + startup + max(drawing.values(), default=0.0)
        spread = ", ".join(f"{s:.1f}" for s in sorted(report.draw_cpu_s.values()))
        print(f"{jobs:>6} | {wall:7.1f} | {own + workers:7.1f} | {critical[jobs]:19.1f} | {spread}", flush=True)
        walls[jobs] = wall
    print(
        f"speed-up with two processes: wall {walls[1] / walls[2]:.2f}x, CPU critical path "
        f"{critical[1] / critical[2]:.2f}x (goal >= 1.8x)"
    )
    print(f"load average after: {os.getloadavg()[0]:.1f}")


def _cpu(usage: resource.struct_rusage) -> float:
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    main()
