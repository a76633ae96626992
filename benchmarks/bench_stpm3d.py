"""Seconds per 3DSTPM iteration, and per tensor-nuclear-norm evaluation, for each nuclear-norm kernel.

One Adam iteration of 3DSTPM at 256 x 256 x 80 is timed with the slice nuclear
norms computed by full SVD (``svd``, torch's own gradient), by ``eigh`` of the
float64 Gram matrix (``gram64``) and of the float32 one (``gram32``, cheaper,
inexact on real frames); ``tnn="auto"`` takes ``svd`` on a CPU and ``gram64``
on CUDA. The kernels are timed round-robin in the same process, so that load
from other processes hits all of them alike; medians are reported, and ratios
to ``svd``. In the same rounds, the forward + backward pass of the default CNN
g is timed with our convolution (`Conv3x3x3`) and with ``nn.Conv3d``. Besides
wall time, the process CPU time is recorded: on a shared machine it measures
the work done, where wall time also counts the waiting.
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

from istdbench.methods.stpm3d import Conv3x3x3, STPM3DConfig, STPM3DNet, tensor_nuclear_norm, total_variation

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


def bench_conv(shape: tuple[int, int, int], repeats: int, device: str) -> pd.DataFrame:
    """Rows (conv, repeat, seconds) for forward + backward of g (Conv3d, BatchNorm3d, LeakyReLU, Conv3d)."""
    now = _timer(device)
    gen = torch.Generator().manual_seed(0)
    z = torch.rand((1, 1, *shape), generator=gen).to(device).requires_grad_()
    ours = STPM3DNet(shape, STPM3DConfig(), gen).g.to(device)
    library = torch.nn.Sequential(*[_as_library_conv(m) for m in ours]).to(device)
    rows = []
    for rep in range(repeats + 1):
        for name, g in (("ours", ours), ("nn.Conv3d", library)):
            start = now()
            g(z).square().sum().backward()
            if rep:
                rows.append({"conv": name, "repeat": rep, **_since(start, now())})
    return pd.DataFrame(rows)


def _as_library_conv(module: torch.nn.Module) -> torch.nn.Module:
    """``nn.Conv3d`` with the weights of a `Conv3x3x3`; other modules unchanged."""
    if not isinstance(module, Conv3x3x3):
        return module
    conv = torch.nn.Conv3d(module.in_channels, module.out_channels, 3, padding=1)
    conv.load_state_dict(module.state_dict())
    return conv


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
    auto = "svd" if device == "cpu" else "gram64"
    per_iter = rows[(rows.kernel == auto) & (rows.part == "iteration")].seconds.median()
    click.echo(f"s/frame at t_max = 3000 iterations with {auto} (wall): {per_iter * 3000 / n3:.2f}")
    conv = bench_conv((n3, n1, n2), repeats, device).groupby("conv")[["seconds", "cpu_seconds"]].median()
    click.echo(f"CNN g forward + backward, medians of {repeats}:")
    click.echo(conv.to_string(float_format=lambda v: f"{v:.3f}"))
    click.echo(f"nn.Conv3d / ours (wall): {conv.seconds['nn.Conv3d'] / conv.seconds['ours']:.1f}x")
    if out is not None:
        rows.assign(device=name, shape=shape).to_csv(out, index=False)


if __name__ == "__main__":
    main()
