"""Drawing the report's figures, in parallel over processes.

A `FigureTask` names a drawing function (a pure function: inputs -> `Figure`)
and its inputs. Drawing is the slow part of a report (a 3-D ROC figure saved
as PNG and PDF takes seconds) and it is CPU-bound Python, so the tasks are
spread over fresh worker processes (``spawn``), each set up once by
`init_worker` (Agg backend, the report's rc settings, the font cache loaded).
With one job, or fewer than `MIN_PARALLEL` tasks, everything is drawn here
under the same settings, giving the same files.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from istdbench.core.errors import IstdbenchError

from . import style
from .figures import FORMATS, noise_figure, roc3d_figure, save_figure
from .noise_examples import noise_examples_figure
from .noisebars import noise_bars_figure
from .rocgrid import roc_grid_figure
from .summary import roc_summary_figure
from .visual import draw_visual_grid
from .visual_grid import visual_grid_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

log = logging.getLogger(__name__)

FIGURE_RC: dict[str, Any] = style.RC
"""rc settings every report figure is drawn under (in the workers and here alike): the publication style."""

DRAWERS: dict[str, Callable[..., Figure]] = {
    "roc3d": roc3d_figure,
    "roc_summary": roc_summary_figure,
    "visual": draw_visual_grid,
    "noise": noise_figure,
    "roc_grid": roc_grid_figure,
    "visual_paper": visual_grid_figure,
    "noise_examples": noise_examples_figure,
    "noise_bars": noise_bars_figure,
}
"""Figure kind -> pure drawing function; a task's inputs are its keyword arguments."""


MIN_PARALLEL = 3
"""Fewer figures are drawn in this process: starting a worker (an interpreter importing matplotlib) costs
about as much as drawing one figure."""


class FigureWorkerError(IstdbenchError):
    """A worker process drawing figures died (killed, or out of memory)."""


@dataclass(frozen=True)
class FigureTask:
    """One figure to draw: ``DRAWERS[kind](**inputs)``, saved under its cache ``key``."""

    kind: str
    inputs: dict[str, Any]
    key: str
    cost: float = 1.0  # relative drawing time, to start the longest first


def default_jobs() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def init_worker() -> None:
    """Set up a drawing process once: headless backend, report rc settings, fonts loaded."""
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams.update(FIGURE_RC)
    from matplotlib import font_manager

    font_manager.findfont(font_manager.FontProperties())


def draw_task(task: FigureTask, folder: Path, formats: tuple[str, ...] = FORMATS) -> tuple[int, float]:
    """Draw one task into ``folder/<key>.<fmt>``; returns the drawing process and the CPU seconds it took."""
    import matplotlib

    start = time.process_time()
    with matplotlib.rc_context(FIGURE_RC):
        fig = DRAWERS[task.kind](**task.inputs)
        save_figure(fig, folder, task.key, formats)
    return os.getpid(), time.process_time() - start


def draw_all(
    tasks: list[FigureTask], folder: Path, jobs: int | None = None, formats: tuple[str, ...] = FORMATS
) -> dict[int, float]:
    """Draw every task into ``folder``, over ``jobs`` processes (default: the cores available).

    Returns the CPU seconds each process spent drawing (by process id), which shows how evenly the
    work was spread.
    """
    jobs = default_jobs() if jobs is None else jobs
    ordered = sorted(tasks, key=lambda t: -t.cost)
    workers = min(jobs, len(ordered)) if len(ordered) >= MIN_PARALLEL else 1
    log.info("drawing %d figure(s) with %d process(es)", len(ordered), workers)
    cpu: dict[int, float] = {}
    if workers <= 1:
        for task in ordered:
            pid, seconds = draw_task(task, folder, formats)
            cpu[pid] = cpu.get(pid, 0.0) + seconds
        return cpu
    # fresh interpreters: forking this process could copy a lock held by one of its threads (BLAS, torch)
    context = multiprocessing.get_context("spawn")
    try:
        with ProcessPoolExecutor(workers, mp_context=context, initializer=init_worker) as pool:
            for future in [pool.submit(draw_task, task, folder, formats) for task in ordered]:
                pid, seconds = future.result()
                cpu[pid] = cpu.get(pid, 0.0) + seconds
    except BrokenProcessPool as exc:
        raise FigureWorkerError(
            f"A process drawing figures died ({exc}); rerun with --jobs 1, or fewer figures (--roc, --visual)."
        ) from None
    return cpu
