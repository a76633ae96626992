"""3DSTPM on the real clips: per-clip 3-D ROC AUCs under the ``tensoristd`` protocol.

Each clip is fitted with the `paper` preset (plus ``--set`` overrides) and
scored with `istdbench.metrics.roc3d.roc3d`; one CSV row per clip is
appended to ``--out`` as soon as the clip finishes, so a long run can be
stopped and its finished clips kept. ``--checkpoints`` also scores the map
at earlier iteration counts of single-chunk clips; those rows carry
``final = False`` and are diagnostics of convergence, not the method's quality.

Run (about 3000 x s/iteration per 80-frame clip)::

    OMP_NUM_THREADS=2 nice python benchmarks/quality_stpm3d.py --clips daub/sequence1 --out stpm3d_daub.csv
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import click
import numpy as np
import pandas as pd
import torch

from istdbench.config import parse_assignments
from istdbench.datasets.catalog import load_sequence
from istdbench.methods.stpm3d import STPM3D, fit_chunk
from istdbench.metrics.roc3d import roc3d
from istdbench.types import Sequence

log = logging.getLogger("quality_stpm3d")
DAUB = tuple(f"daub/sequence{i}" for i in range(1, 9))


def score(maps: np.ndarray, seq: Sequence) -> dict[str, float]:
    """The eight AUCs of the ``tensoristd`` 3-D ROC, plus the protocol's name@version."""
    res = roc3d(maps, seq, "tensoristd")
    return {"protocol": res.protocol, **res.aucs}


def run_clip(
    seq: Sequence, method: STPM3D, checkpoints: tuple[int, ...], maps_dir: Path | None
) -> list[dict[str, object]]:
    """Fit one clip and return its rows (checkpoint rows first, the final row last)."""
    cfg = method.config
    rows: list[dict[str, object]] = []
    base = {"clip": seq.name, "frames": f"{seq.provenance.frame_numbers[0]}-{seq.provenance.frame_numbers[-1]}"}

    def watch(done: int, b: torch.Tensor) -> None:
        if done in checkpoints:
            maps = seq.frames - b.to("cpu", torch.float32).numpy()
            rows.append({**base, "iterations": done, "final": False, **score(maps, seq)})
            log.info("%s after %d iterations (checkpoint): %s", seq.name, done, rows[-1])

    start = time.perf_counter()
    if len(seq) <= cfg.chunk_length and checkpoints:
        out = fit_chunk(seq.frames, cfg, method.device, seed=cfg.seed, on_step=watch)
        target, background, loss = out.target, out.background, out.diagnostics["loss"]
    else:
        det = method.detect(seq)
        target, background = det.target, det.background
        loss = det.diagnostics["chunks"][-1]["loss"]
    elapsed = time.perf_counter() - start
    final = {**base, "iterations": cfg.iterations, "final": True, **score(target, seq)}
    final.update(
        runtime_s=elapsed,
        s_per_frame=elapsed / len(seq),
        s_per_iteration=elapsed / (cfg.iterations * -(-len(seq) // cfg.chunk_length)),
        loss_first=loss[0],
        loss_last=loss[-1],
        device=method.device,
        config_hash=cfg.config_hash(),
    )
    rows.append(final)
    if maps_dir is not None:
        maps_dir.mkdir(parents=True, exist_ok=True)
        name = seq.name.replace("/", "_")
        np.savez_compressed(
            maps_dir / f"{name}.npz",
            target=target,
            background=background,
            frames=np.asarray(seq.provenance.frame_numbers),
        )
    return rows


@click.command()
@click.option("--clips", default=",".join(DAUB), show_default=True, help="Comma-separated catalog names.")
@click.option("--frames", default="1:80", show_default=True, help="1-based inclusive frame range.")
@click.option("--data-root", type=click.Path(path_type=Path), default=None, help="Default: $ISTDBENCH_DATA.")
@click.option("--set", "overrides", multiple=True, help="Config override key=value (repeatable).")
@click.option("--checkpoints", default="", help="Also score after these iteration counts (e.g. 500,1000).")
@click.option("--device", default="cpu", show_default=True)
@click.option("--threads", default=2, show_default=True)
@click.option("--maps-dir", type=click.Path(path_type=Path), default=None, help="Save T and B per clip here.")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="CSV, appended clip by clip.")
def main(
    clips: str,
    frames: str,
    data_root: Path | None,
    overrides: tuple[str, ...],
    checkpoints: str,
    device: str,
    threads: int,
    maps_dir: Path | None,
    out: Path,
) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    torch.set_num_threads(threads)
    method = STPM3D(overrides=parse_assignments(overrides), device=device)
    first, last = (int(x) for x in frames.split(":"))
    marks = tuple(int(x) for x in checkpoints.split(",") if x)
    for clip in clips.split(","):
        seq = load_sequence(clip, data_root, (first, last))
        rows = run_clip(seq, method, marks, maps_dir)
        pd.DataFrame(rows).to_csv(out, mode="a", header=not out.exists(), index=False)
        log.info("%s final: %s", clip, rows[-1])


if __name__ == "__main__":
    main()
