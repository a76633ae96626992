"""Seconds per 3DSTPM iteration, and per tensor-nuclear-norm evaluation, for each nuclear-norm kernel.

One Adam iteration of 3DSTPM at 256 x 256 x 80 is timed with the slice nuclear
norms computed by full SVD (``svd``, torch's own gradient), by ``eigh`` of the
float64 Gram matrix (``gram64``, the default) and of the float32 one
(``gram32``, cheaper, inexact on real frames). The kernels are timed round-robin in the same process, so that load
from other processes hits all of them alike; medians are reported, and ratios
to ``svd``. Besides wall time, the process CPU time is recorded: on a shared
machine it measures the work done, where wall time also counts the waiting.
``--device cuda`` times on a GPU (synchronised) where one exists.

Run::

    OMP_NUM_THREADS=2 python benchmarks/bench_stpm3d.py --repeats 3 --out bench_stpm3d.csv
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import click
import pandas as pd
import torch

from istdbench.methods.stpm3d import STPM3DConfig, STPM3DNet, tensor_nuclear_norm, total_variation

log = logging.getLogger("bench_stpm3d")
KERNELS = ("svd", "gram64", "gram32")


def _timer(device: str) -> Callable[[], tuple[float, float]]:
    """Clock giving (wall seconds, process CPU seconds), synchronised with the GPU where there is one."""

    def now() -> tuple[float, float]:
        if device.startswith("cuda"):
            torch.cuda.synchronize(device)
        return time.perf_counter(), time.process_time()

    return now


def _since(start: tuple[float, float], end: tuple[float, float]) -> dict[str, float]:
    return {"seconds": end[0] - start[0], "cpu_seconds": end[1] - start[1]}


def bench(shape: tuple[int, int, int], repeats: int, device: str) -> pd.DataFrame:
    """Rows (kernel, part, repeat, seconds) for a full iteration and for the TNN term alone."""
    now = _timer(device)
    cfg = STPM3DConfig()
    gen = torch.Generator().manual_seed(0)
    d = torch.rand(shape, generator=gen).to(device)
    net = STPM3DNet(shape, cfg, gen).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    with torch.no_grad():
        y_fixed, _ = net()
    rows = []
    for rep in range(repeats + 1):  # the first round warms up and is dropped
        for how in KERNELS:
            start = now()
            opt.zero_grad(set_to_none=True)
            y, b = net()
            loss = tensor_nuclear_norm(y, how) + cfg.lam * (d - b).abs().sum() + cfg.lam2 * total_variation(b, cfg.ntv)
            loss.backward()
            opt.step()
            iteration = _since(start, now())
            y_leaf = y_fixed.detach().clone().requires_grad_()
            start = now()
            tensor_nuclear_norm(y_leaf, how).backward()
            tnn = _since(start, now())
            if rep:
                rows += [
                    {"kernel": how, "part": "iteration", "repeat": rep, **iteration},
                    {"kernel": how, "part": "tnn value+grad", "repeat": rep, **tnn},
                ]
            log.info("round %d %s: iteration %s, TNN %s", rep, how, iteration, tnn)
    return pd.DataFrame(rows)


def summarize(rows: pd.DataFrame, column: str = "seconds") -> pd.DataFrame:
    """Median of ``column`` per (part, kernel) and the speed-up over full SVD."""
    med = rows.groupby(["part", "kernel"])[column].median().unstack("kernel")[list(KERNELS)]
    speedup = med.rdiv(med["svd"], axis=0).add_prefix("speedup_")
    return pd.concat([med, speedup], axis=1)


@click.command()
@click.option("--shape", default="80,256,256", show_default=True, help="n3,n1,n2 (frames, rows, cols).")
@click.option("--repeats", default=3, show_default=True)
@click.option("--device", default="cpu", show_default=True)
@click.option("--threads", default=2, show_default=True)
@click.option("--out", type=click.Path(path_type=Path), default=None, help="CSV of every timing.")
def main(shape: str, repeats: int, device: str, threads: int, out: Path | None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    torch.set_num_threads(threads)
    n3, n1, n2 = (int(x) for x in shape.split(","))
    rows = bench((n3, n1, n2), repeats, device)
    name = torch.cuda.get_device_name(device) if device.startswith("cuda") else f"cpu x{threads} threads"
    for column in ("seconds", "cpu_seconds"):
        click.echo(f"3DSTPM at {n1}x{n2}x{n3} on {name}, medians of {repeats} ({column}):")
        click.echo(summarize(rows, column).to_string(float_format=lambda v: f"{v:.3f}"))
    per_iter = rows[(rows.kernel == "gram64") & (rows.part == "iteration")].seconds.median()
    click.echo(f"s/frame at t_max = 3000 iterations with gram64 (wall): {per_iter * 3000 / n3:.2f}")
    if out is not None:
        rows.assign(device=name, shape=shape).to_csv(out, index=False)


if __name__ == "__main__":
    main()
