"""3DSTPM on the real clips: per-clip 3-D ROC AUCs under the ``tensoristd`` protocol.

Each clip is fitted with the `paper` preset (plus ``--set`` overrides) and
scored with `istdbench.metrics.roc3d.roc3d`; each row is appended to
``--out`` as soon as it is scored. With ``--state-dir`` each fit is saved
every 100 steps, so a stopped run loses at most 100 steps: run the same
command again (for the clips not yet finished) to continue. ``--checkpoints``
also scores the map at earlier iteration counts of single-chunk clips; those
rows carry ``final = False`` and are diagnostics of convergence, not the
method's quality.

Run (about 3000 x s/iteration per 80-frame clip)::

    OMP_NUM_THREADS=2 nice python benchmarks/quality_stpm3d.py --clips daub/sequence1 --out stpm3d_daub.csv
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import click
import numpy as np
import torch
from result_rows import append_rows

from istdbench.core.config import parse_assignments
from istdbench.core.types import Sequence
from istdbench.datasets.catalog import load_sequence
from istdbench.methods._fitstate import chunk_state
from istdbench.methods.stpm3d import STPM3D, fit_chunk
from istdbench.metrics.roc3d import AUC_KEYS, roc3d

log = logging.getLogger("quality_stpm3d")
DAUB = tuple(f"daub/sequence{i}" for i in range(1, 9))
COLUMNS = [
    *("clip", "frames", "iterations", "final", "protocol"),
    *AUC_KEYS,
    *("lr", "runtime_s", "s_per_frame", "s_per_iteration", "loss_first", "loss_last", "device", "config_hash"),
    "iterations_run",
]


def parse_crop(text: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """``"R0:R1,C0:C1"`` -> ((R0, R1), (C0, C1))."""
    try:
        rows, cols = (tuple(int(v) for v in part.split(":", 1)) for part in text.split(","))
        return (rows[0], rows[1]), (cols[0], cols[1])
    except (ValueError, IndexError) as exc:
        raise click.BadParameter(f"{text!r} is not of the form R0:R1,C0:C1 (e.g. 32:160,36:164)") from exc


def score(maps: np.ndarray, seq: Sequence) -> dict[str, float]:
    """The eight AUCs of the ``tensoristd`` 3-D ROC, plus the protocol's name@version."""
    res = roc3d(maps, seq, "tensoristd")
    return {"protocol": res.protocol, **res.aucs}


def run_clip(
    seq: Sequence, method: STPM3D, checkpoints: tuple[int, ...], maps_dir: Path | None, out: Path
) -> dict[str, object]:
    """Fit one clip, append its checkpoint rows and then its final row to ``out``; return the final row.

    With ``method.state_dir`` set, a stopped fit resumes from its last saved
    step; checkpoints it had passed were already written then. ``runtime_s``
    and ``s_per_iteration`` cover the steps run by this call
    (``iterations_run``).
    """
    cfg = method.config
    base = {
        "clip": seq.name,
        "lr": cfg.lr,
        "frames": f"{seq.provenance.frame_numbers[0]}-{seq.provenance.frame_numbers[-1]}",
    }

    def watch(done: int, b: torch.Tensor) -> None:
        if done in checkpoints:
            maps = seq.frames - b.to("cpu", torch.float32).numpy()
            row = {**base, "iterations": done, "final": False, **score(maps, seq)}
            append_rows(out, [row], COLUMNS)
            log.info("%s after %d iterations (checkpoint): %s", seq.name, done, row)

    start = time.perf_counter()
    if len(seq) <= cfg.chunk_length and checkpoints:
        state = chunk_state(method.state_dir, method.name, cfg.config_hash(), method.device, cfg.seed, seq.frames)
        fitted = fit_chunk(seq.frames, cfg, method.device, seed=cfg.seed, on_step=watch, state=state)
        target, background, chunks = fitted.target, fitted.background, [fitted.diagnostics]
    else:
        det = method.detect(seq)
        target, background, chunks = det.target, det.background, det.diagnostics["chunks"]
    elapsed = time.perf_counter() - start
    steps_run = sum(cfg.iterations - c["resumed_from"] for c in chunks)
    loss = chunks[-1]["loss"]
    final = {**base, "iterations": cfg.iterations, "final": True, **score(target, seq)}
    final.update(
        runtime_s=elapsed,
        s_per_frame=elapsed / len(seq),
        s_per_iteration=elapsed / steps_run if steps_run else float("nan"),
        iterations_run=steps_run,
        loss_first=loss[0],
        loss_last=loss[-1],
        device=method.device,
        config_hash=cfg.config_hash(),
    )
    append_rows(out, [final], COLUMNS)
    if maps_dir is not None:
        maps_dir.mkdir(parents=True, exist_ok=True)
        name = seq.name.replace("/", "_")
        np.savez_compressed(
            maps_dir / f"{name}.npz",
            target=target,
            background=background,
            frames=np.asarray(seq.provenance.frame_numbers),
        )
    return final


@click.command()
@click.option("--clips", default=",".join(DAUB), show_default=True, help="Comma-separated catalog names.")
@click.option("--frames", default="1:80", show_default=True, help="1-based inclusive frame range.")
@click.option("--data-root", type=click.Path(path_type=Path), default=None, help="Default: $ISTDBENCH_DATA.")
@click.option("--set", "overrides", multiple=True, help="Config override key=value (repeatable).")
@click.option("--checkpoints", default="", help="Also score after these iteration counts (e.g. 500,1000).")
@click.option(
    "--crop",
    default=None,
    help="Fit and score only the region R0:R1,C0:C1 (zero-based, end exclusive), e.g. 32:160,36:164.",
)
@click.option("--device", default="cpu", show_default=True)
@click.option("--threads", default=2, show_default=True)
@click.option("--maps-dir", type=click.Path(path_type=Path), default=None, help="Save T and B per clip here.")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="CSV, appended row by row.")
@click.option(
    "--state-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Save each fit every 100 steps here; the same command resumes a stopped run.",
)
def main(
    clips: str,
    frames: str,
    data_root: Path | None,
    overrides: tuple[str, ...],
    checkpoints: str,
    crop: str | None,
    device: str,
    threads: int,
    maps_dir: Path | None,
    out: Path,
    state_dir: Path | None,
) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    torch.set_num_threads(threads)
    out.parent.mkdir(parents=True, exist_ok=True)
    method = STPM3D(overrides=parse_assignments(overrides), device=device, state_dir=state_dir)
    first, last = (int(x) for x in frames.split(":"))
    marks = tuple(int(x) for x in checkpoints.split(",") if x)
    for clip in clips.split(","):
        seq = load_sequence(clip, data_root, (first, last))
        if crop:
            seq = seq.crop(*parse_crop(crop))
        final = run_clip(seq, method, marks, maps_dir, out)
        log.info("%s final: %s", clip, final)


if __name__ == "__main__":
    main()
