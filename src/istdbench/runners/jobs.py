"""Expanding a run config into jobs, each keyed by a content hash of everything that decides its result.

A job is one (method variant, sequence, noise, seed, metric protocol). Its key
hashes the method name, the method's code version (the source of its module and
of the suite's method helpers it uses), the resolved config, the method's
fingerprint (a network's weights file hash), the sequence reference with its
frame range and data hash, the noise spec and seed, the metric protocol with its
version and the threshold protocol. Equal keys mean
equal results, so a stored job is reused; a changed config, method file,
frame or protocol version changes the key and only those jobs run again.

Jobs that differ only in the metric protocol share a *detection key* and are
grouped into one `Task`, so the method runs once for them. Tasks carry
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
from istdbench.core.registry import create_method, get_method, list_methods
from istdbench.core.types import Sequence

from .codeversion import KEY_LENGTH, code_version
from .config import MethodSpec, RunConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SequenceInfo:
    """What planning learns about a sequence by loading it once."""

    ref: str
    frames: tuple[int, int] | None
    name: str
    data_hash: str
    truth_hash: str
    shape: tuple[int, int, int]
    frame_numbers: tuple[int, int]  # first and last 1-based source frame

    def identity(self) -> dict[str, Any]:
        """What makes two references the same input: the name, the frames and the data (not the spelling)."""
        return {"name": self.name, "frames": self.frame_numbers, "data_hash": self.data_hash}


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

    @property
    def dataset(self) -> str:
        return self.sequence.split("/", 1)[0]

    def describe(self) -> str:
        return f"{self.method}[{self.preset}] on {self.sequence} (noise {self.noise}, seed {self.seed})"


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
    threshold = canonical_threshold(cfg.threshold)
    noises = {spec: canonical_noise(spec) for block in cfg.sequences for spec in block.noise}
    seqs: dict[tuple[str, tuple[int, int] | None], SequenceInfo | None] = {}
    for block in cfg.sequences:
        for ref in block.refs:
            if (ref, block.frames) not in seqs:
                seqs[ref, block.frames] = _loadable(cfg, ref, block.frames, data_root, skipped)
    if not any(seqs.values()):
        raise DataError(f"run config {cfg.source or cfg.name!r}: no sequence could be loaded (all skipped).")
    jobs: list[Job] = []
    for block in cfg.sequences:
        for ref in block.refs:
            info = seqs[ref, block.frames]
            if info is None:
                continue
            for noise_spec in block.noise:
                for seed in cfg.seeds:
                    for variant in variants:
                        scored = _variant_protocols(variant, protocols, cfg.binarize)
                        jobs.extend(_jobs_for(variant, info, noises[noise_spec], seed, scored, threshold))
    return list({j.key: j for j in jobs}.values())


def _loadable(
    cfg: RunConfig,
    ref: str,
    frames: tuple[int, int] | None,
    data_root: str | Path | None,
    skipped: dict[str, str] | None,
) -> SequenceInfo | None:
    """`sequence_info`, or None for data that cannot be loaded when the config skips bad data."""
    try:
        return sequence_info(ref, frames, data_root)
    except DataError as exc:
        if cfg.on_bad_data != "skip":
            raise DataError(
                f'{exc} To run the rest of the config without it, set on_bad_data = "skip" in the run config.'
            ) from None
        log.warning("skipping sequence %r: %s", ref, exc)
        if skipped is not None:
            skipped[ref] = str(exc)
        return None


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


def sequence_info(ref: str, frames: tuple[int, int] | None, data_root: str | Path | None) -> SequenceInfo:
    """Load a sequence once to learn its name, shape and data hash (errors name the bad reference)."""
    from istdbench.datasets.catalog import load_sequence

    seq = load_sequence(ref, data_root=data_root, frames=frames)
    numbers = seq.provenance.frame_numbers
    return SequenceInfo(
        ref=ref,
        frames=frames,
        name=seq.name,
        data_hash=seq.provenance.data_hash,
        truth_hash=truth_hash(seq),
        shape=seq.shape,
        frame_numbers=(numbers[0], numbers[-1]),
    )


def truth_hash(seq: Sequence) -> str:
    """Hash of the ground truth (masks and points): an edited annotation file changes the metric jobs' keys."""
    digest = hashlib.sha256()
    if seq.masks is not None:
        digest.update(b"masks")
        digest.update(np.packbits(seq.masks).tobytes())
    if seq.points is not None:
        for t, pts in enumerate(seq.points):
            digest.update(f"points{t}:".encode())
            digest.update(np.ascontiguousarray(pts, dtype=np.float64).tobytes())
    return digest.hexdigest()[:KEY_LENGTH]


def _jobs_for(
    v: _Variant, info: SequenceInfo, noise: str, seed: int, protocols: dict[str, str], threshold: str
) -> list[Job]:
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
    return [
        Job(
            key=content_key(
                {"detection": det_key, "truth": info.truth_hash, "protocol": version, "threshold": threshold}
                | ({"label": v.spec.label} if v.spec.label else {})
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
            threshold=threshold,
            label=v.spec.label,
        )
        for name, version in protocols.items()
    ]


def content_key(identity: dict[str, Any]) -> str:
    """Short sha256 hex of a JSON-serialisable identity (sorted keys, so dict order does not matter)."""
    blob = json.dumps(identity, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:KEY_LENGTH]
