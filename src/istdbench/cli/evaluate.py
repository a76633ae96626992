"""``istdbench evaluate``: score saved target maps against a sequence's or an image set's ground truth."""

from __future__ import annotations

import dataclasses
import json
import math
import re
from pathlib import Path
from typing import Any

import click
import numpy as np

from istdbench.core.errors import DataError, InvalidParameterError
from istdbench.core.io import load_maps
from istdbench.core.runfolder import JOB_META
from istdbench.core.sorting import natural_key
from istdbench.core.types import Sequence

from . import main
from ._threads import threads_option


def read_png_maps(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """PNG maps of a folder as float64 in [0, 1] by their bit depth, and their frame numbers.

    8-bit maps are ``k / 255`` and 16-bit maps ``k / 65535`` (MATLAB ``im2double``).
    Files are taken in natural name order; frame numbers come from the digits of
    the names (``0004.png`` -> 4) when every name has distinct ones, else 1..N.
    """
    from istdbench.datasets.images import read_frame

    paths = sorted(folder.glob("*.png"), key=lambda p: natural_key(p.stem))
    if not paths:
        raise DataError(f"--maps-dir {str(folder)!r} holds no .png files.")
    maps = [read_frame(p) for p in paths]  # a corrupt file: a DataError that names it
    digits = [re.findall(r"\d+", p.stem) for p in paths]
    numbers = np.array([int(d[-1]) for d in digits]) if all(digits) else np.zeros(0)
    if len(set(numbers.tolist())) != len(paths) or numbers.min(initial=1) < 1:  # no number or a repeated one
        numbers = np.arange(1, len(paths) + 1)
    shapes = {m.shape for m in maps}
    if len(shapes) != 1:
        raise DataError(f"PNG maps in {str(folder)!r} differ in size: {sorted(shapes)}.")
    return np.stack(maps), numbers


def made_on(meta: dict[str, Any], maps_file: Path) -> tuple[str | None, str | None]:
    """The sequence name and data hash the maps were made on: from their ``meta``, else the job's ``job.json``.

    A job folder of a run stores ``maps.npz`` without ``meta``; its ``job.json`` names the sequence.
    """
    name, data_hash = meta.get("sequence"), meta.get("data_hash")
    job_file = maps_file.parent / JOB_META
    if name is None and job_file.is_file():
        try:
            job = json.loads(job_file.read_text(encoding="utf-8")).get("job") or {}
        except (OSError, ValueError, AttributeError):
            job = {}
        name, data_hash = job.get("sequence"), job.get("data_hash")
    return (str(name) if name else None), (str(data_hash) if data_hash else None)


def check_made_on(maps_file: Path, meta: dict[str, Any], seq: Sequence, force: bool) -> str:
    """Refuse maps made on another sequence or on other data (a warning instead with ``force``).

    Returns the warning ("" when the maps match or record nothing to compare).
    """
    name, data_hash = made_on(meta, maps_file)
    problem = ""
    if name is not None and name != seq.name:
        problem = f"{maps_file} holds maps of sequence {name!r}, not of {seq.name!r}"
    elif data_hash is not None and data_hash != seq.provenance.data_hash:
        problem = (
            f"{maps_file} was made on data with hash {data_hash}; the frames of {seq.name!r} it names hash to "
            f"{seq.provenance.data_hash} (the clip or the frame range changed since)"
        )
    if not problem:
        return ""
    if not force:
        raise DataError(f"{problem}. Give the sequence the maps were made on, or --force to score them anyway.")
    return f"{problem}; scored anyway (--force)."


def select_frames(seq: Sequence, numbers: np.ndarray) -> Sequence:
    """The frames of ``seq`` whose 1-based source numbers are ``numbers``, in that order."""
    have = {n: i for i, n in enumerate(seq.provenance.frame_numbers)}
    missing = [int(n) for n in numbers if int(n) not in have]
    if missing:
        raise DataError(f"maps name frame(s) {missing[:10]} that sequence {seq.name!r} does not have.")
    idx = [have[int(n)] for n in numbers]
    if idx == list(range(len(seq))):
        return seq
    return Sequence(
        frames=seq.frames[idx],
        name=seq.name,
        masks=None if seq.masks is None else seq.masks[idx],
        points=None if seq.points is None else tuple(seq.points[i] for i in idx),
        provenance=dataclasses.replace(seq.provenance, frame_numbers=tuple(int(n) for n in numbers)),
    )


def _plain(value: float) -> float | None:
    return value if math.isfinite(value) else None


@main.command("evaluate")
@click.argument("inputs", nargs=-1, metavar="[MAPS.npz] SEQ")
@click.option(
    "--maps-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A folder of 8- or 16-bit PNG maps instead of MAPS.npz.",
)
@click.option(
    "--protocol",
    default="tensoristd",
    show_default=True,
    help="tensoristd, clean, clean:norm=sequence (3-D ROC and all metrics) or basicirstd (IoU, nIoU, F1, Pd, Fa; "
    "see metrics/PROTOCOLS.md).",
)
@click.option(
    "--threshold",
    default=None,
    help="Binarisation for IoU/F1/nIoU/Pd/Fa: ratio:R, chunk-max:R[,L], minmax:R, fixed:X or adaptive:K "
    "(default: the protocol's, ratio:0.5; minmax:0.5 for basicirstd).",
)
@click.option(
    "--binarize",
    default=None,
    metavar="RULE",
    help="Score the maps RULE cuts to 0/1 (e.g. chunk-max:0.4), as the toolbox scores the PNGs RULE writes.",
)
@click.option("--split", help="Named split of an image set, e.g. test_NUAA-SIRST (default: the whole set).")
@click.option(
    "--gt",
    default="",
    metavar="SOURCE",
    help="Ground truth: the data's own annotations (default) or derived[:peak-fraction=F,radius=R,...], masks "
    "grown from the points (see datasets/derived.py); the output names it.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object (non-finite values as null).")
@click.option("--data-root", type=click.Path(file_okay=False), help="Root of the named datasets ($ISTDBENCH_DATA).")
@click.option(
    "--force", is_flag=True, help="Score maps made on another sequence or other data anyway (with a warning)."
)
@threads_option
def evaluate_cmd(
    inputs, maps_dir, protocol, threshold, binarize, split, gt, as_json, data_root, force, threads
) -> None:
    """Print every metric of the maps in MAPS.npz (or --maps-dir) against SEQ, a sequence or an image set.

    A sequence is a catalog name, a folder or a synthetic spec, as for ``detect``; the maps' frame
    numbers (the ``frames`` key, else 1..T) select its frames. An image set (``sirst``, a dataset
    folder) is scored with --split as the maps were made; --maps-dir then holds <image name>.png maps.
    ``--binarize chunk-max:R`` without a chunk length takes the one of the method recorded in
    MAPS.npz, else 80. Maps that record the sequence and data they were made on (``detect``'s
    files, a run's job folders) are refused against another sequence unless --force.
    """
    from istdbench.runners.execute import thread_limit

    with thread_limit(threads, torch=False):
        _evaluate(inputs, maps_dir, protocol, threshold, binarize, split, gt, as_json, data_root, force, threads)


def _evaluate(inputs, maps_dir, protocol, threshold, binarize, split, gt, as_json, data_root, force, threads) -> None:
    from istdbench.core.io import is_image_set_maps
    from istdbench.datasets.catalog import is_image_set, load_sequence
    from istdbench.datasets.derived import canonical_gt, with_derived_masks
    from istdbench.metrics.evaluate import evaluate_full
    from istdbench.metrics.protocols import with_binarize

    gt = canonical_gt(gt)
    want = 1 if maps_dir is not None else 2
    if len(inputs) != want:
        usage = "SEQ (with --maps-dir)" if maps_dir is not None else "MAPS.npz SEQ"
        raise InvalidParameterError(f"evaluate expects {usage}; got {len(inputs)} argument(s): {list(inputs)}.")
    if is_image_set(inputs[-1], data_root) or (maps_dir is None and is_image_set_maps(inputs[0])):
        from ._imagesets import evaluate_image_set

        maps_file = None if maps_dir is not None else inputs[0]
        protocol = with_binarize(protocol, binarize).spec if binarize is not None else protocol
        evaluate_image_set(maps_file, maps_dir, inputs[-1], data_root, split, protocol, threshold, as_json, gt)
        return
    if split is not None:
        raise InvalidParameterError(f"{inputs[-1]!r} is a sequence: --split applies to image sets only.")
    meta: dict = {}
    warning = ""
    if maps_dir is not None:
        maps, numbers = read_png_maps(maps_dir)
    else:
        maps, numbers, meta = load_maps(inputs[0])
        numbers = np.arange(1, len(maps) + 1) if numbers is None else numbers
    seq = load_sequence(inputs[-1], data_root, (int(numbers.min()), int(numbers.max())))
    if maps_dir is None:
        warning = check_made_on(Path(inputs[0]), meta, seq, force)
    seq = select_frames(seq, numbers)
    if gt:
        seq = with_derived_masks(seq, gt)
    if binarize is not None:
        chunk = (meta.get("config") or {}).get("chunk_length")
        protocol = with_binarize(protocol, binarize, chunk if isinstance(chunk, int) and chunk >= 1 else 80)
    result = evaluate_full(maps, seq, protocol, threshold)
    if as_json:
        out = {k: _plain(v) for k, v in result.metrics.items()}
        out.update(sequence=seq.name, protocol=result.protocol, threshold=result.threshold, n_frames=len(seq), gt=gt)
        if result.roc is not None:
            out.update(frames_scored_fpr=result.roc.n_frames_fpr)
        out.update(threads=threads, **({"warning": warning} if warning else {}))
        click.echo(json.dumps(out, indent=2))
        return
    if warning:
        click.echo(f"warning: {warning}")
    truth = f"; ground truth {gt}" if gt else ""
    click.echo(
        f"{seq.name}, {len(seq)} frames; protocol {result.protocol}, threshold {result.threshold}{truth}; "
        f"{threads} thread(s)"
    )
    for key, value in result.metrics.items():
        click.echo(f"{key:<12} {value:.10g}")
