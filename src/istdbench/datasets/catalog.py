"""Resolve sequence references (catalog names, folders, synthetic specs) to `Sequence` objects.

A data root holds groups of clips (``<root>/<group>/<clip>/`` frames,
``<root>/<group>/anno/<clip>.txt`` points; see `istdbench.datasets.folder`). The
annotation format of a group comes from `KNOWN_GROUPS`, from an optional
``<root>/catalog.toml`` that declares more groups::

    [groups.mydata]
    order = "row,col"      # or "col,row"
    delimiter = "comma"    # tab | comma | space | auto
    base = 1

or, for a group declared nowhere, is sniffed from the file and the frames.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from istdbench.core.errors import DataError, InvalidParameterError, unknown_name
from istdbench.core.types import Sequence

from .annotations import AnnotationFormat, read_points
from .folder import ClipLayout, check_range, layout_of, load_clip
from .images import IMAGE_EXTENSIONS, frames_hash, image_size, list_frames, natural_key
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


def group_formats(root: Path) -> dict[str, AnnotationFormat]:
    """`KNOWN_GROUPS` plus (overriding) the groups declared in ``<root>/catalog.toml``."""
    formats = dict(KNOWN_GROUPS)
    path = root / "catalog.toml"
    if not path.is_file():
        return formats
    try:
        import tomllib
    except ImportError:  # Python 3.10
        raise DataError(f"reading {str(path)!r} needs Python 3.11 or newer (tomllib).") from None
    try:
        spec = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DataError(f"cannot read {str(path)!r}: {exc}") from None
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


def discover(data_root: str | Path | None = None) -> list[ClipLayout]:
    """Every clip under the data root, sorted by name (groups and clips in natural order)."""
    root = resolve_data_root(data_root)
    formats = group_formats(root)
    clips = []
    for group in sorted((d for d in root.iterdir() if d.is_dir() and not d.name.startswith(".")), key=_nat):
        for clip in sorted((d for d in group.iterdir() if d.is_dir() and d.name not in _RESERVED), key=_nat):
            if not clip.name.startswith(".") and _has_frames(clip):
                clips.append(layout_of(clip, formats.get(group.name)))
    return clips


def _nat(p: Path) -> list[int | str]:
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
            if not path.is_dir():
                raise unknown_name("sequence", ref, clips)
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
