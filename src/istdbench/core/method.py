"""The common interface of every detection method.

A method is a small class around a pure function: it declares its metadata and
config, and implements ``_detect`` on a validated frame stack. The base class
owns timing, validation and packing the result into a `Detection`.

``detect`` also accepts an `ImageSet` (single images of different sizes):
single-frame methods run ``detect_batch`` on its images and return an
`ImageSetDetection`; multi-frame methods refuse it.
"""

from __future__ import annotations

import dataclasses
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np

from .config import MethodConfig
from .device import check_device
from .errors import InvalidParameterError, unknown_name
from .types import Detection, ImageSet, ImageSetDetection, Sequence

Kind = Literal["single-frame", "multi-frame"]


@dataclass
class RawOutput:
    """A method's raw result before the base class wraps it into a `Detection`.

    ``target`` (and ``background``) have the shape of the input: (T, H, W) from
    ``Method._detect``, (H, W) from ``SingleFrameMethod.detect_frame``.
    ``runtime_s``, when set, is the method's own measure of what the result
    cost and replaces the wall time of the call: a fit resumed from saved
    state counts the time its earlier attempts spent on the steps it reused.
    """

    target: np.ndarray
    background: np.ndarray | None = None
    diagnostics: dict[str, Any] = field(default_factory=dict)
    runtime_s: float | None = None


class Method(ABC):
    """Base class of registered methods.

    Class attributes to set in a subclass: ``config_cls``, ``presets`` (name ->
    config; ``default_preset`` names the one used when none is asked for),
    ``kind``, ``citation``, ``gpu_capable``, and for reports ``display_name``,
    ``cite_key``, ``paper_order``, ``category``. ``name`` is set by ``@register``.
    Iterative fits that can hand out their maps along the way name the config
    field that counts their optimiser steps in ``checkpoint_parameter`` and
    implement ``_detect_checkpoints`` (see `detect_checkpoints`).
    """

    name: ClassVar[str] = ""
    kind: ClassVar[Kind] = "single-frame"
    config_cls: ClassVar[type[MethodConfig]] = MethodConfig
    presets: ClassVar[dict[str, MethodConfig]] = {}
    default_preset: ClassVar[str] = "default"
    citation: ClassVar[str] = ""
    gpu_capable: ClassVar[bool] = False
    learned: ClassVar[bool] = False
    reconstructed: ClassVar[bool] = False  # True where no original code exists
    checkpoint_parameter: ClassVar[str | None] = None  # config field counting optimiser steps (see detect_checkpoints)
    # presentation only (istdbench.core.display; they never change a result or a job key)
    display_name: ClassVar[str] = ""  # name printed in tables and legends ("" : the registered name)
    cite_key: ClassVar[str] = ""  # BibTeX key cited after the name in LaTeX tables
    paper_order: ClassVar[int] = 10_000  # rank in the seed paper's tables (HVS, optimisation, then learned)
    category: ClassVar[str] = ""  # Table 10's category: HVS, Optim., DL, Filter

    def __init__(
        self,
        config: MethodConfig | None = None,
        *,
        preset: str | None = None,
        overrides: dict[str, Any] | None = None,
        device: str = "cpu",
        state_dir: str | Path | None = None,
    ) -> None:
        """``state_dir``: where methods with long iterative fits (NeurSTT, 3DSTPM) keep
        resumable state, so that a killed run continues where it stopped; the
        others ignore it. None keeps no state."""
        if config is not None and preset is not None:
            raise InvalidParameterError("Give either a config or a preset name, not both.")
        if config is None:
            config = self.preset_config(preset or self.default_preset)
        if not isinstance(config, self.config_cls):
            raise InvalidParameterError(
                f"{type(self).__name__} expects a {self.config_cls.__name__}; got {type(config).__name__}."
            )
        if overrides:
            config = config.with_overrides(overrides)
        self.config = config
        self.device = self._check_device(device)
        self.state_dir = Path(state_dir) if state_dir is not None else None

    @classmethod
    def preset_config(cls, preset: str) -> MethodConfig:
        if preset not in cls.presets:
            raise unknown_name(f"preset of method {cls.name!r}", preset, cls.presets)
        return cls.presets[preset]

    def _check_device(self, device: str) -> str:
        if device != "cpu" and not self.gpu_capable:
            raise InvalidParameterError(f"Method {self.name!r} runs on the CPU only; got device {device!r}.")
        return check_device(device)

    def n_params(self, shape: tuple[int, int, int]) -> int | None:
        """Learnable parameters at input shape (T, H, W); None for non-learned methods."""
        return None

    def min_frames(self) -> int:
        return 1

    def fingerprint(self) -> dict[str, str]:
        """Content hashes of files the result depends on besides the sequence and the config (a
        network's weights file); the runner adds them to its job keys. Empty for most methods."""
        return {}

    def detect(self, seq: Sequence | ImageSet) -> Detection | ImageSetDetection:
        """Run the method on a sequence (or an image set) and return the raw target maps (never thresholded).

        A `Sequence` gives a `Detection` of shape (T, H, W); an `ImageSet` gives an
        `ImageSetDetection` with one map per image (single-frame methods only).
        """
        if isinstance(seq, ImageSet):
            return self._detect_image_set(seq)
        self._check_sequence(seq)
        start = time.perf_counter()
        raw = self._detect(seq.frames)
        return self._detection(seq, raw, time.perf_counter() - start, self.config)

    def detect_checkpoints(self, seq: Sequence, steps: Iterable[int]) -> dict[int, Detection]:
        """Maps after each of ``steps`` optimiser steps of one fit, and after its last step.

        One fit of ``config.<checkpoint_parameter>`` steps yields a detection per
        requested step ``k`` (and always one for the last step, which is what
        `detect` returns). The detection at ``k`` is the one `detect` gives with
        the step count set to ``k`` (bit for bit on a CPU: the optimisers here
        have no schedule that looks ahead); its ``config`` says so, so that a
        runner can store it as that setting's detection. Its runtime is the time
        the fit had spent when its maps at ``k`` were ready.

        Raises
        ------
        InvalidParameterError
            If the method has no checkpoints, or a step is not an integer in
            ``1..<step count>``.
        """
        name = self.checkpoint_parameter
        if name is None:
            raise InvalidParameterError(
                f"Method {self.name!r} has no fit checkpoints: it is not an iterative fit that can give maps "
                "along the way."
            )
        total = getattr(self.config, name)
        marks = sorted({*self._checkpoint_steps(steps, name, total), total})
        self._check_sequence(seq)
        start = time.perf_counter()
        raws = self._detect_checkpoints(seq.frames, tuple(marks))
        elapsed = time.perf_counter() - start
        return {k: self._detection(seq, raws[k], elapsed, dataclasses.replace(self.config, **{name: k})) for k in marks}

    @staticmethod
    def _checkpoint_steps(steps: Iterable[int], name: str, total: int) -> list[int]:
        checked = []
        for k in steps:
            if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 1 <= k <= total:
                raise InvalidParameterError(
                    f"fit checkpoints must be integers in 1..{total} (the {name!r} of this config). Got {k!r} instead."
                )
            checked.append(int(k))
        return checked

    def _detect_checkpoints(self, frames: np.ndarray, steps: tuple[int, ...]) -> dict[int, RawOutput]:
        """Raw maps after each of ``steps`` (sorted, the last one the config's step count)."""
        raise NotImplementedError(f"{type(self).__name__} declares checkpoint_parameter but no _detect_checkpoints.")

    def _check_sequence(self, seq: Sequence) -> None:
        if not isinstance(seq, Sequence):
            raise InvalidParameterError(
                f"detect() expects an istdbench Sequence or ImageSet; got {type(seq).__name__}."
            )
        if len(seq) < self.min_frames():
            raise InvalidParameterError(
                f"Method {self.name!r} needs at least {self.min_frames()} frames; sequence {seq.name!r} has {len(seq)}."
            )

    def _detection(self, seq: Sequence, raw: RawOutput, elapsed: float, config: MethodConfig) -> Detection:
        """Wrap a raw result; its own ``runtime_s`` (earlier attempts included) wins over the wall time."""
        if raw.target.shape != seq.shape:
            raise RuntimeError(f"{self.name} returned a map of shape {raw.target.shape} for input {seq.shape}.")
        return Detection(
            target=raw.target,
            background=raw.background,
            runtime_s=elapsed if raw.runtime_s is None else raw.runtime_s,
            device=self.device,
            n_params=self.n_params(seq.shape),
            diagnostics=raw.diagnostics,
            method=self.name,
            config=config.to_dict(),
        )

    @abstractmethod
    def _detect(self, frames: np.ndarray) -> RawOutput:
        """Compute the raw maps for validated float32 frames of shape (T, H, W)."""

    def _detect_image_set(self, images: ImageSet) -> ImageSetDetection:
        if self.kind != "single-frame":
            raise InvalidParameterError(
                f"Method {self.name!r} is {self.kind}: it needs a (T, H, W) Sequence, and image set "
                f"{images.name!r} holds {len(images)} single images; use a single-frame method "
                "(istdbench methods lists each method's kind)."
            )
        start = time.perf_counter()
        outputs = [self._detect(img[None]) for img in images.images]  # each image a one-frame stack
        elapsed = time.perf_counter() - start
        return self._pack_image_set(images, [_frame_of(out) for out in outputs], elapsed)

    def _pack_image_set(self, images: ImageSet, outputs: list[RawOutput], elapsed: float) -> ImageSetDetection:
        """Check one (H, W) result per image and wrap them into an `ImageSetDetection`."""
        if len(outputs) != len(images):
            raise RuntimeError(f"{self.name} returned {len(outputs)} results for {len(images)} images.")
        for name, img, out in zip(images.names, images.images, outputs, strict=True):
            if np.shape(out.target) != img.shape:
                raise RuntimeError(
                    f"{self.name} returned a map of shape {np.shape(out.target)} for image {name!r} of {img.shape}."
                )
        with_bg = [out.background is not None for out in outputs]
        if any(with_bg) and not all(with_bg):
            raise RuntimeError(f"{self.name} returned a background for some images only.")
        diagnostics: dict[str, list] = {}
        for out in outputs:
            for key, value in out.diagnostics.items():
                diagnostics.setdefault(key, []).append(value)
        h, w = images.images[0].shape
        return ImageSetDetection(
            targets=tuple(out.target for out in outputs),
            names=images.names,
            backgrounds=tuple(out.background for out in outputs) if all(with_bg) else None,
            runtime_s=elapsed,
            device=self.device,
            n_params=self.n_params((1, h, w)),
            diagnostics=diagnostics,
            method=self.name,
            config=self.config.to_dict(),
        )


class SingleFrameMethod(Method):
    """A method that treats each frame on its own: implement ``detect_frame``.

    ``detect_frame`` returns the target map, or a `RawOutput` when the method
    also estimates a background or reports diagnostics; the base class stacks the
    frames and gathers each diagnostic into a per-frame list. Methods that gain
    from processing frames together (networks: one batched forward pass)
    override ``detect_batch`` as well: it is the one path both a `Sequence`
    (all frames in one call) and an `ImageSet` (``image_batch`` images per call,
    in the set's order, sizes differing) go through.
    """

    kind: ClassVar[Kind] = "single-frame"
    image_batch: ClassVar[int] = 64
    """Images of an `ImageSet` handed to one ``detect_batch`` call (bounds the float64 copies in memory)."""

    @abstractmethod
    def detect_frame(self, frame: np.ndarray) -> np.ndarray | RawOutput:
        """Target map of one (H, W) float64 frame in [0, 1] (or a `RawOutput` with its background)."""

    def detect_batch(self, frames: list[np.ndarray]) -> list[RawOutput]:
        """Results for several (H, W) float64 frames, possibly of different sizes (default: one at a time)."""
        return [as_raw_output(self.detect_frame(frame)) for frame in frames]

    def _detect(self, frames: np.ndarray) -> RawOutput:
        outputs = [as_raw_output(r) for r in self.detect_batch([frame.astype(np.float64) for frame in frames])]
        if len(outputs) != len(frames):
            raise RuntimeError(f"{self.name}.detect_batch returned {len(outputs)} results for {len(frames)} frames.")
        target = np.empty(frames.shape, dtype=np.float32)
        background: np.ndarray | None = None
        diagnostics: dict[str, list] = {}
        for t, out in enumerate(outputs):
            target[t] = out.target
            if out.background is not None:
                if background is None:
                    background = np.empty(frames.shape, dtype=np.float32)
                background[t] = out.background
            for key, value in out.diagnostics.items():
                diagnostics.setdefault(key, []).append(value)
        return RawOutput(target=target, background=background, diagnostics=diagnostics)

    def _detect_image_set(self, images: ImageSet) -> ImageSetDetection:
        """The images through ``detect_batch``, ``image_batch`` at a time (bounded float64 copies)."""
        start = time.perf_counter()
        outputs: list[RawOutput] = []
        step = max(1, int(self.image_batch))
        for lo in range(0, len(images), step):
            batch = [img.astype(np.float64) for img in images.images[lo : lo + step]]
            results = self.detect_batch(batch)
            if len(results) != len(batch):
                raise RuntimeError(f"{self.name}.detect_batch returned {len(results)} results for {len(batch)} images.")
            outputs.extend(as_raw_output(r) for r in results)
        return self._pack_image_set(images, outputs, time.perf_counter() - start)


def _frame_of(out: RawOutput) -> RawOutput:
    """The (H, W) result of a one-frame (1, H, W) `RawOutput`."""
    return RawOutput(
        target=np.asarray(out.target)[0],
        background=None if out.background is None else np.asarray(out.background)[0],
        diagnostics=out.diagnostics,
    )


def as_raw_output(result: np.ndarray | RawOutput) -> RawOutput:
    """A `RawOutput` from what ``detect_frame`` returned (a bare map or a `RawOutput`)."""
    return result if isinstance(result, RawOutput) else RawOutput(target=np.asarray(result))
