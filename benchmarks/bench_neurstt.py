"""Seconds per NeurSTT iteration at 256x256x80, and the cost of the exact nuclear-norm reduction.

For each device (the CPU, and CUDA when present) and each preset it times
Adam iterations of the full loss (after a warm-up) and prints s/iteration. In
the same run it times the value and gradient of the all-frames nuclear norm
``sum_k ||B_k||_*`` three ways: full SVDs of the 80 frames, the small-core
reduction with batched ``svdvals`` and with the matmul-only polar solver, and
prints their ratios. Speed comparisons are only meaningful within one run.

Example::

    OMP_NUM_THREADS=2 python benchmarks/bench_neurstt.py --threads 2 --iterations 10
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import click
import numpy as np
import torch

from istdbench.methods._lowrank import Workspace, tucker_nuclear_norm
from istdbench.methods.neurstt import AUTHORS, PAPER, NeurSTTConfig, NeurSTTModel, neurstt_loss, solver_for


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _time(fn: Callable[[int], object], n: int, warmup: int, device: torch.device) -> tuple[float, float]:
    """Mean (wall, process CPU) seconds per call of ``fn(i)`` over ``n`` calls after ``warmup`` calls.

    On a shared machine the wall time includes waiting for a core; the CPU time
    (with one thread) does not.
    """
    for i in range(warmup):
        fn(i)
    _sync(device)
    start, cpu = time.perf_counter(), time.process_time()
    for i in range(n):
        fn(warmup + i)
    _sync(device)
    return (time.perf_counter() - start) / n, (time.process_time() - cpu) / n


def time_iterations(
    cfg: NeurSTTConfig, shape: tuple[int, int, int], device: torch.device, n: int, warmup: int
) -> tuple[float, float]:
    """(Wall, CPU) seconds per Adam iteration of the full NeurSTT loss on random frames of ``shape``."""
    model = NeurSTTModel(shape, cfg, torch.Generator().manual_seed(0)).to(device)
    frames = np.random.default_rng(0).random(shape, dtype=np.float32)
    data = torch.from_numpy(frames.transpose(1, 0, 2).copy()).to(device)  # (H, L, W), as `neurstt_loss` expects
    mask = (data != 0).float() if cfg.l1_mask == "nonzero" else None
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    solver = solver_for(cfg, device)
    workspace = Workspace()

    def step(it: int) -> None:
        opt.zero_grad(set_to_none=True)
        neurstt_loss(model, data, mask, cfg, it, solver, workspace).backward()
        opt.step()

    return _time(step, n, warmup, device)


def time_nuclear(shape: tuple[int, int, int], device: torch.device, n: int) -> dict[str, float]:
    """Seconds for value + gradient of the all-frames nuclear norm: full SVD vs the small-core reductions.

    Each includes evaluating the factor networks (and, for the full SVD, forming B).
    """
    model = NeurSTTModel(shape, PAPER, torch.Generator().manual_seed(0)).to(device)
    params = list(model.parameters())

    def full(_: int) -> None:
        torch.autograd.grad(torch.linalg.matrix_norm(model.background(), ord="nuc").sum(), params)

    def small(solver: str) -> Callable[[int], None]:
        def run(_: int) -> None:
            fh, _, fw, _, ft, _ = model.factors()
            torch.autograd.grad(tucker_nuclear_norm(model.core, fh, fw, ft, solver), params)  # type: ignore[arg-type]

        return run

    out = {"full_svd": _time(full, n, 1, device)[0]}
    for solver in ("svd", "gram", "polar"):
        out[f"small_{solver}"] = _time(small(solver), n, 1, device)[0]
    return out


@click.command()
@click.option("--threads", default=2, show_default=True, help="torch CPU threads.")
@click.option("--iterations", default=10, show_default=True, help="Timed iterations per case.")
@click.option("--warmup", default=2, show_default=True)
@click.option("--size", default="80x256x256", show_default=True, help="T x H x W.")
def main(threads: int, iterations: int, warmup: int, size: str) -> None:
    torch.set_num_threads(threads)
    shape = tuple(int(x) for x in size.split("x"))
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    click.echo(f"shape {shape}, torch {torch.__version__}, threads {threads}, load {os.getloadavg()[0]:.1f}")
    for device in devices:
        name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
        cases = [("paper", PAPER), ("authors", AUTHORS), ("paper+svd", PAPER.with_overrides({"nuclear_solver": "svd"}))]
        for label, cfg in cases:
            s, cpu = time_iterations(cfg, shape, device, iterations, warmup)  # type: ignore[arg-type]
            click.echo(
                f"[{name}] {label:12s} {s:.4f} s/iteration, CPU {cpu:.4f} s/iteration "
                f"({s * cfg.iterations:.0f} s per {cfg.iterations}-iteration chunk)"
            )
        nuc = time_nuclear(shape, device, max(2, iterations // 2))  # type: ignore[arg-type]
        full = nuc["full_svd"]
        for key, val in nuc.items():
            click.echo(f"[{name}] nuclear {key:11s} {val:.4f} s (value+gradient)  full/this = {full / val:.1f}x")
    click.echo(f"load at end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
