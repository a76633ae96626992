"""IRDST's ``<sequence>(<frame>)`` file names: their order, and one `Sequence` per IRDST sequence.

IRDST (Sun et al., TGRS 2023) names every image ``images/<seq>(<frame>).bmp``
with its mask under the same name in ``masks/``. As an image set it loads like
any other layout (`istdbench.datasets.imagesets`); here each sequence becomes a
`Sequence` of its frames ordered by frame number (``1(2)`` before ``1(10)``),
named ``<set>/<seq>`` (e.g. ``irdst-sample/1``). Frames are numbered 1..n in
that order; a gap in the file numbers is logged, not filled.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from istdbench.core.errors import DataError, unknown_name
from istdbench.core.types import Provenance, Sequence

from .annotations import points_from_masks
from .folder import check_range
from .images import IMAGE_EXTENSIONS, frames_hash
from .imagesets import IRDST_NAME, ImageSetLayout, read_image, read_mask

log = logging.getLogger(__name__)


def parse_name(stem: str) -> tuple[int, int] | None:
    """``(sequence, frame)`` of an IRDST file stem such as ``1(23)``; None for other names."""
    m = IRDST_NAME.fullmatch(stem)
    return (int(m.group(1)), int(m.group(2))) if m else None


def irdst_sequences(layout: ImageSetLayout) -> dict[str, list[Path]]:
    """Sequence id -> its image files in frame order, for every IRDST-named image of the set."""
    seqs: dict[int, list[tuple[int, Path]]] = {}
    for p in layout.images_dir.iterdir():
        parsed = parse_name(p.stem) if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS else None
        if parsed is not None:
            seqs.setdefault(parsed[0], []).append((parsed[1], p))
    out: dict[str, list[Path]] = {}
    for seq_id in sorted(seqs):
        frames = sorted(seqs[seq_id])
        numbers = [n for n, _ in frames]
        if len(set(numbers)) != len(numbers):
            dup = next(n for n in numbers if numbers.count(n) > 1)
            raise DataError(f"IRDST sequence {seq_id} of {str(layout.images_dir)!r} has frame {dup} twice.")
        if numbers != list(range(numbers[0], numbers[0] + len(numbers))):
            log.warning(
                "IRDST sequence %s of %s skips frame numbers (%d files, %d..%d)",
                seq_id,
                layout.name,
                len(numbers),
                numbers[0],
                numbers[-1],
            )
        out[str(seq_id)] = [p for _, p in frames]
    return out


def load_irdst_sequence(layout: ImageSetLayout, seq_id: str, frames: tuple[int, int] | None = None) -> Sequence:
    """IRDST sequence ``seq_id`` of ``layout`` as a `Sequence` (frames ``a..b``, 1-based inclusive).

    Masks come from ``masks/`` (same file names) and give the points; a
    missing mask is an error, a missing ``masks/`` folder loads no truth.
    """
    seqs = irdst_sequences(layout)
    if seq_id not in seqs:
        raise unknown_name(f"IRDST sequence of {layout.name!r}", seq_id, seqs)
    paths = seqs[seq_id]
    name = f"{layout.name}/{seq_id}"
    a, b = check_range(frames, len(paths), f"sequence {name!r}")
    chosen = paths[a - 1 : b]
    images = [read_image(p) for p in chosen]
    shape = images[0].shape
    for p, img in zip(chosen, images, strict=True):
        if img.shape != shape:
            raise DataError(
                f"frames differ in size: {str(p)!r} is {img.shape[1]}x{img.shape[0]} (W x H) but "
                f"{str(chosen[0])!r} is {shape[1]}x{shape[0]}."
            )
    arr = np.stack(images)
    masks = None
    if layout.masks_dir is not None:
        masks = np.stack([read_mask(_mask_path(layout, p), shape) for p in chosen])
    return Sequence(
        frames=arr,
        name=name,
        masks=masks,
        points=None if masks is None else points_from_masks(masks),
        provenance=Provenance(
            source=str(layout.images_dir),
            frame_numbers=tuple(range(a, b + 1)),
            noise="none",
            data_hash=frames_hash(arr),
        ),
    )


def _mask_path(layout: ImageSetLayout, image: Path) -> Path:
    for ext in (image.suffix, *IMAGE_EXTENSIONS):
        candidate = layout.masks_dir / f"{image.stem}{ext}"
        if candidate.is_file():
            return candidate
    raise DataError(f"frame {str(image)!r} has no mask: expected {layout.masks_dir.name}/{image.name}.")
