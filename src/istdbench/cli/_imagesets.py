"""The image-set side of ``detect`` and ``evaluate``: saving one map per image, scoring them against a set.

Kept apart from the sequence code paths of the two commands so that each
reads as before; the commands call in here when the data is an `ImageSet`.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

import click
import numpy as np

from istdbench.core.errors import DataError
from istdbench.core.io import load_image_set_maps, save_image_set_detection
from istdbench.core.types import ImageSet, ImageSetDetection

log = logging.getLogger(__name__)


def save_and_report(
    output: str, det: ImageSetDetection, images: ImageSet, preset: str, threads: int | None = None
) -> None:
    """Write the maps of ``images`` to ``output`` and print the one-line summary of ``detect``."""
    path = save_image_set_detection(output, det, images, preset=preset, threads=threads)
    click.echo(
        f"{det.method} on {images.label}: {len(images)} images in {det.runtime_s:.2f} s "
        f"({det.seconds_per_frame:.3f} s/image, {det.device}) -> {path}"
    )


def read_png_image_maps(folder: Path) -> dict[str, np.ndarray]:
    """Image name -> map of a folder of PNG maps named ``<image name>.png`` (8-bit: ``k / 255``).

    This is the layout BasicIRSTD's ``test.py`` writes its predictions in
    (``results/<dataset>/<model>/<name>.png``).
    """
    from istdbench.datasets.imagesets import read_image

    paths = sorted(folder.glob("*.png"))
    if not paths:
        raise DataError(f"--maps-dir {str(folder)!r} holds no .png files.")
    return {p.stem: read_image(p).astype(np.float64) for p in paths}


def evaluate_image_set(
    maps_file: str | None,
    maps_dir: Path | None,
    ref: str,
    data_root: str | None,
    split: str | None,
    protocol: str,
    threshold: str | None,
    as_json: bool,
    gt: str = "",
) -> None:
    """Score the per-image maps of ``maps_file`` (or ``maps_dir``) against image set ``ref`` and print them."""
    from istdbench.core.io import is_image_set_maps
    from istdbench.datasets.catalog import is_image_set, load_image_set
    from istdbench.metrics.evaluate import evaluate_full

    if not is_image_set(ref, data_root):
        raise DataError(f"{maps_file} holds the maps of an image set (one per image), but {ref!r} is no image set.")
    if maps_dir is not None:
        maps, meta = read_png_image_maps(maps_dir), {}
    elif Path(maps_file).is_file() and not is_image_set_maps(maps_file):
        raise DataError(f"{maps_file} holds the (T, H, W) maps of a sequence, but {ref!r} is an image set.")
    else:
        maps, meta = load_image_set_maps(maps_file)
    images = load_image_set(ref, data_root, split)
    _check_against(maps, meta, images, maps_file or str(maps_dir))
    if gt:  # masks grown from the centroids of the true ones (the derived-mask validation)
        from istdbench.datasets.derived import with_derived_masks

        images = with_derived_masks(images, gt)
    result = evaluate_full(maps, images, protocol, threshold)
    if as_json:
        out: dict[str, Any] = {k: _plain(v) for k, v in result.metrics.items()}
        out.update(result.counts)
        out.update(
            dataset=images.name,
            split=images.split,
            protocol=result.protocol,
            threshold=result.threshold,
            n_images=len(images),
            data_hash=images.provenance.data_hash,
            gt=gt,
        )
        click.echo(json.dumps(out, indent=2))
        return
    truth = f"; ground truth {gt}" if gt else ""
    click.echo(f"{images.label}, {len(images)} images; protocol {result.protocol}, threshold {result.threshold}{truth}")
    for key, value in result.metrics.items():
        click.echo(f"{key:<12} {value:.10g}")


def _check_against(maps: dict[str, np.ndarray], meta: dict[str, Any], images: ImageSet, where: str) -> None:
    """Say which split the maps were made on when their images are not the set's; warn on another data hash."""
    if len(maps) != len(images) or set(maps) != set(images.names):
        made_on = meta.get("split")
        hint = ""
        if made_on is not None and made_on != images.split:
            hint = (
                f" (they were made on split {made_on or 'all'!r}: give --split {made_on})"
                if made_on
                else (" (they were made on the whole set: give no --split)")
            )
        raise DataError(
            f"{where} holds {len(maps)} maps but image set {images.label!r} has {len(images)} images"
            f"{', and other names' if len(maps) == len(images) else ''}{hint}."
        )
    recorded = meta.get("data_hash")
    if recorded and recorded != images.provenance.data_hash:
        log.warning(
            "%s was made on data with hash %s; image set %s now has %s (images changed since?)",
            where,
            recorded,
            images.label,
            images.provenance.data_hash,
        )


def _plain(value: float) -> float | None:
    return value if math.isfinite(value) else None
