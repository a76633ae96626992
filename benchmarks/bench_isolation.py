"""Per-job cost of running each job in its own child process, against running it in this process.

Runs the same tiny tasks (top-hat on small synthetic clips, so that the job
itself costs little and the overhead shows) three ways, in one run of this
script: in this process (``isolate=False``), in forkserver children one at a
time (``--jobs 1``, the default of ``istdbench run``), and two at a time. The
first isolated batch also pays for starting the forkserver (importing the
suite once); it is timed apart. Wall seconds per job are printed with the
ratio to in-process (the children are the forkserver's, so this process cannot
count their CPU time); on a shared machine wall time also measures the other
processes (the load average is printed).

Example::

    OMP_NUM_THREADS=1 python benchmarks/bench_isolation.py --tasks 20 --size 64
"""

from __future__ import annotations

import argparse
import os
import time

from istdbench.runners.config import parse_config
from istdbench.runners.jobs import group_tasks, plan_jobs
from istdbench.runners.parallel import execute_tasks


def _timed(tasks, n_jobs: int, isolate: bool) -> float:
    wall = time.perf_counter()
    for outcomes in execute_tasks(tasks, n_jobs=n_jobs, isolate=isolate):
        assert all(not o.error for o in outcomes), [o.error for o in outcomes]
    return time.perf_counter() - wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=20, help="Jobs per batch.")
    parser.add_argument("--size", type=int, default=64, help="Frame height and width of the synthetic clips.")
    parser.add_argument("--frames", type=int, default=10)
    args = parser.parse_args()

    refs = [f"synthetic:h={args.size},w={args.size},t={args.frames},seed={s}" for s in range(args.tasks)]
    cfg = parse_config({"methods": ["tophat"], "sequences": [{"refs": refs}], "threads": 1})
    tasks = group_tasks(plan_jobs(cfg), maps="target", threads=1)
    print(f"{len(tasks)} tasks: top-hat on {args.size}x{args.size}x{args.frames}; load {os.getloadavg()[0]:.2f}")

    _timed(tasks[:2], 1, False)  # warm this process's caches
    rows = [("forkserver start + first job", _timed(tasks[:1], 1, True), 1)]
    for label, n_jobs, isolate in (
        ("in process", 1, False),
        ("child per job, --jobs 1", 1, True),
        ("child per job, --jobs 2", 2, True),
    ):
        rows.append((label, _timed(tasks, n_jobs, isolate), len(tasks)))
    base = rows[1][1] / len(tasks)
    print("| how | wall s/job | vs in process | overhead s/job |")
    print("|---|---:|---:|---:|")
    for label, wall, n in rows:
        print(f"| {label} | {wall / n:.3f} | {wall / n / base:.2f}x | {wall / n - base:+.3f} |")


if __name__ == "__main__":
    main()
