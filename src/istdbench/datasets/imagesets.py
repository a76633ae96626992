"""Load single-frame datasets (images of different sizes with masks and named splits) as an `ImageSet`.

Four native layouts are read as their authors distribute them:

==============  ==============================  ===================================  =============================
layout          images                          masks                                splits
==============  ==============================  ===================================  =============================
``sirst-v1``    ``images/<name>.png``           ``masks/<name>_pixels0.png``         ``idx_427/*.txt``, ``idx_320/``
``sirst-v2``    ``mixed/<name>.png``            ``annotations/masks/<name>_pixels0``  ``splits/*.txt``
``basicirstd``  ``images/<name>.png``           ``masks/<name>.png`` (same names)    ``img_idx/{train,test}_<SET>``
``irdst``       ``images/<seq>(<frame>).bmp``   ``masks/<seq>(<frame>).bmp``         ``*.txt`` beside ``images/``
==============  ==============================  ===================================  =============================

(NUDT-SIRST, IRSTD-1k and NUAA-SIRST come in the BasicIRSTD layout.) The
layout is detected from the folder when that is unambiguous (`detect_layout`)
and can be declared in the data root's ``catalog.toml``. Split files are the
``*.txt`` files in ``idx_*/``, ``img_idx/``, ``splits/`` and beside the image
folder, in every layout; a split is named by its file stem, or by
``<folder>/<stem>`` where two folders hold the same stem (the long form is
always accepted). Without a split the whole set loads, in natural name order;
a split keeps its file's order.

Images are read as the sequence frames are (MATLAB ``rgb2gray`` and
``im2double``, `istdbench.datasets.images`), except that palette images are
read by their colours; alpha channels are dropped. A mask pixel is target when
it is nonzero, whatever its value (0/1, 0/255 or anti-aliased edges all work).
SIRST v2's target-free background images (listed in a ``splits/*background*``
file) may lack a mask file and then get an all-false mask.
"""

from __future__ import annotations

import difflib
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from istdbench.core.errors import DataError, unknown_name
from istdbench.core.sorting import natural_key
from istdbench.core.types import ImageSet, Provenance

from .images import IMAGE_EXTENSIONS, image_integers, images_hash, to_unit32

log = logging.getLogger(__name__)

LAYOUTS = ("sirst-v1", "sirst-v2", "basicirstd", "irdst")
"""The native layouts `read_image_set` reads."""

SPLIT_DIRS = ("img_idx", "splits")  # plus every idx_* folder (SIRST v1: idx_427, idx_320)
_MASK_SUFFIX = {"sirst-v1": "_pixels0", "sirst-v2": "_pixels0", "basicirstd": "", "irdst": ""}
IRDST_NAME = re.compile(r"(\d+)\((\d+)\)")
"""An IRDST file stem: ``<sequence>(<frame>)``."""


@dataclass(frozen=True)
class ImageSetLayout:
    """Where the parts of one image set are.

    Attributes
    ----------
    name : str
        The set's name (its folder's name, or the catalog name).
    root : Path
        The set's folder.
    layout : str
        One of `LAYOUTS`.
    images_dir, masks_dir : Path
        Folders of images and masks (``masks_dir`` None: no masks).
    splits : dict
        Split name -> split file (see the module docstring for the naming).
    """

    name: str
    root: Path
    layout: str
    images_dir: Path
    masks_dir: Path | None
    splits: dict[str, Path] = field(default_factory=dict)

    @property
    def mask_suffix(self) -> str:
        return _MASK_SUFFIX[self.layout]


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS]


def detect_layout(root: str | Path) -> str | None:
    """The layout of folder ``root``, or None when it is no image set (e.g. a group of clips).

    Raises
    ------
    DataError
        When the folder looks like an image set but two layouts fit.
    """
    root = Path(root)
    if (root / "mixed").is_dir() and (root / "annotations" / "masks").is_dir():
        return "sirst-v2"
    images, masks = root / "images", root / "masks"
    if not (images.is_dir() and masks.is_dir()):
        return None
    stems = [p.stem for p in _files(masks)]
    if not stems:
        return None
    suffixed = sum(s.endswith("_pixels0") for s in stems)
    if 0 < suffixed < len(stems):
        raise DataError(
            f"cannot tell the layout of {str(root)!r}: masks/ holds both <name>_pixels0 files (SIRST v1) and "
            f"plain names (BasicIRSTD); declare it in catalog.toml ([imagesets.{root.name}] layout = ...)."
        )
    if suffixed:
        return "sirst-v1"
    image_stems = [p.stem for p in _files(images)]
    if image_stems and all(IRDST_NAME.fullmatch(s) for s in image_stems):
        return "irdst"
    return "basicirstd"


def image_set_layout(root: str | Path, layout: str | None = None, name: str | None = None) -> ImageSetLayout:
    """The layout of the image set in folder ``root`` (detected unless ``layout`` is given)."""
    root = Path(root).expanduser()
    if not root.is_dir():
        raise DataError(f"image set folder {str(root)!r} does not exist or is not a folder.")
    root = root.resolve()
    if layout is None:
        layout = detect_layout(root)
        if layout is None:
            raise DataError(
                f"{str(root)!r} is no image set: expected images/ and masks/ (SIRST v1, BasicIRSTD, IRDST) or "
                "mixed/ and annotations/masks/ (SIRST v2); declare another layout in catalog.toml."
            )
    elif layout not in LAYOUTS:
        raise unknown_name("image-set layout", layout, LAYOUTS)
    if layout == "sirst-v2":
        images_dir, masks_dir = root / "mixed", root / "annotations" / "masks"
    else:
        images_dir, masks_dir = root / "images", root / "masks"
    if not images_dir.is_dir():
        raise DataError(f"image set {str(root)!r} (layout {layout}) has no image folder {images_dir.name}/.")
    return ImageSetLayout(
        name=name or root.name,
        root=root,
        layout=layout,
        images_dir=images_dir,
        masks_dir=masks_dir if masks_dir.is_dir() else None,
        splits=find_splits(root),
    )


def find_splits(root: Path) -> dict[str, Path]:
    """Split name -> file for every ``*.txt`` in the split folders and beside the images."""
    folders = [root, *(root / d for d in SPLIT_DIRS)]
    folders += sorted(p for p in root.glob("idx_*") if p.is_dir())
    files = [f for d in folders if d.is_dir() for f in sorted(d.glob("*.txt")) if f.is_file()]
    stems: dict[str, int] = {}
    for f in files:
        stems[f.stem] = stems.get(f.stem, 0) + 1
    out: dict[str, Path] = {}
    for f in files:
        long = f.stem if f.parent == root else f"{f.parent.name}/{f.stem}"
        out[f.stem if stems[f.stem] == 1 else long] = f
    return out


def resolve_split(layout: ImageSetLayout, split: str) -> tuple[str, Path]:
    """Canonical name and file of ``split`` (its stem or ``<folder>/<stem>``); unknown names suggest the closest."""
    if split in layout.splits:
        return split, layout.splits[split]
    for name, path in layout.splits.items():
        if split == f"{path.parent.name}/{path.stem}":
            return name, path
    raise unknown_name(f"split of image set {layout.name!r}", split, layout.splits)


def read_split(path: Path) -> list[str]:
    """Image names listed in a split file, in order.

    One name per line; blank lines, surrounding spaces, Windows or old Mac line
    endings, a UTF-8 byte-order mark, a leading ``/`` and an image extension
    (``Misc_1.png``) are accepted. A name listed twice is an error.
    """
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read split file {str(path)!r}: {exc}") from None
    names: list[str] = []
    where: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        name = line.strip().lstrip("/")
        if Path(name).suffix.lower() in IMAGE_EXTENSIONS:
            name = name[: -len(Path(name).suffix)]
        if not name:
            continue
        if name in where:
            raise DataError(f"split file {str(path)!r} lists image {name!r} twice (lines {where[name]} and {number}).")
        where[name] = number
        names.append(name)
    if not names:
        raise DataError(f"split file {str(path)!r} lists no image.")
    return names


def _by_stem(folder: Path, what: str) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for p in _files(folder):
        if p.stem in out:
            raise DataError(
                f"{what} folder {str(folder)!r} holds two files named {p.stem!r} ({out[p.stem].name}, {p.name})."
            )
        out[p.stem] = p
    return out


def _background_names(layout: ImageSetLayout) -> set[str]:
    """SIRST v2's target-free images: the names in its ``*background*`` split files."""
    if layout.layout != "sirst-v2":
        return set()
    return {n for name, path in layout.splits.items() if "background" in name for n in read_split(path)}


def _select(layout: ImageSetLayout, images: dict[str, Path], split: str | None) -> tuple[list[str], str]:
    if split is None or split == "":
        return sorted(images, key=natural_key), ""
    canonical, path = resolve_split(layout, split)
    names = read_split(path)
    for number, name in enumerate(names, start=1):
        if name not in images:
            close = difflib.get_close_matches(name, list(images), n=1, cutoff=0.8)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise DataError(
                f"split file {str(path)!r} names image {name!r} (entry {number}) that "
                f"{layout.images_dir.name}/ does not hold{hint}."
            )
    return names, canonical


def read_image(path: Path) -> np.ndarray:
    """One image of a set as read-only float32 in [0, 1] (palette images by their colours)."""
    img = to_unit32(image_integers(path, palette="colour"), path)
    img.setflags(write=False)  # owned and read-only: `ImageSet` keeps it without a copy
    return img


def read_mask(path: Path, shape: tuple[int, int]) -> np.ndarray:
    """A mask as bool (nonzero is target), checked against its image's (H, W)."""
    mask = image_integers(path, palette="colour")
    if mask.shape != tuple(shape):
        raise DataError(
            f"mask {str(path)!r} is {mask.shape[1]}x{mask.shape[0]} (W x H) but its image is {shape[1]}x{shape[0]}."
        )
    return mask != 0


def read_image_set(layout: ImageSetLayout, split: str | None = None) -> ImageSet:
    """Read the images (and masks) of ``layout``, all of them or those of ``split``.

    Raises
    ------
    DataError
        An unreadable image or split file, a missing mask, a mask whose size
        differs from its image, a split naming an absent image, a name listed
        twice, two files with one name.
    UnknownNameError
        An unknown split (the message lists the known ones).
    """
    images = _by_stem(layout.images_dir, "image")
    if not images:
        raise DataError(f"image folder {str(layout.images_dir)!r} holds no images ({', '.join(IMAGE_EXTENSIONS)}).")
    names, canonical = _select(layout, images, split)
    masks_by_stem = _by_stem(layout.masks_dir, "mask") if layout.masks_dir is not None else None
    backgrounds = _background_names(layout)

    def read(name: str) -> tuple[np.ndarray, np.ndarray | None]:
        img = read_image(images[name])
        if masks_by_stem is None:
            return img, None
        mask_path = masks_by_stem.get(name + layout.mask_suffix)
        if mask_path is not None:
            return img, read_mask(mask_path, img.shape)
        if name in backgrounds:
            return img, np.zeros(img.shape, dtype=bool)
        raise DataError(
            f"image {str(images[name])!r} has no mask: expected {layout.masks_dir.name}/"
            f"{name}{layout.mask_suffix}{images[name].suffix} in {str(layout.masks_dir)!r}."
        )

    pairs = [read(name) for name in names]
    arrays = [img for img, _ in pairs]
    masks = [mask for _, mask in pairs]
    log.debug("loaded %d images of %s (split %r)", len(arrays), layout.name, canonical)
    return ImageSet(
        images=tuple(arrays),
        names=tuple(names),
        masks=tuple(masks) if masks_by_stem is not None else None,  # type: ignore[arg-type]
        name=layout.name,
        split=canonical,
        provenance=Provenance(source=str(layout.root), noise="none", data_hash=images_hash(names, arrays)),
    )
