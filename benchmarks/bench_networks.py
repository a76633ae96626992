"""Seconds per 256x256 frame of RPCANet and RDIAN, the whole method path (resize, network, map back).

For each network it times ``detect`` on random 256x256 frames after a
warm-up, on the CPU with one thread and with all the machine's threads, and on
CUDA when a GPU is present, and prints wall and process-CPU seconds per frame.
The input size is each network's own test size (RPCANet 256, RDIAN 512, so a
256x256 frame is upsampled to 512x512 for RDIAN). The speed does not depend on
the weights' values: with ``$ISTDBENCH_WEIGHTS`` unset a random ``state_dict``
is used.

Example::

    python benchmarks/bench_networks.py --frames 4 --repeats 2
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import click
import numpy as np
import torch

import istdbench
from istdbench.core.types import Sequence
from istdbench.methods._weights import WEIGHTS_ENV

NETWORKS = ("rpcanet", "rdian")


def _weights(name: str, folder: Path) -> str | None:
    """None (the preset's file) when a weights folder is set, else a random state_dict saved in ``folder``."""
    if os.environ.get(WEIGHTS_ENV):
        return None
    path = folder / f"{name}.pt"
    torch.save(istdbench.get_method(name).build().state_dict(), path)
    return str(path)


def time_network(name: str, weights: str | None, device: str, frames: int, repeats: int) -> tuple[float, float]:
    """Best (wall, CPU) seconds per frame over ``repeats`` detections of ``frames`` 256x256 frames."""
    overrides = {} if weights is None else {"weights": weights}
    method = istdbench.create_method(name, overrides=overrides, device=device)
    seq = Sequence(np.random.default_rng(0).random((frames, 256, 256), dtype=np.float32))
    method.detect(Sequence(seq.frames[:1]))  # warm-up: load the weights, allocate, pick kernels
    best = (np.inf, np.inf)
    for _ in range(repeats):
        if device != "cpu":
            torch.cuda.synchronize()
        start, cpu = time.perf_counter(), time.process_time()
        method.detect(seq)
        if device != "cpu":
            torch.cuda.synchronize()
        best = min(best, ((time.perf_counter() - start) / frames, (time.process_time() - cpu) / frames))
    return best


@click.command()
@click.option("--frames", default=4, show_default=True, help="Frames per timed detection (one batch).")
@click.option("--repeats", default=2, show_default=True, help="Timed detections; the best is kept.")
@click.option("--networks", default=",".join(NETWORKS), show_default=True)
def main(frames: int, repeats: int, networks: str) -> None:
    all_threads = os.cpu_count() or 1
    settings = [("cpu", 1), ("cpu", all_threads)] + ([("cuda", all_threads)] if torch.cuda.is_available() else [])
    click.echo(f"torch {torch.__version__}, {all_threads} CPU threads, CUDA: {torch.cuda.is_available()}")
    click.echo("| network | device | threads | s/frame (wall) | CPU-s/frame |")
    click.echo("|---|---|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for name in networks.split(","):
            weights = _weights(name, Path(tmp))
            for device, threads in settings:
                torch.set_num_threads(threads)
                wall, cpu = time_network(name, weights, device, frames, repeats)
                click.echo(f"| {name} | {device} | {threads} | {wall:.3f} | {cpu:.3f} |")


if __name__ == "__main__":
    main()
