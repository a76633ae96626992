"""Sequence sources: folder loaders, the catalog of named clips, synthetic sequences, noise models.

``load_sequence(ref)`` is the one entry point most code needs: a catalog name
(``daub/sequence1``) under the data root, a folder, or a synthetic spec
(``synthetic:h=64,w=64,t=20,seed=0``).
"""

from .annotations import AnnotationFormat, parse_points, points_from_masks, read_points
from .catalog import (
    DATA_ENV,
    KNOWN_GROUPS,
    ClipSummary,
    discover,
    find_clip,
    load_sequence,
    resolve_data_root,
    summarize,
)
from .folder import ClipLayout, layout_of, load_clip
from .images import frames_hash, read_frame, read_frames
from .noise import NoiseSpec, apply_noise, measure_snr, parse_noise
from .scr import measure_scr
from .synthetic import SyntheticSpec, make_sequence, parse_spec

__all__ = [
    "DATA_ENV",
    "KNOWN_GROUPS",
    "AnnotationFormat",
    "ClipLayout",
    "ClipSummary",
    "NoiseSpec",
    "SyntheticSpec",
    "apply_noise",
    "discover",
    "find_clip",
    "frames_hash",
    "layout_of",
    "load_clip",
    "load_sequence",
    "make_sequence",
    "measure_scr",
    "measure_snr",
    "parse_noise",
    "parse_points",
    "parse_spec",
    "points_from_masks",
    "read_frame",
    "read_frames",
    "read_points",
    "resolve_data_root",
    "summarize",
]
