"""Derived masks: pixel ground truth grown from annotated points, for clips that have points only.

The real clips (daub, easy, city) carry one centre point per target, so IoU,
F1 and nIoU cannot be scored on them. A *derived* mask grows a region from
each point and the image, by a stated rule, so that those metrics exist,
labelled as derived (``gt`` column ``derived:...``), never mixed with real
masks. The rule (spec
``derived:peak-fraction=F,radius=R,ring=K,peak-radius=P,smooth=S,background=Q``):

1. **Peak.** The brightest pixel within Chebyshev distance ``peak-radius`` of
   the rounded point (an annotation or a mask centroid need not sit on the
   peak), in the image smoothed by a Gaussian of sigma ``smooth`` px (0: none).
2. **Background.** The ``background``-th percentile (50: the median) of the
   square ring of pixels at Chebyshev distance ``radius < d <= radius + ring``
   from the peak (clipped to the image): a local estimate just outside the
   largest region the rule may grow.
3. **Cut.** Pixels of the window ``d <= radius`` brighter than
   ``background + peak-fraction * (peak - background)``.
4. **Region.** The 8-connected component of the cut that holds the peak, with
   its holes filled. The window is the size cap: a region never exceeds
   ``(2 radius + 1)^2`` pixels.
5. **No contrast.** Where the peak is not above the background, the region is
   the point's own (rounded) pixel alone.

A frame's (an image's) derived mask is the union of its targets' regions.
The defaults (``derived`` alone) are the parameters tuned on SIRST's
``train_NUAA-SIRST`` split, ``derived:peak-fraction=0.3,radius=7,ring=1,
peak-radius=1,smooth=0,background=70`` (``benchmarks/derived_masks_sirst.py``);
on the 214-image test split their regions reach a mean per-target IoU of 0.751
and a pooled IoU of 0.746 against the true masks (``docs/image-sets.md``).
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from istdbench.core.errors import InvalidParameterError
from istdbench.core.specs import parse_items
from istdbench.core.types import ImageSet, Sequence

PREFIX = "derived"
_EIGHT = np.ones((3, 3), dtype=bool)


@dataclass(frozen=True)
class DerivedRule:
    """The parameters of the derived-mask rule (see the module docstring); `spec` is its canonical string."""

    peak_fraction: float = 0.3
    radius: int = 7
    ring: int = 1
    peak_radius: int = 1
    smooth: float = 0.0
    background: float = 70.0

    def __post_init__(self) -> None:
        checks = {
            "peak_fraction": (0 < self.peak_fraction < 1, "a float in (0, 1)"),
            "radius": (1 <= self.radius <= 64, "an integer in [1, 64]"),
            "ring": (1 <= self.ring <= 16, "an integer in [1, 16]"),
            "peak_radius": (0 <= self.peak_radius <= self.radius, "an integer in [0, radius]"),
            "smooth": (0 <= self.smooth <= 5, "a float in [0, 5]"),
            "background": (0 <= self.background <= 100, "a percentile in [0, 100]"),
        }
        for name, (ok, allowed) in checks.items():
            if not ok:
                raise InvalidParameterError(
                    f"The {_key(name)!r} parameter of derived masks must be {allowed}. "
                    f"Got {getattr(self, name)!r} instead."
                )

    @property
    def spec(self) -> str:
        """Every parameter, in a fixed order: a row's ``gt`` says exactly how its masks were grown."""
        parts = [f"{_key(f.name)}={getattr(self, f.name):g}" for f in dataclasses.fields(self)]
        return f"{PREFIX}:" + ",".join(parts)


def _key(field_name: str) -> str:
    return field_name.replace("_", "-")


def parse_derived(spec: str | DerivedRule) -> DerivedRule:
    """Parse ``derived`` or ``derived:peak-fraction=0.5,radius=7,...`` (missing keys take the defaults)."""
    if isinstance(spec, DerivedRule):
        return spec
    text = str(spec).strip()
    kind, _, body = text.partition(":")
    if kind.strip() != PREFIX:
        raise InvalidParameterError(
            f"ground truth {text!r} is unknown: give 'derived' or 'derived:KEY=VALUE,...' (keys: "
            f"{', '.join(_key(f.name) for f in dataclasses.fields(DerivedRule))})."
        )
    types = {_key(name): tp for name, tp in typing.get_type_hints(DerivedRule).items()}
    values = parse_items(body, types, "parameter of derived masks", text, "derived")
    return DerivedRule(**{k.replace("-", "_"): v for k, v in values.items()})


def canonical_gt(spec: str | None) -> str:
    """``""`` for the data's own annotations (None, ``""``, ``"data"``), else the canonical derived spec."""
    if spec is None or str(spec).strip() in ("", "data"):
        return ""
    return parse_derived(spec).spec


def target_region(image: np.ndarray, point: np.ndarray, rule: DerivedRule) -> np.ndarray:
    """The region grown from one zero-based (row, col) ``point``: a bool mask the shape of ``image``."""
    img = np.asarray(image)
    h, w = img.shape
    r0, c0 = (int(np.clip(np.floor(v + 0.5), 0, n - 1)) for v, n in zip(point, (h, w), strict=True))
    reach = rule.radius + rule.ring + rule.peak_radius + (int(np.ceil(3 * rule.smooth)) if rule.smooth else 0)
    top, left = max(r0 - reach, 0), max(c0 - reach, 0)
    crop = img[top : min(r0 + reach + 1, h), left : min(c0 + reach + 1, w)].astype(np.float64)
    if rule.smooth:
        crop = ndimage.gaussian_filter(crop, rule.smooth, mode="nearest")
    pr, pc = r0 - top, c0 - left
    p = rule.peak_radius
    near = crop[max(pr - p, 0) : pr + p + 1, max(pc - p, 0) : pc + p + 1]
    dr, dc = np.unravel_index(int(np.argmax(near)), near.shape)
    pr, pc = max(pr - p, 0) + int(dr), max(pc - p, 0) + int(dc)
    rows, cols = np.ogrid[: crop.shape[0], : crop.shape[1]]
    dist = np.maximum(np.abs(rows - pr), np.abs(cols - pc))
    ring = crop[(dist > rule.radius) & (dist <= rule.radius + rule.ring)]
    peak = crop[pr, pc]
    background = float(np.percentile(ring, rule.background)) if ring.size else float(crop.min())
    out = np.zeros((h, w), dtype=bool)
    if not peak > background:
        out[r0, c0] = True
        return out
    cut = (crop > background + rule.peak_fraction * (peak - background)) & (dist <= rule.radius)
    labels, _ = ndimage.label(cut, structure=_EIGHT)
    region = ndimage.binary_fill_holes(labels == labels[pr, pc])
    out[top : top + crop.shape[0], left : left + crop.shape[1]] = region
    return out


def derive_mask(image: np.ndarray, points: np.ndarray, rule: DerivedRule) -> np.ndarray:
    """The union of the regions grown from every (row, col) point of one frame or image."""
    out = np.zeros(np.shape(image), dtype=bool)
    for point in np.asarray(points, dtype=np.float64).reshape(-1, 2):
        out |= target_region(image, point, rule)
    return out


def with_derived_masks(data: Sequence | ImageSet, spec: str | DerivedRule) -> Sequence | ImageSet:
    """``data`` with its masks replaced by derived ones grown from its target centres.

    The centres are the annotated points, or the centroids of the components of
    masks the data already has (the validation on SIRST): the derived masks
    replace the real ones entirely, so the two are never mixed in one score.
    """
    from istdbench.metrics.groundtruth import centres

    rule = parse_derived(spec)
    points = centres(data)
    if isinstance(data, ImageSet):
        masks = tuple(derive_mask(img, p, rule) for img, p in zip(data.images, points, strict=True))
        return dataclasses.replace(data, masks=masks)
    masks = np.stack([derive_mask(f, p, rule) for f, p in zip(data.frames, points, strict=True)])
    return dataclasses.replace(data, masks=masks)


@dataclass(frozen=True)
class MaskAgreement:
    """How derived masks agree with true ones: pooled IoU over the set and per-target IoU."""

    pooled_iou: float  # sum of intersections / sum of unions over the images (their union masks)
    mean_target_iou: float  # mean over true targets of IoU(region grown from its centroid, the target)
    target_ious: tuple[float, ...]

    @property
    def n_targets(self) -> int:
        return len(self.target_ious)


def agreement(images: ImageSet, spec: str | DerivedRule) -> MaskAgreement:
    """Grow a region from the centroid of every true mask component of ``images`` and score it against the truth.

    Each 8-connected component is a target; its own region is compared with it
    (per-target IoU), and each image's union of regions with its mask (pooled IoU).
    """
    from istdbench.metrics.groundtruth import component_centroids, label_frames

    if images.masks is None:
        raise InvalidParameterError(f"image set {images.label!r} has no masks to compare derived masks with.")
    rule = parse_derived(spec)
    inter = union = 0
    ious: list[float] = []
    for img, mask in zip(images.images, images.masks, strict=True):
        labels, n = label_frames(mask[None])
        _, cents, _ = component_centroids(labels, n)
        grown = np.zeros(mask.shape, dtype=bool)
        for k in range(n):
            region = target_region(img, cents[k], rule)
            target = labels[0] == k + 1
            ious.append(float((region & target).sum() / (region | target).sum()))
            grown |= region
        inter += int((grown & mask).sum())
        union += int((grown | mask).sum())
    pooled = inter / union if union else float("nan")
    mean = float(np.mean(ious)) if ious else float("nan")
    return MaskAgreement(pooled_iou=pooled, mean_target_iou=mean, target_ious=tuple(ious))
