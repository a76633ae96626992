"""Named, versioned 3-D ROC protocols: every rule that moves a number, stated once.

ISTD toolboxes disagree on how a raw target map becomes a ROC curve, and the
differences are large enough to reorder methods. A protocol fixes all of them;
every result row records ``name[:options]@version``.

=============================  ==========================================  ===========================================
rule                           ``tensoristd`` (MATLAB toolbox TensorISTD)  ``clean`` (quirk-free)
=============================  ==========================================  ===========================================
normalisation                  per frame ``map / (max + eps)``, clipped    ``map / max`` per frame (``norm=frame``,
                               to [0, 1]                                   default) or per sequence (``norm=sequence``),
                                                                           clipped to [0, 1]
quantisation                   8 bits: ``round(255 v) / 255`` (PNG)        none (float64)
thresholds                     ``k / 99``, k = 0..100 (last one > 1)       ``k / 100``, k = 0..100
tau axis of the AUCs           nominal ``k / 100`` (not the thresholds)    the thresholds themselves
pixel passes                   ``v >= threshold``                          ``v >= threshold``
point target                   3x3 box around ``round(point)``; hit if     same box, clipped to the image
                               any box pixel passes
targets near the border        dropped (1-based row or col <= 1 or         kept
                               >= size - 1)
mask target                    8-connected component; hit if any pixel     same
                               passes
frames without targets         left out of TPR and FPR                     in FPR (every pixel is background)
all-zero maps                  left out of FPR; targets count as missed    scored like any other frame
FPR denominator                frames scored x (H W - 9)                   exact count of background pixels scored
AUC(FPR, TPR)                  trapezoids over the 101 points              the same, closed with the point (0, 0)
contrast (SCRG/BSF/CG)         on the quantised map; an all-zero map does  on the normalised map; annotations stay with
                               not consume its annotation line (the        their frames; NaN when no target is
                               toolbox's shift bug); Inf when no target    measurable
                               is measurable
=============================  ==========================================  ===========================================

A frame whose map has no positive value is all zero under both protocols (the
toolbox would divide by a negative maximum and invert such a map).

A third protocol, ``basicirstd`` (`BasicIrstdProtocol`), is no ROC: it fixes
how the single-frame toolboxes score binarised maps (IoU, nIoU, F1, Pd, Fa;
`istdbench.metrics.basicirstd`). `get_protocol` returns either kind;
`get_roc_protocol` only a ROC protocol.

Binarised input: ``PROTOCOL+bin(RULE)`` (e.g. ``tensoristd+bin(chunk-max:0.4)``,
recorded as ``tensoristd@1+bin(chunk-max:0.4)``) first cuts the raw maps by
the threshold rule ``RULE`` (`istdbench.metrics.thresholds`) into 0/1 maps and
scores those, which is what the toolbox computes from the 0/255 PNGs such a
rule writes (``imread`` / 255 gives the same 0/1 values). This replays the
pipeline of the NeurSTT and 3-D CNN authors, whose code writes only binary
PNGs (0.4 and 0.5 x the chunk's maximum). Every metric of the evaluation then
sees the binary maps; a frame the rule leaves empty is an all-zero map, which
``tensoristd`` drops from FPR (its targets count as missed). Only the ROC
protocols take ``+bin``: ``basicirstd`` binarises by its own threshold rule.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from istdbench.core.errors import InvalidParameterError, unknown_name

from ._checks import is_image_list
from .thresholds import DEFAULT_CHUNK, ThresholdRule, parse_threshold

PROTOCOLS: dict[str, str] = {"tensoristd": "1", "clean": "1", "basicirstd": "1"}
"""Protocol name -> version; a result row records ``protocol@version``."""

ROC_PROTOCOLS = ("tensoristd", "clean")
DEFAULT_THRESHOLD = "ratio:0.5"  # the ROC protocols' binarisation for IoU/F1/Pd/Fa (the seed paper's rule)

_EPS = float(np.finfo(np.float64).eps)  # MATLAB's eps
N_LEVELS = 101  # thresholds k = 0..100 in both protocols


@dataclass(frozen=True)
class RocProtocol:
    """The rules of one protocol (see the module docstring for the table)."""

    name: str
    norm: str = "frame"  # "frame" | "sequence"
    quantise: bool = False
    threshold_den: int = 100  # thresholds k / threshold_den
    box_radius: int = 1
    drop_border_targets: bool = False
    skip_zero_frames: bool = False
    skip_targetless_frames: bool = False
    toolbox_fpr_denominator: bool = False
    close_roc: bool = True
    toolbox_contrast: bool = False
    binarize: ThresholdRule | None = None  # score the maps this rule cuts to 0/1 (see the module docstring)

    def __post_init__(self) -> None:
        if self.name not in ROC_PROTOCOLS:
            raise unknown_name("ROC protocol", self.name, ROC_PROTOCOLS)
        if self.norm not in ("frame", "sequence"):
            raise InvalidParameterError(
                f"The 'norm' option of protocol {self.name!r} must be 'frame' or 'sequence'. Got {self.norm!r} instead."
            )

    @property
    def version(self) -> str:
        return PROTOCOLS[self.name]

    @property
    def base_spec(self) -> str:
        """The spec without the binarisation part."""
        return self.name if self.name == "tensoristd" or self.norm == "frame" else f"{self.name}:norm={self.norm}"

    @property
    def bin_suffix(self) -> str:
        return "" if self.binarize is None else f"+bin({self.binarize.spec})"

    @property
    def spec(self) -> str:
        """Canonical spec string (options only where they differ from the default)."""
        return self.base_spec + self.bin_suffix

    @property
    def id(self) -> str:
        """``spec@version``, the binarisation after the version: what a result row records."""
        return f"{self.base_spec}@{self.version}{self.bin_suffix}"

    def prepare(self, maps: Any) -> Any:
        """The maps this protocol scores: ``maps`` as given, or their 0/1 cut by the ``binarize`` rule (float64).

        A (T, H, W) stack gives a stack, a list of (H, W) images a list.
        """
        if self.binarize is None:
            return maps
        cut = self.binarize.binarize(maps)
        return [c.astype(np.float64) for c in cut] if is_image_list(cut) else cut.astype(np.float64)

    @property
    def default_threshold(self) -> str:
        """The threshold rule for IoU/F1/nIoU/Pd/Fa when none is given."""
        return DEFAULT_THRESHOLD

    def thresholds(self) -> np.ndarray:
        """The 101 thresholds a pixel value is compared with (``>=``)."""
        return np.arange(N_LEVELS, dtype=np.float64) / self.threshold_den

    def tau(self) -> np.ndarray:
        """The tau axis the AUCs integrate over (``k / 100`` in both protocols)."""
        return np.arange(N_LEVELS, dtype=np.float64) / 100

    def normalise(self, maps: np.ndarray, peak: float | None = None) -> np.ndarray:
        """Scale raw maps ``(T, H, W)`` to [0, 1] float64 by this protocol's rule.

        Frames (or, per sequence, the whole sequence) without a positive value
        become all zero. ``peak`` overrides the maximum that ``norm=sequence``
        divides by (an image set's maximum over all its images).
        """
        v = self._scaled(maps, peak)
        return quantise_8bit(v) / 255.0 if self.quantise else v

    def levels(self, maps: np.ndarray, peak: float | None = None) -> np.ndarray:
        """Per pixel, how many thresholds it passes: a pixel passes threshold k iff ``level > k``.

        One exact ``>=`` comparison per pixel against the sorted thresholds, so
        the whole curve follows from one histogram of levels. ``peak``: as in `normalise`.
        """
        v = self._scaled(maps, peak)
        thr = self.thresholds()
        if self.quantise:
            lut = np.searchsorted(thr, np.arange(256) / 255.0, side="right").astype(np.uint8)
            return lut[quantise_8bit(v)]
        return np.searchsorted(thr, v, side="right").astype(np.uint8)

    def _scaled(self, maps: np.ndarray, peak: float | None = None) -> np.ndarray:
        maps = np.asarray(maps, dtype=np.float64)
        if self.norm == "sequence":
            peak = np.full((maps.shape[0], 1, 1), maps.max() if peak is None else peak)
        else:
            peak = maps.reshape(maps.shape[0], -1).max(axis=1)[:, None, None]
        positive = peak > 0
        scale = np.where(positive, peak + _EPS if self.quantise else peak, 1.0)
        return np.where(positive, np.clip(maps / scale, 0.0, 1.0), 0.0)


def quantise_8bit(v: np.ndarray) -> np.ndarray:
    """MATLAB ``im2uint8`` of values in [0, 1]: ``round(255 v)`` with halves away from zero, as uint8."""
    return np.floor(np.asarray(v, dtype=np.float64) * 255.0 + 0.5).astype(np.uint8)


_TENSORISTD = RocProtocol(
    name="tensoristd",
    quantise=True,
    threshold_den=99,
    drop_border_targets=True,
    skip_zero_frames=True,
    skip_targetless_frames=True,
    toolbox_fpr_denominator=True,
    close_roc=False,
    toolbox_contrast=True,
)


@dataclass(frozen=True)
class BasicIrstdProtocol:
    """The rules of ``basicirstd@1``, the single-frame toolboxes' scoring (see ``metrics/PROTOCOLS.md``).

    Attributes
    ----------
    default_threshold : str
        Binarisation: each map min-max normalised to [0, 1], then ``> 0.5``.
    distance : float
        Pd: a predicted 8-connected region matches a target when the centroids
        are strictly closer than this (pixels).
    """

    name: str = "basicirstd"
    default_threshold: str = "minmax:0.5"
    distance: float = 3.0

    @property
    def version(self) -> str:
        return PROTOCOLS[self.name]

    @property
    def spec(self) -> str:
        return self.name

    @property
    def id(self) -> str:
        return f"{self.spec}@{self.version}"


BASICIRSTD = BasicIrstdProtocol()

Protocol = RocProtocol | BasicIrstdProtocol


def get_roc_protocol(spec: str | RocProtocol) -> RocProtocol:
    """`get_protocol`, refusing a protocol that defines no 3-D ROC (``basicirstd``)."""
    proto = get_protocol(spec)
    if not isinstance(proto, RocProtocol):
        raise InvalidParameterError(
            f"protocol {proto.name!r} defines no 3-D ROC (it scores binarised maps: IoU, nIoU, F1, Pd, Fa); "
            f"use one of {', '.join(ROC_PROTOCOLS)} for the ROC AUCs."
        )
    return proto


_SPEC = re.compile(r"(?P<base>[^+]*?)\s*(?:\+\s*bin\((?P<rule>[^()]*)\))?")


def get_protocol(spec: str | Protocol) -> Protocol:
    """Parse ``tensoristd``, ``clean``, ``clean:norm=frame|sequence`` (each optionally ``+bin(RULE)``) or
    ``basicirstd``."""
    if isinstance(spec, (RocProtocol, BasicIrstdProtocol)):
        return spec
    if not isinstance(spec, str):
        raise InvalidParameterError(f"protocol must be a string such as 'tensoristd'; got {spec!r}.")
    match = _SPEC.fullmatch(spec.strip())
    if match is None:
        raise InvalidParameterError(
            f"protocol {spec!r} is not of the form NAME[:OPTIONS][+bin(RULE)], e.g. 'tensoristd+bin(chunk-max:0.4)'."
        )
    proto = _base_protocol(match["base"], spec)
    return proto if match["rule"] is None else with_binarize(proto, match["rule"])


def with_binarize(
    spec: str | Protocol, rule: str | ThresholdRule | None, default_chunk: int = DEFAULT_CHUNK
) -> Protocol:
    """The protocol ``spec`` scoring the maps cut by ``rule`` (None or ``"none"``: the raw maps).

    ``default_chunk``: the chunk length of a ``chunk-max:R`` rule given without one.
    """
    proto = get_protocol(spec)
    none = rule is None or (isinstance(rule, str) and rule.strip() == "none")
    if isinstance(proto, BasicIrstdProtocol):
        if none:
            return proto
        raise InvalidParameterError(
            f"protocol 'basicirstd' scores binarised maps by its own threshold rule; +bin({rule}) applies to the "
            f"ROC protocols ({', '.join(ROC_PROTOCOLS)})."
        )
    if none:
        return dataclasses.replace(proto, binarize=None)
    if proto.binarize is not None:
        raise InvalidParameterError(
            f"protocol {proto.spec!r} already binarises its maps; give one rule, not a second {rule!r}."
        )
    return dataclasses.replace(proto, binarize=parse_threshold(rule, default_chunk))


def _base_protocol(base: str, spec: str) -> Protocol:
    name, _, opts = base.strip().partition(":")
    if name not in PROTOCOLS:
        raise unknown_name("protocol", name, PROTOCOLS)
    if name == "basicirstd":
        if opts:
            raise InvalidParameterError(
                f"protocol 'basicirstd' takes no options (its threshold is a separate rule); got {spec!r}."
            )
        return BASICIRSTD
    if name == "tensoristd":
        if opts:
            raise InvalidParameterError(f"protocol 'tensoristd' takes no options (it is fixed); got {spec!r}.")
        return _TENSORISTD
    norm = "frame"
    for item in filter(None, (o.strip() for o in opts.split(","))):
        key, eq, value = item.partition("=")
        if key != "norm" or not eq:
            raise InvalidParameterError(f"protocol 'clean' takes only the option norm=frame|sequence; got {item!r}.")
        if value not in ("frame", "sequence"):
            raise InvalidParameterError(
                f"The 'norm' option of protocol 'clean' must be 'frame' or 'sequence'. Got {value!r} instead."
            )
        norm = value
    return RocProtocol(name="clean", norm=norm)


def protocol_from_id(recorded: str) -> Protocol:
    """The protocol a result row recorded (``tensoristd@1``, ``clean:norm=sequence@1+bin(ratio:0.5)``).

    Raises `InvalidParameterError` when the recorded version is not this suite's.
    """
    match = re.fullmatch(r"(?P<base>[^@]+)@(?P<version>[^+]+)(?P<bin>\+bin\(.*\))?", recorded.strip())
    if match is None:
        raise InvalidParameterError(
            f"{recorded!r} is not a recorded protocol of the form NAME[:OPTIONS]@VERSION[+bin(RULE)]."
        )
    proto = get_protocol(match["base"] + (match["bin"] or ""))
    if proto.version != match["version"]:
        raise InvalidParameterError(
            f"protocol {recorded!r} is version {match['version']}; this suite has {proto.name}@{proto.version}."
        )
    return proto


def protocol_id(spec: str | Protocol) -> str:
    """``spec@version`` of a protocol spec, e.g. ``tensoristd@1`` or ``clean:norm=sequence@1``."""
    return get_protocol(spec).id
