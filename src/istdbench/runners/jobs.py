"""Expanding a run config into jobs, each keyed by a content hash of everything that decides its result.

A job is one (method variant, sequence, noise, seed, metric protocol). Its key
hashes the method name, the method's code version (the source of its module and
of the suite's method helpers it uses), the resolved config, the method's
fingerprint (a network's weights file hash), the sequence reference with its
frame range and data hash, the noise spec and seed, the metric protocol with its
version and the threshold protocol. Equal keys mean
equal results, so a stored job is reused; a changed config, method file,
frame or protocol version changes the key and only those jobs run again.

A sequence block may name image sets instead (``split`` picks the images):
only single-frame methods run on them, a multi-frame method named for one is
an error (with ``methods = "all"`` it is left out of those jobs, logged), and
they take no frame range or added noise. A block's ``gt = "derived:..."``
makes its jobs score masks grown from the points (`istdbench.datasets.derived`):
the spec is part of the job key and of every row (``gt``), never of the
detection key, so the maps are computed once for real and derived truth.

A sequences block's ``crop`` window is part of the sequence's identity (its
name carries it; the data hash is that of the whole frames). A method entry's
``checkpoints`` add one job per earlier step count (its key adds the count, its
detection key is the full fit's), so one fit scores them all.

Jobs that differ only in the metric protocol (or are checkpoints of one fit)
share a *detection key* and are grouped into one `Task`, so the method runs
once for them. Tasks carry
sequence references, never arrays: a Dask worker loads the data itself.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from istdbench.core.device import check_device
from istdbench.core.errors import DataError, InvalidParameterError
from istdbench.core.method import Method
from istdbench.core.registry import create_method, get_method, list_methods
from istdbench.core.types import ImageSet, Sequence

from .codeversion import KEY_LENGTH, code_version
from .config import MethodSpec, RunConfig, SequenceBlock

log = logging.getLogger(__name__)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SequenceInfo:
    """What planning learns about a sequence by loading it once."""

    ref: str
    frames: tuple[int, int] | None
    name: str
    data_hash: str
    truth_hash: str
    shape: tuple[int, int, int]  # an image set: (images, 1, mean pixels per image): the product is its pixel count
    frame_numbers: tuple[int, int]  # first and last 1-based source frame; an image set: (1, images)
    split: str | None = None  # None: a sequence; an image set: its canonical split ("" = the whole set)
    crop: tuple[int, int, int, int] | None = None  # window of every frame (row0, row1, col0, col1)

    def identity(self) -> dict[str, Any]:
        """What makes two references the same input: the name, the frames and the data (not the spelling)."""
        if self.split is not None:
            return {"name": self.name, "data_hash": self.data_hash}
        window = {} if self.crop is None else {"crop": list(self.crop)}
        return {"name": self.name, "frames": self.frame_numbers, "data_hash": self.data_hash, **window}


@dataclass(frozen=True)
class Job:
    """One cell of the grid; everything a worker needs, as plain picklable values."""

    key: str
    detection_key: str
    method: str
    preset: str
    overrides: tuple[tuple[str, Any], ...]
    config_hash: str
    device: str
    ref: str
    frames: tuple[int, int] | None
    sequence: str
    data_hash: str
    shape: tuple[int, int, int]
    noise: str
    seed: int
    protocol: str
    protocol_version: str
    threshold: str
    label: str = ""  # the run config's name for this method variant (empty: none given)
    split: str | None = None  # None: a sequence; an image set: the split requested ("" = the whole set)
    gt: str = ""  # ground truth: "" the data's own annotations, else a canonical "derived:..." spec
    crop: tuple[int, int, int, int] | None = None  # window of every frame fitted and scored (None: whole frames)
    checkpoint: int | None = None  # score the fit's maps after this many steps (None: the final maps)

    @property
    def is_image_set(self) -> bool:
        return self.split is not None

    @property
    def dataset(self) -> str:
        return self.sequence.split("/", 1)[0]

    def describe(self) -> str:
        at = "" if self.checkpoint is None else f" after {self.checkpoint} steps"
        return f"{self.method}[{self.preset}]{at} on {self.sequence} (noise {self.noise}, seed {self.seed})"


@dataclass(frozen=True)
class Task:
    """Jobs sharing one detection (same method, config, sequence, noise, seed), run together by one worker."""

    jobs: tuple[Job, ...]
    data_root: str | None = None
    maps: str = "target"
    threads: int = 1
    state_dir: str | None = None  # resumable fit state of this detection (NeurSTT, 3DSTPM); None: none kept

    @property
    def first(self) -> Job:
        return self.jobs[0]


def plan_jobs(
    cfg: RunConfig,
    data_root: str | Path | None = None,
    device: str | None = None,
    skipped: dict[str, str] | None = None,
) -> list[Job]:
    """Check every name in ``cfg`` against the suite and expand the grid into keyed jobs.

    With ``on_bad_data = "skip"`` in ``cfg``, a sequence that cannot be loaded is
    left out with a warning (and its reference -> error added to ``skipped``).

    Raises
    ------
    UnknownNameError
        For a method, preset, sequence, noise or protocol the suite does not know.
    InvalidParameterError, DataError
        For a bad override, frame range or device, or data that cannot be loaded.
    """
    device = check_device(device or cfg.device)
    variants = _resolve_methods(cfg, device)
    protocols = _resolve_protocols(cfg.protocols)
    threshold = None if cfg.threshold is None else canonical_threshold(cfg.threshold)
    noises = {spec: canonical_noise(spec) for block in cfg.sequences for spec in block.noise}
    gts = {block.gt: canonical_gt(block.gt) for block in cfg.sequences}
    seqs: dict[tuple, SequenceInfo | None] = {}  # (ref, frames, split, crop) -> what loads
    for block in cfg.sequences:
        for ref in block.refs:
            where = (ref, block.frames, block.split, block.crop)
            if where not in seqs:
                seqs[where] = _loadable(cfg, ref, block.frames, block.split, data_root, skipped, block.crop)
    if not any(seqs.values()):
        raise DataError(f"run config {cfg.source or cfg.name!r}: no sequence could be loaded (all skipped).")
    jobs: list[Job] = []
    for i, block in enumerate(cfg.sequences, start=1):
        for ref in block.refs:
            info = seqs[ref, block.frames, block.split, block.crop]
            if info is None:
                continue
            usable = _check_image_set_block(cfg, block, i, info, variants)
            for noise_spec in block.noise:
                for seed in cfg.seeds:
                    for variant in usable:
                        scored = _variant_protocols(variant, protocols, cfg.binarize)
                        new = _jobs_for(variant, info, noises[noise_spec], seed, scored, threshold, gts[block.gt])
                        jobs.extend(new)
    return list({j.key: j for j in jobs}.values())


def _loadable(
    cfg: RunConfig,
    ref: str,
    frames: tuple[int, int] | None,
    split: str | None,
    data_root: str | Path | None,
    skipped: dict[str, str] | None,
    crop: tuple[int, int, int, int] | None = None,
) -> SequenceInfo | None:
    """`sequence_info`, or None for data that cannot be loaded when the config skips bad data."""
    try:
        return sequence_info(ref, frames, data_root, split, crop)
    except DataError as exc:
        if cfg.on_bad_data != "skip":
            raise DataError(
                f'{exc} To run the rest of the config without it, set on_bad_data = "skip" in the run config.'
            ) from None
        log.warning("skipping sequence %r: %s", ref, exc)
        if skipped is not None:
            skipped[ref] = str(exc)
        return None


def _check_image_set_block(
    cfg: RunConfig, block: SequenceBlock, index: int, info: SequenceInfo, variants: list[_Variant]
) -> list[_Variant]:
    """The variants that run on ``info``: all of them for a sequence, the single-frame ones for an image set.

    Raises
    ------
    InvalidParameterError
        A method named for an image set is multi-frame, the block adds noise to an image set, or gives
        a split for a sequence.
    """
    where = f"sequences block {index} of run config {cfg.source or cfg.name!r}"
    if info.split is None:
        if block.split is not None:
            raise InvalidParameterError(f"{where}: {info.ref!r} is a sequence; 'split' applies to image sets only.")
        return variants
    if any(n != "none" for n in block.noise):
        raise InvalidParameterError(
            f'{where}: {info.ref!r} is an image set; added noise applies to sequences only (use noise = ["none"]).'
        )
    single = [v for v in variants if get_method(v.spec.name).kind == "single-frame"]
    multi = sorted({v.spec.name for v in variants} - {v.spec.name for v in single})
    if multi and cfg.methods != "all":
        raise InvalidParameterError(
            f"{where}: image set {info.name!r} is a set of single images, but {', '.join(multi)} "
            f"{'is a multi-frame method' if len(multi) == 1 else 'are multi-frame methods'}; run image sets with "
            "single-frame methods only (put them in a config of their own)."
        )
    if multi:
        log.info("image set %s: multi-frame method(s) %s left out (they need a sequence)", info.name, ", ".join(multi))
    return single


def group_tasks(
    jobs: list[Job],
    data_root: str | Path | None = None,
    maps: str = "target",
    threads: int = 1,
    state_root: str | Path | None = None,
) -> list[Task]:
    """Group jobs by detection key, keeping the plan's order.

    With ``state_root``, each task keeps its resumable fit state in
    ``<state_root>/<detection key>`` (see `istdbench.methods._fitstate`).
    """
    groups: dict[str, list[Job]] = {}
    for job in jobs:
        groups.setdefault(job.detection_key, []).append(job)
    root = None if data_root is None else str(Path(data_root).resolve())
    states = None if state_root is None else Path(state_root).resolve()
    return [
        Task(tuple(g), data_root=root, maps=maps, threads=threads, state_dir=_state_dir(states, key))
        for key, g in groups.items()
    ]


def _state_dir(root: Path | None, detection_key: str) -> str | None:
    return None if root is None else str(root / detection_key)


@dataclass(frozen=True)
class _Variant:
    spec: MethodSpec
    preset: str
    device: str
    config: dict[str, Any]
    config_cls: str
    config_hash: str
    code: str
    inputs: tuple[tuple[str, str], ...] = ()  # the method's fingerprint (e.g. its weights file's sha256)


def _resolve_methods(cfg: RunConfig, device: str) -> list[_Variant]:
    specs = [MethodSpec(n) for n in list_methods()] if cfg.methods == "all" else list(cfg.methods)
    if not specs:
        raise InvalidParameterError('methods = "all" but no method is registered.')
    variants = []
    for spec in specs:
        cls = get_method(spec.name)
        dev = device if cls.gpu_capable else "cpu"
        method = create_method(spec.name, spec.preset, spec.override_dict, dev)
        if spec.checkpoints:  # checked now, so a bad step count is reported before anything runs
            _check_checkpoints(method, spec)
        variants.append(
            _Variant(
                spec=spec,
                preset=spec.preset or cls.default_preset,
                device=method.device,
                config=method.config.to_dict(),
                config_cls=type(method.config).__name__,
                config_hash=method.config.config_hash(),
                code=code_version(cls),
                inputs=tuple(sorted(method.fingerprint().items())),
            )
        )
    return variants


def _check_checkpoints(method: Method, spec: MethodSpec) -> None:
    """Raise unless ``method`` has fit checkpoints and every one of ``spec.checkpoints`` is within its fit."""
    name = method.checkpoint_parameter
    if name is None:
        raise InvalidParameterError(
            f"methods.{spec.name} has checkpoints, but {spec.name!r} is not an iterative fit that gives maps "
            "along the way."
        )
    total = getattr(method.config, name)
    bad = [k for k in spec.checkpoints if k > total]
    if bad:
        raise InvalidParameterError(
            f"methods.{spec.name} checkpoints {bad} exceed the fit's {total} steps (its {name!r})."
        )


def _resolve_protocols(specs: tuple[str, ...]) -> dict[str, str]:
    """Canonical protocol spec -> ``spec@version`` (unknown names and options raise)."""
    from istdbench.metrics.protocols import get_protocol

    resolved = [get_protocol(spec) for spec in specs]
    return {p.spec: p.id for p in resolved}


def _variant_protocols(v: _Variant, protocols: dict[str, str], default_rules: tuple[str, ...]) -> dict[str, str]:
    """The variant's protocols: each ROC protocol once per binarize rule (``none``: the raw maps).

    ``basicirstd`` binarises by its own threshold rule: it is scored once, as given.
    """
    from istdbench.metrics.protocols import RocProtocol, get_protocol, with_binarize

    chunk = v.config.get("chunk_length")
    chunk = chunk if isinstance(chunk, int) and chunk >= 1 else 80
    scored = {}
    for spec in protocols:
        rules = v.spec.binarize or default_rules if isinstance(get_protocol(spec), RocProtocol) else ("none",)
        for rule in rules:
            proto = with_binarize(spec, rule, chunk)
            scored[proto.spec] = proto.id
    return scored


def canonical_threshold(spec: str) -> str:
    """The canonical string of a threshold rule such as ``ratio:0.5`` (validates it)."""
    from istdbench.metrics.thresholds import parse_threshold

    return parse_threshold(spec).spec


def canonical_noise(spec: str) -> str:
    """The canonical string of a noise spec (validates it; unknown kinds raise with the known ones)."""
    from istdbench.datasets.noise import parse_noise

    return str(parse_noise(spec))


def canonical_gt(spec: str) -> str:
    """The canonical ground-truth source: ``""`` (the data's own) or a ``derived:...`` spec (validates it)."""
    from istdbench.datasets.derived import canonical_gt as canonical

    return canonical(spec)


def sequence_info(
    ref: str,
    frames: tuple[int, int] | None,
    data_root: str | Path | None,
    split: str | None = None,
    crop: tuple[int, int, int, int] | None = None,
) -> SequenceInfo:
    """Load a sequence (or image set) once to learn its name, shape and data hash (errors name the bad reference).

    With ``crop``, name, shape and ground truth are the window's; the data hash stays the whole frames'.
    """
    from istdbench.datasets.catalog import load_data

    seq = load_data(ref, data_root=data_root, frames=frames, split=split)
    if isinstance(seq, ImageSet):
        if crop is not None:
            raise InvalidParameterError(f"{ref!r} is an image set: 'crop' applies to sequences only.")
        return SequenceInfo(
            ref=ref,
            frames=None,
            name=seq.label,
            data_hash=seq.provenance.data_hash,
            truth_hash=truth_hash(seq),
            shape=(len(seq), 1, round(seq.n_pixels / len(seq))),
            frame_numbers=(1, len(seq)),
            split=seq.split,
        )
    data_hash = seq.provenance.data_hash
    seq = crop_sequence(seq, crop)
    numbers = seq.provenance.frame_numbers
    return SequenceInfo(
        ref=ref,
        frames=frames,
        name=seq.name,
        data_hash=data_hash,
        truth_hash=truth_hash(seq),
        shape=seq.shape,
        frame_numbers=(numbers[0], numbers[-1]),
        crop=crop,
    )


def crop_sequence(seq: Sequence, crop: tuple[int, int, int, int] | None) -> Sequence:
    """The window ``crop`` = (row0, row1, col0, col1) of every frame, or ``seq`` itself for None."""
    if crop is None:
        return seq
    return seq.crop((crop[0], crop[1]), (crop[2], crop[3]))


def truth_hash(seq: Sequence | ImageSet) -> str:
    """Hash of the ground truth (masks and points): an edited annotation file changes the metric jobs' keys."""
    digest = hashlib.sha256()
    if isinstance(seq, ImageSet):
        for mask in seq.masks or ():
            digest.update(f"mask{mask.shape}".encode())
            digest.update(np.packbits(mask).tobytes())
        return digest.hexdigest()[:KEY_LENGTH]
    if seq.masks is not None:
        digest.update(b"masks")
        digest.update(np.packbits(seq.masks).tobytes())
    if seq.points is not None:
        for t, pts in enumerate(seq.points):
            digest.update(f"points{t}:".encode())
            digest.update(np.ascontiguousarray(pts, dtype=np.float64).tobytes())
    return digest.hexdigest()[:KEY_LENGTH]


def _jobs_for(
    v: _Variant,
    info: SequenceInfo,
    noise: str,
    seed: int,
    protocols: dict[str, str],
    threshold: str | None,
    gt: str = "",
) -> list[Job]:
    """The jobs of one detection, one per protocol (``threshold`` None: each protocol's default rule)."""
    from istdbench.metrics.protocols import get_protocol

    detection = {
        "method": v.spec.name,
        "code": v.code,
        "config_cls": v.config_cls,
        "config": v.config,
        "device": v.device,
        "sequence": info.identity(),
        "noise": noise,
        "seed": seed,
    }
    if v.inputs:  # only methods that read files of their own (weights); keeps every other key as it was
        detection["inputs"] = dict(v.inputs)
    det_key = content_key(detection)
    total = v.config.get(get_method(v.spec.name).checkpoint_parameter or "", None)
    marks = [None, *(k for k in v.spec.checkpoints if k != total)]  # None: the final maps
    return [
        Job(
            key=content_key(
                {"detection": det_key, "truth": info.truth_hash, "protocol": version, "threshold": rule}
                | ({"label": v.spec.label} if v.spec.label else {})
                | ({"gt": gt} if gt else {})
                | ({"checkpoint": mark} if mark is not None else {})
            ),
            detection_key=det_key,
            method=v.spec.name,
            preset=v.preset,
            overrides=v.spec.overrides,
            config_hash=v.config_hash,
            device=v.device,
            ref=info.ref,
            frames=info.frames,
            sequence=info.name,
            data_hash=info.data_hash,
            shape=info.shape,
            noise=noise,
            seed=seed,
            protocol=name,
            protocol_version=version,
            threshold=rule,
            label=v.spec.label,
            split=info.split,
            gt=gt,
            crop=info.crop,
            checkpoint=mark,
        )
        for mark in marks
        for name, version in protocols.items()
        for rule in (threshold or canonical_threshold(get_protocol(name).default_threshold),)
    ]


def content_key(identity: dict[str, Any]) -> str:
    """Short sha256 hex of a JSON-serialisable identity (sorted keys, so dict order does not matter)."""
    blob = json.dumps(identity, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:KEY_LENGTH]
