"""RPCANet on a SIRST split scored the way its authors score it: at 256 x 256, beside the suite's scoring.

The authors' ``cal_metric_istd.py`` keeps the network's 256 x 256 map, resizes
each mask to 256 x 256 with OpenCV's INTER_NEAREST, and pools over the split:
IoU and F1 from TP/FP/FN of ``map / max(map) > 0.5`` against the mask; Pd as the
share of 8-connected mask components touched by a detected pixel; Fa as
detected background pixels over background pixels. The suite instead maps the
map back to each image's own size and scores it there (``basicirstd``
protocol). This script runs the network once per image at 256 x 256 and prints
both, so the part of a gap to the published numbers that comes from the
scoring size can be read off.

Example::

    ISTDBENCH_WEIGHTS=../shared/weights python benchmarks/sirst_authors_scoring.py --split test \
        --data-root ../shared/data
"""

from __future__ import annotations

import click
import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage

import istdbench
from istdbench.core.types import ImageSet
from istdbench.datasets.catalog import load_image_set

SIDE = 256


def nearest_resize(mask: np.ndarray, side: int) -> np.ndarray:
    """OpenCV's INTER_NEAREST to side x side: destination pixel i takes source pixel floor(i * n / side)."""
    rows = np.minimum((np.arange(side) * mask.shape[0] / side).astype(int), mask.shape[0] - 1)
    cols = np.minimum((np.arange(side) * mask.shape[1] / side).astype(int), mask.shape[1] - 1)
    return mask[np.ix_(rows, cols)]


def bilinear_resize(img: np.ndarray, side: int) -> np.ndarray:
    """The method's own input resize (bilinear, half-pixel centres, no antialiasing), rounded to k/255."""
    x = F.interpolate(torch.from_numpy(np.array(img, np.float32))[None, None], size=(side, side), mode="bilinear")
    return (torch.round(x.clamp(0, 1) * 255) / 255)[0, 0].numpy()


def authors_scores(maps: list[np.ndarray], masks: list[np.ndarray]) -> dict[str, float]:
    """IoU, F1, Pd, Fa as ``cal_metric_istd.py`` pools them (maps and masks of one size)."""
    tp = fp = fn = 0
    hits = targets = false_px = background = 0
    for m, gt in zip(maps, masks, strict=True):
        pred = m / m.max() > 0.5 if m.max() > 0 else np.zeros_like(gt)
        tp += int((pred & gt).sum())
        fp += int((pred & ~gt).sum())
        fn += int((~pred & gt).sum())
        labels, n = ndimage.label(gt, structure=np.ones((3, 3)))
        if n == 0:
            continue
        targets += n
        hits += sum(bool((pred & (labels == k)).any()) for k in range(1, n + 1))
        false_px += int((pred & ~gt).sum())
        background += int((~gt).sum())
    prec, rec = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
    return {
        "IoU": tp / max(tp + fp + fn, 1),
        "F1": 2 * prec * rec / max(prec + rec, 1e-12),
        "Pd": hits / max(targets, 1),
        "Fa": false_px / max(background, 1),
    }


@click.command()
@click.option("--split", default="test", show_default=True, help="Named split of the sirst image set.")
@click.option("--preset", default="sirst", show_default=True, help="RPCANet preset (weights).")
@click.option("--data-root", required=True, type=click.Path(file_okay=False))
def main(split: str, preset: str, data_root: str) -> None:
    images = load_image_set("sirst", data_root, split)
    small = ImageSet(
        images=[bilinear_resize(img, SIDE) for img in images.images],
        names=images.names,
        name=images.name,
    )
    det = istdbench.create_method("rpcanet", preset=preset, overrides={"input_size": SIDE}).detect(small)
    masks = [nearest_resize(np.asarray(m, bool), SIDE) for m in images.masks]
    scores = authors_scores(list(det.targets), masks)
    click.echo(f"rpcanet[{preset}] on sirst/{split} ({len(images)} images), scored at {SIDE}x{SIDE} as the authors:")
    click.echo(
        f"IoU {100 * scores['IoU']:.2f}  F1 {100 * scores['F1']:.2f}  Pd {100 * scores['Pd']:.2f}  "
        f"Fa {1e6 * scores['Fa']:.2f}e-6"
    )


if __name__ == "__main__":
    main()
