"""``istdbench run CONFIG -o OUT``: run a leaderboard config into an output folder."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from . import main


@main.command("run")
@click.argument("config")
@click.option(
    "-o",
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Output folder (default: results/<config name>).",
)
@click.option(
    "--resume/--no-resume",
    default=True,
    show_default=True,
    help="Reuse jobs already stored in OUT; --no-resume recomputes every job (old ones are replaced one by one).",
)
@click.option("--retry-failed", is_flag=True, help="Also rerun jobs stored as failed.")
@click.option("-j", "--jobs", "n_jobs", type=click.IntRange(min=1), default=1, show_default=True, help="Local workers.")
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    default=None,
    help="Run on the Dask cluster at ADDRESS (workers need istdbench and the data: --data-root or $ISTDBENCH_DATA).",
)
@click.option("--device", default=None, help="Device for GPU-capable methods: cpu, cuda or cuda:N (default: config's).")
@click.option(
    "--data-root",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder of the real sequence groups (default: $ISTDBENCH_DATA).",
)
@click.option("--threads", type=click.IntRange(min=1), default=None, help="Threads per job (default: cores / jobs).")
@click.option(
    "--methods",
    "only_methods",
    metavar="NAME[,NAME]",
    default=None,
    help="Run only these method variants of CONFIG (names or labels); the rest stay as stored.",
)
@click.option("--dry-run", is_flag=True, help="List the jobs and whether each is stored; run nothing.")
@click.option(
    "--plan",
    "show_plan",
    is_flag=True,
    help="List the jobs, how many are stored and the time the rest needs per method (from stored timings or a "
    "stated cost model); run nothing.",
)
@click.option(
    "--in-process",
    is_flag=True,
    help="Run the jobs in this process, one after another (for a debugger); a crash then ends the run.",
)
def run_command(
    config: str,
    out: Path | None,
    resume: bool,
    retry_failed: bool,
    n_jobs: int,
    scheduler: str | None,
    device: str | None,
    data_root: Path | None,
    threads: int | None,
    only_methods: str | None,
    dry_run: bool,
    show_plan: bool,
    in_process: bool,
) -> None:
    """Run CONFIG (a TOML/YAML file or a shipped config: quick, paper) and store results in OUT.

    A second run of the same config recomputes nothing; after a change only the affected jobs run.
    Killing a run loses at most the jobs in flight; a job whose process crashes is stored as failed.
    Exit status: 0 when every job is stored with results, 1 when some are stored as failed, 2 for bad input.
    """
    from istdbench.runners.config import load_config, select_methods
    from istdbench.runners.runner import run

    cfg = load_config(config)
    if only_methods:
        cfg = select_methods(cfg, tuple(name.strip() for name in only_methods.split(",") if name.strip()))
    out = out or Path("results") / cfg.name
    if dry_run:
        _dry_run(cfg, out, data_root, device)
        return
    if show_plan:
        from istdbench.runners.plan import plan_run

        plan = plan_run(cfg, out, data_root=data_root, device=device, retry_failed=retry_failed, n_workers=n_jobs)
        click.echo(plan.describe())
        return
    runner_log = logging.getLogger("istdbench.runners")
    if runner_log.getEffectiveLevel() > logging.INFO:
        runner_log.setLevel(logging.INFO)  # one line per finished job by default
    summary = run(
        cfg,
        out,
        resume=resume,
        retry_failed=retry_failed,
        n_jobs=n_jobs,
        scheduler=scheduler,
        device=device,
        data_root=data_root,
        threads=threads,
        isolate=not in_process,
    )
    click.echo(summary.describe())
    if summary.exit_status:
        sys.exit(summary.exit_status)


def _dry_run(cfg, out: Path, data_root: Path | None, device: str | None) -> None:
    from istdbench.runners.jobs import plan_jobs
    from istdbench.runners.store import ResultStore

    store = ResultStore(out)
    jobs = plan_jobs(cfg, data_root=data_root, device=device)
    for job in jobs:
        status = store.status(job.key) or "to run"
        click.echo(f"{job.key}  {status:<7} {job.describe()} {job.protocol_version}")
    stored = sum(store.status(j.key) is not None for j in jobs)
    click.echo(f"{len(jobs)} jobs, {stored} stored in {out}")
