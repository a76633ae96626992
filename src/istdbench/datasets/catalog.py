"""Resolve data references (catalog names, folders, synthetic specs) to a `Sequence` or an `ImageSet`.

A data root holds groups of clips (``<root>/<group>/<clip>/`` frames,
``<root>/<group>/anno/<clip>.txt`` points; see `istdbench.datasets.folder`) and
image sets (``<root>/<set>/`` in one of the layouts of
`istdbench.datasets.imagesets`, e.g. ``sirst``). The annotation format of a
group comes from `KNOWN_GROUPS`, from an optional ``<root>/catalog.toml`` that
declares more groups, or, for a group declared nowhere, is sniffed from the
file and the frames. The same file can declare an image set's layout, and
where a set lies outside the root::

    [groups.mydata]
    order = "row,col"      # or "col,row"
    delimiter = "comma"    # tab | comma | space | auto
    base = 1

    [imagesets.nudt]
    layout = "basicirstd"  # sirst-v1 | sirst-v2 | basicirstd | irdst
    path = "/data/NUDT-SIRST"   # optional; default <root>/nudt

A folder under the root whose layout is detected (`detect_layout`) is an image
set without being declared. An IRDST set's sequences are also clips:
``irdst-sample/1`` loads IRDST sequence 1 as a `Sequence`.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from istdbench.core.errors import DataError, InvalidParameterError, unknown_name
from istdbench.core.sorting import natural_key
from istdbench.core.types import ImageSet, Sequence

from .annotations import AnnotationFormat, read_points
from .folder import ClipLayout, check_range, layout_of, load_clip
from .images import IMAGE_EXTENSIONS, frames_hash, image_size, list_frames
from .imagesets import LAYOUTS, ImageSetLayout, detect_layout, image_set_layout, read_image_set, read_split
from .irdst import irdst_sequences, load_irdst_sequence
from .synthetic import SYNTHETIC_PREFIX, make_sequence, parse_spec

log = logging.getLogger(__name__)

DATA_ENV = "ISTDBENCH_DATA"

KNOWN_GROUPS: dict[str, AnnotationFormat] = {
    # TensorISTD toolbox sequences: "col<TAB>row", 1-based (easy/ has decimals).
    "daub": AnnotationFormat(order="col,row", delimiter="tab", base=1),
    "easy": AnnotationFormat(order="col,row", delimiter="tab", base=1),
    # Clips of the hahamyt/ISTD city folders: "row,col", 1-based.
    "city": AnnotationFormat(order="row,col", delimiter="comma", base=1),
}
"""Annotation format of the groups shipped in the shared data root."""

_RESERVED = {"anno", "masks"}


def resolve_data_root(data_root: str | Path | None = None) -> Path:
    """The data root: the argument, else the ``ISTDBENCH_DATA`` environment variable."""
    if data_root is None or str(data_root) == "":
        env = os.environ.get(DATA_ENV, "")
        if not env:
            raise DataError(
                f"no data root given: pass --data-root DIR (data_root=...) or set the environment variable "
                f"{DATA_ENV}=DIR to the folder that holds the sequence groups (e.g. daub/, easy/, city/)."
            )
        data_root = env
    root = Path(data_root).expanduser()
    if not root.is_dir():
        raise DataError(f"data root {str(root)!r} does not exist or is not a folder.")
    return root


def _catalog_toml(root: Path) -> dict:
    """The parsed ``<root>/catalog.toml`` ({} when there is none)."""
    path = root / "catalog.toml"
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DataError(f"cannot read {str(path)!r}: {exc}") from None


def group_formats(root: Path) -> dict[str, AnnotationFormat]:
    """`KNOWN_GROUPS` plus (overriding) the groups declared in ``<root>/catalog.toml``."""
    formats = dict(KNOWN_GROUPS)
    spec = _catalog_toml(root)
    path = root / "catalog.toml"
    allowed = {f.name for f in dataclasses.fields(AnnotationFormat)}
    for group, entry in spec.get("groups", {}).items():
        extra = set(entry) - allowed
        if extra:
            raise DataError(
                f"{str(path)!r}, group {group!r}: unknown keys {sorted(extra)}; allowed: {sorted(allowed)}."
            )
        try:
            formats[group] = AnnotationFormat(**entry)
        except InvalidParameterError as exc:
            raise DataError(f"{str(path)!r}, group {group!r}: {exc}") from None
    return formats


def _has_frames(folder: Path) -> bool:
    return any(p.suffix.lower() in IMAGE_EXTENSIONS for p in folder.iterdir() if p.is_file())


def _groups(root: Path) -> list[Path]:
    return sorted((d for d in root.iterdir() if d.is_dir() and not d.name.startswith(".")), key=_by_name)


def image_set_layouts(data_root: str | Path | None = None) -> dict[str, ImageSetLayout]:
    """Every image set of the data root by name: those ``catalog.toml`` declares, then the detected folders."""
    root = resolve_data_root(data_root)
    where = str(root / "catalog.toml")
    sets: dict[str, ImageSetLayout] = {}
    for name, entry in _catalog_toml(root).get("imagesets", {}).items():
        extra = set(entry) - {"layout", "path"}
        if extra:
            raise DataError(
                f"{where!r}, image set {name!r}: unknown keys {sorted(extra)}; allowed: ['layout', 'path']."
            )
        layout = entry.get("layout")
        if layout is not None and layout not in LAYOUTS:
            raise DataError(f"{where!r}, image set {name!r}: {unknown_name('image-set layout', str(layout), LAYOUTS)}")
        folder = Path(str(entry.get("path", name))).expanduser()
        sets[name] = image_set_layout(folder if folder.is_absolute() else root / folder, layout, name)
    for group in _groups(root):
        if group.name in sets:
            continue
        try:
            layout = detect_layout(group)
        except DataError as exc:  # an ambiguous folder must not stop the clips from loading
            log.warning("%s", exc)
            continue
        if layout is not None:
            sets[group.name] = image_set_layout(group, layout, group.name)
    return dict(sorted(sets.items(), key=lambda kv: natural_key(kv[0])))


def discover(data_root: str | Path | None = None) -> list[ClipLayout]:
    """Every clip under the data root, sorted by name (groups and clips in natural order).

    Image sets are not clips (`image_set_layouts` lists them), except that
    `load_sequence` also resolves an IRDST set's sequences.
    """
    root = resolve_data_root(data_root)
    formats = group_formats(root)
    image_sets = {layout.root for layout in image_set_layouts(root).values()}
    clips = []
    for group in _groups(root):
        if group.resolve() in image_sets:
            continue
        for clip in sorted((d for d in group.iterdir() if d.is_dir() and d.name not in _RESERVED), key=_by_name):
            if not clip.name.startswith(".") and _has_frames(clip):
                clips.append(layout_of(clip, formats.get(group.name)))
    return clips


def _by_name(p: Path) -> tuple:
    """Sort key of a folder: its name in natural order."""
    return natural_key(p.name)


def find_clip(name: str, data_root: str | Path | None = None) -> ClipLayout:
    """The clip called ``<group>/<clip>`` under the data root; unknown names suggest the closest."""
    clips = {c.name: c for c in discover(data_root)}
    if name not in clips:
        raise unknown_name("sequence", name, clips)
    return clips[name]


def _is_catalog_name(ref: str) -> bool:
    parts = ref.split("/")
    return len(parts) == 2 and all(parts) and not Path(ref).is_absolute()


def load_sequence(ref: str, data_root: str | Path | None = None, frames: tuple[int, int] | None = None) -> Sequence:
    """Load a sequence by reference.

    Parameters
    ----------
    ref : str
        A catalog name (``daub/sequence1``) under the data root, a folder of
        frames, or a synthetic spec (``synthetic:h=64,w=64,t=20,seed=0``).
    data_root : str or Path, optional
        Root of the catalog; defaults to ``$ISTDBENCH_DATA``.
    frames : (first, last), optional
        1-based inclusive frame range; all frames by default.

    Returns
    -------
    Sequence
        With points (and masks where the source has them), ``provenance.source``
        and ``provenance.data_hash`` (sha256 of the selected float32 frames).
    """
    ref = str(ref).strip()
    if ref == "synthetic" or ref.startswith(SYNTHETIC_PREFIX):
        seq = make_sequence(parse_spec(ref))
        if frames is None:
            return seq
        a, b = check_range(frames, len(seq), f"sequence {seq.name!r}")
        sub = seq.select(a, b)
        return dataclasses.replace(
            sub, provenance=dataclasses.replace(sub.provenance, data_hash=frames_hash(sub.frames))
        )
    path = Path(ref).expanduser()
    if _is_catalog_name(ref):
        if data_root is not None or os.environ.get(DATA_ENV):
            clips = {c.name: c for c in discover(data_root)}
            if ref in clips:
                return load_clip(clips[ref], frames)
            irdst = _irdst_clips(data_root)
            if ref in irdst:
                return load_irdst_sequence(irdst[ref], ref.split("/", 1)[1], frames)
            folder = resolve_data_root(data_root) / ref
            if folder.is_dir():  # named like a clip of the root, but it holds no frames
                raise DataError(
                    f"folder {str(folder)!r} holds no frames ({', '.join(IMAGE_EXTENSIONS)}), so it is no clip."
                )
            if not path.is_dir():
                raise unknown_name("sequence", ref, [*clips, *irdst])
        elif not path.is_dir():
            resolve_data_root(None)  # raises, saying how to name a data root
    if path.is_dir():
        root = path.resolve().parent.parent
        formats = group_formats(root) if root.is_dir() else dict(KNOWN_GROUPS)
        return load_clip(layout_of(path, formats.get(path.resolve().parent.name)), frames)
    raise DataError(
        f"cannot resolve sequence {ref!r}: it is not a catalog name (<group>/<clip>), an existing folder, "
        f"or a synthetic spec ({SYNTHETIC_PREFIX}h=64,w=64,t=20,seed=0)."
    )


def _irdst_clips(data_root: str | Path | None) -> dict[str, ImageSetLayout]:
    """``<set>/<seq>`` -> layout, for every sequence of the root's IRDST image sets."""
    return {
        f"{name}/{seq}": layout
        for name, layout in image_set_layouts(data_root).items()
        if layout.layout == "irdst"
        for seq in irdst_sequences(layout)
    }


def find_image_set(name: str, data_root: str | Path | None = None) -> ImageSetLayout:
    """The image set called ``name`` under the data root; unknown names suggest the closest."""
    sets = image_set_layouts(data_root)
    if name not in sets:
        raise unknown_name("image set", name, sets)
    return sets[name]


def load_image_set(ref: str, data_root: str | Path | None = None, split: str | None = None) -> ImageSet:
    """Load an image set by catalog name (``sirst``) or folder, whole or one named ``split``.

    Returns
    -------
    ImageSet
        Images (float32 in [0, 1]), masks where the set has them, the canonical
        split name, ``provenance.source`` and ``provenance.data_hash``.
    """
    ref = str(ref).strip()
    path = Path(ref).expanduser()
    if "/" not in ref and (data_root is not None or os.environ.get(DATA_ENV)):
        sets = image_set_layouts(data_root)
        if ref in sets:
            return read_image_set(sets[ref], split)
        folder = resolve_data_root(data_root) / ref
        if folder.is_dir():  # a folder of the root that is no (unambiguous) image set: say why
            return read_image_set(image_set_layout(folder, name=ref), split)
        if not path.is_dir():
            raise unknown_name("image set", ref, sets)
    if path.is_dir():
        return read_image_set(image_set_layout(path), split)
    raise DataError(f"cannot resolve image set {ref!r}: it is not a catalog name or an existing folder.")


def is_image_set(ref: str, data_root: str | Path | None = None) -> bool:
    """Whether ``ref`` names an image set (a catalog name of the root or a folder in an image-set layout)."""
    ref = str(ref).strip()
    if ref.startswith(SYNTHETIC_PREFIX) or ref == "synthetic":
        return False
    if "/" not in ref and (data_root is not None or os.environ.get(DATA_ENV)):
        if ref in image_set_layouts(data_root):
            return True
    path = Path(ref).expanduser()
    return path.is_dir() and detect_layout(path) is not None


def load_data(
    ref: str,
    data_root: str | Path | None = None,
    frames: tuple[int, int] | None = None,
    split: str | None = None,
) -> Sequence | ImageSet:
    """A `Sequence` (catalog clip, folder, synthetic spec) or an `ImageSet` (``sirst``, a dataset folder).

    ``frames`` applies to sequences only, ``split`` to image sets only; giving
    one to the other kind is an error that says which kind ``ref`` is.
    """
    if is_image_set(ref, data_root):
        if frames is not None:
            raise InvalidParameterError(
                f"{ref!r} is an image set: it has no frame range (use --split NAME to choose its images)."
            )
        return load_image_set(ref, data_root, split)
    if split is not None:
        raise InvalidParameterError(f"{ref!r} is a sequence: --split applies to image sets only (use --frames a:b).")
    return load_sequence(ref, data_root, frames)


@dataclass(frozen=True)
class ClipSummary:
    """One row of ``istdbench datasets``: what a clip holds, read without decoding its frames."""

    name: str
    frames: int
    height: int
    width: int
    targets: int | None  # annotated target points over all frames; None when unannotated
    annotation: str  # "points", "masks", "points+masks" or "none"


def summarize(layout: ClipLayout) -> ClipSummary:
    """Frame count, size (from the first frame's header) and annotated targets of a clip."""
    paths = list_frames(layout.frames_dir)
    h, w = image_size(paths[0])
    targets = None
    kinds = []
    if layout.anno_path is not None:
        fmt = layout.fmt or AnnotationFormat()
        targets = sum(len(p) for p in read_points(layout.anno_path, fmt, len(paths)))
        kinds.append("points")
    if layout.masks_dir is not None:
        kinds.append("masks")
    return ClipSummary(layout.name, len(paths), h, w, targets, "+".join(kinds) or "none")


@dataclass(frozen=True)
class ImageSetSummary:
    """One image-set row of ``istdbench datasets``: read from the file listing and split files only."""

    name: str
    layout: str
    images: int
    masks: bool
    splits: dict[str, int]  # split name -> images listed
    sequences: int | None  # IRDST sequences (each loads as <name>/<seq>); None for other layouts
    source: str


def summarize_image_set(layout: ImageSetLayout) -> ImageSetSummary:
    """Image count, split sizes and (IRDST) sequence count of an image set, without decoding an image."""
    images = [p for p in layout.images_dir.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS]
    return ImageSetSummary(
        name=layout.name,
        layout=layout.layout,
        images=len(images),
        masks=layout.masks_dir is not None,
        splits={name: len(read_split(path)) for name, path in layout.splits.items()},
        sequences=len(irdst_sequences(layout)) if layout.layout == "irdst" else None,
        source=str(layout.root),
    )
