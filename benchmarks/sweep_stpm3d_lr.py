"""Learning-rate sweep for 3DSTPM on synthetic sequences (the paper does not publish its learning rate).

Fits the `paper` preset (all other settings fixed, t_max = 3000) at each
learning rate on seeded synthetic clips and reports the pixel-level ROC AUC of
the raw target map against the exact masks, the ``tensoristd`` 3-D ROC scores
the real-data tables use (ODP, SNPR, AUC(tau,TPR), AUC(tau,FPR)), the final
loss, and the wall time. The table of each run is in the `STPM3D` docstring.

Run (tiny clips, about 15 CPU-minutes; the 128 x 128 x 80 clips of the
docstring take about 15 CPU-minutes per rate)::

    OMP_NUM_THREADS=1 python benchmarks/sweep_stpm3d_lr.py --out sweep_stpm3d_lr.csv
    OMP_NUM_THREADS=1 python benchmarks/sweep_stpm3d_lr.py --size 128 --frames 80 --clutter ground \
        --lrs 1e-3 --seeds 0 --out lr1e-3.csv        # one rate per process, side by side
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import click
import pandas as pd
import torch
from sklearn.metrics import roc_auc_score

from istdbench.datasets.synthetic import SyntheticSpec, make_sequence
from istdbench.methods.stpm3d import STPM3DConfig, fit_chunk
from istdbench.metrics.roc3d import roc3d

log = logging.getLogger("sweep_stpm3d_lr")


SCORES = ("AUC_ODP", "AUC_SNPR", "AUC_tau_TPR", "AUC_tau_FPR")


def run_sweep(
    lrs: tuple[float, ...], seeds: tuple[int, ...], size: int, frames: int, iterations: int, clutter: str
) -> pd.DataFrame:
    """One row per (lr, clip): pixel AUC of T against the masks, the 3-D ROC scores, final loss, seconds."""
    rows = []
    for seed in seeds:
        seq = make_sequence(SyntheticSpec(h=size, w=size, t=frames, seed=seed, clutter=clutter))
        for lr in lrs:
            cfg = STPM3DConfig(lr=lr, iterations=iterations, chunk_length=frames)
            start = time.perf_counter()
            out = fit_chunk(seq.frames, cfg, desc=f"lr {lr:g} clip {seed}")
            elapsed = time.perf_counter() - start
            auc = roc_auc_score(seq.masks.ravel(), out.target.ravel())
            roc = roc3d(out.target, seq, "tensoristd")
            loss = out.diagnostics["loss"]
            rows.append(
                {
                    "lr": lr,
                    "clip_seed": seed,
                    "size": size,
                    "frames": frames,
                    "clutter": clutter,
                    "pixel_auc": auc,
                    **{k: roc.aucs[k] for k in SCORES},
                    "loss_first": loss[0],
                    "loss_last": loss[-1],
                    "seconds": elapsed,
                }
            )
            log.info("lr %g clip %d: AUC %.4f, loss %.4g -> %.4g (%.1f s)", lr, seed, auc, loss[0], loss[-1], elapsed)
    return pd.DataFrame(rows)


@click.command()
@click.option("--lrs", default="3e-5,1e-4,3e-4,1e-3,3e-3,1e-2,3e-2", show_default=True, help="Comma-separated.")
@click.option("--seeds", default="0,1", show_default=True, help="Synthetic clip seeds.")
@click.option("--size", default=32, show_default=True, help="Frame height and width.")
@click.option("--frames", default=16, show_default=True, help="Frames per clip (one chunk).")
@click.option("--iterations", default=3000, show_default=True)
@click.option("--clutter", default="cloud", show_default=True, help="Synthetic background: cloud, ground or mixed.")
@click.option("--threads", default=1, show_default=True)
@click.option("--out", type=click.Path(path_type=Path), default=None, help="CSV of every run.")
def main(
    lrs: str, seeds: str, size: int, frames: int, iterations: int, clutter: str, threads: int, out: Path | None
) -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    torch.set_num_threads(threads)
    table = run_sweep(
        tuple(float(x) for x in lrs.split(",")),
        tuple(int(x) for x in seeds.split(",")),
        size,
        frames,
        iterations,
        clutter,
    )
    summary = table.groupby("lr")[["pixel_auc", *SCORES, "loss_last", "seconds"]].mean()
    click.echo(summary.to_string(float_format=lambda v: f"{v:.4g}"))
    click.echo(
        f"best lr by mean pixel AUC: {summary['pixel_auc'].idxmax():g}, by mean ODP: {summary['AUC_ODP'].idxmax():g}"
    )
    if out is not None:
        table.to_csv(out, index=False)


if __name__ == "__main__":
    main()
