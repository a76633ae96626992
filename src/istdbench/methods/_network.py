"""Inference with a supervised network and its trained weights: the part RPCANet and RDIAN share.

A network method subclasses `PretrainedNetwork` and gives its architecture
(``build``), its input normalisation and the map its authors threshold
(``forward_map``). This module does the rest, the same way for both:

- **Geometry.** With ``input_size = S`` every frame is resized to S x S
  (bilinear, half-pixel centres; ``antialias_input`` chooses Pillow-style
  antialiased downscaling (RDIAN's test script) or OpenCV-style point sampling
  (RPCANet's)), rounded to 8-bit levels when ``round_to_8bit`` (the authors'
  resized images are uint8), run, and the map resized back to the frame's size
  (bilinear, no antialiasing, so a one-pixel peak is not averaged away). With
  ``input_size = None`` the frame runs at its own size, zero-padded at the
  bottom and right to a multiple of ``pad_multiple`` (the ``PadImg`` of the
  RPCANet and BasicIRSTD test code) and cropped back; a frame smaller than
  ``pad_multiple`` is padded the same way, with a warning.
- **Batches.** Frames of one geometry run together, as many per forward pass
  as fit ``batch_mb`` megabytes of activations (``floats_per_pixel``, an upper
  estimate per network input pixel; see `batch_capacity`).
- **Determinism and devices.** Eval-mode BatchNorm (running statistics),
  ``torch.inference_mode``, float32 in channels-last layout (faster
  convolutions on both), on ``cpu`` or ``cuda[:N]``. CPU maps are
  identical run to run; CUDA maps agree to float32 rounding (cuDNN picks its
  own kernels).
- **Weights** are loaded lazily on the first detection, strictly, with the
  errors of `istdbench.methods._weights`. ``fingerprint`` puts the file's
  sha256 into the runner's job keys, so replacing a weights file re-runs.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from istdbench.core.config import MethodConfig
from istdbench.core.method import RawOutput, SingleFrameMethod

from ._weights import file_sha256, load_network, resolve_weights

log = logging.getLogger(__name__)

ARCHITECTURES: dict[str, Callable[[], nn.Module]] = {}
"""Method name -> network builder of every registered network, so a mismatch can name whose weights a file holds."""


@dataclass(frozen=True)
class NetworkConfig(MethodConfig):
    """Settings shared by the network methods (each subclass sets its authors' defaults).

    Attributes
    ----------
    weights : str
        The ``state_dict`` file: an absolute path, a path relative to the
        current folder, or one relative to the weights folder
        (``$ISTDBENCH_WEIGHTS``, else ``~/.cache/istdbench/weights``).
    input_size : int or None
        Side of the square the frame is resized to for the network (the
        authors' test size); None runs the frame at its own size.
    pad_multiple : int
        At the frame's own size, pad height and width up to a multiple of this.
    round_to_8bit : bool
        Round the network's input to ``k/255`` levels, as the authors' uint8
        images are.
    batch_mb : int
        Activation memory one forward pass may take, in MiB (the batch cap).
    """

    weights: str = ""
    input_size: int | None = None
    pad_multiple: int = 32
    round_to_8bit: bool = True
    batch_mb: int = 1024

    def validate(self) -> None:
        self._require("weights", isinstance(self.weights, str) and bool(self.weights.strip()), "a path to a file")
        ok_size = self.input_size is None or (isinstance(self.input_size, int) and self.input_size >= 1)
        self._require("input_size", ok_size, "None (the frame's own size) or an integer >= 1")
        self._require("pad_multiple", isinstance(self.pad_multiple, int) and self.pad_multiple >= 1, "an integer >= 1")
        self._require("round_to_8bit", isinstance(self.round_to_8bit, bool), "a bool")
        self._require("batch_mb", isinstance(self.batch_mb, int) and self.batch_mb >= 1, "an integer >= 1 (MiB)")


@dataclass(frozen=True)
class Geometry:
    """Where one frame size goes: resized to ``net``, zero-padded to ``padded`` (all (H, W))."""

    frame: tuple[int, int]
    net: tuple[int, int]
    padded: tuple[int, int]

    @property
    def resized(self) -> bool:
        return self.net != self.frame


def geometry(frame: tuple[int, int], cfg: NetworkConfig) -> Geometry:
    """The `Geometry` of a frame of shape ``frame`` under ``cfg``."""
    if cfg.input_size is not None:
        side = cfg.input_size
        return Geometry(frame, (side, side), (side, side))
    m = cfg.pad_multiple
    padded = tuple(max(1, math.ceil(n / m)) * m for n in frame)
    return Geometry(frame, frame, padded)  # type: ignore[arg-type]


def batch_capacity(padded: tuple[int, int], floats_per_pixel: int, batch_mb: int) -> int:
    """Frames per forward pass whose activations fit ``batch_mb`` MiB (at least one)."""
    per_frame = padded[0] * padded[1] * floats_per_pixel * 4
    return max(1, (batch_mb << 20) // per_frame)


class PretrainedNetwork(SingleFrameMethod):
    """Base of the network methods: a trained network run frame by frame in batches.

    Subclasses set ``config_cls``, ``presets``, ``floats_per_pixel`` and
    ``antialias_input`` and implement ``build`` (the architecture),
    ``normalise`` and ``forward_map``.
    """

    gpu_capable = True
    learned = True
    floats_per_pixel: ClassVar[int] = 256
    antialias_input: ClassVar[bool] = False
    _loaded: nn.Module | None = None  # the network with its weights, once loaded

    @classmethod
    def build(cls) -> nn.Module:
        """A new network with the authors' architecture (random weights)."""
        raise NotImplementedError

    def normalise(self, x: torch.Tensor) -> torch.Tensor:
        """The network's input from images in [0, 1] of shape (N, 1, H, W) (default: unchanged)."""
        return x

    def forward_map(self, network: nn.Module, x: torch.Tensor) -> torch.Tensor:
        """The map the authors threshold, shape (N, 1, H, W), for a normalised batch."""
        raise NotImplementedError

    # --- weights and metadata ---------------------------------------------------------------------

    def network(self) -> nn.Module:
        """The network with the config's weights, in eval mode on the method's device (loaded once)."""
        if self._loaded is None:
            net = self.build()
            others = {name: build for name, build in ARCHITECTURES.items() if name != self.name}
            path = load_network(net, self.config.weights, self.name, others)  # type: ignore[attr-defined]
            log.info("%s: weights %s", self.name, path)
            self._loaded = net.eval().to(self.device, memory_format=torch.channels_last)
        return self._loaded

    def fingerprint(self) -> dict[str, str]:
        """The sha256 of the weights file (part of the runner's job key)."""
        return {"weights_sha256": file_sha256(resolve_weights(self.config.weights))}  # type: ignore[attr-defined]

    def n_params(self, shape: tuple[int, int, int]) -> int:
        """Trainable parameters (BatchNorm running statistics and fixed kernels excluded); any input shape."""
        return sum(p.numel() for p in self.build().parameters() if p.requires_grad)

    @classmethod
    def n_state_elements(cls) -> int:
        """Elements of every tensor in the ``state_dict`` (what a weights file holds)."""
        return sum(t.numel() for t in cls.build().state_dict().values())

    # --- inference --------------------------------------------------------------------------------

    def detect_frame(self, frame: np.ndarray) -> np.ndarray:
        """The map of one (H, W) frame (a batch of one)."""
        return self.detect_batch([frame])[0].target

    def detect_batch(self, frames: list[np.ndarray]) -> list[RawOutput]:
        """Maps of (H, W) frames in [0, 1], run in batches of one geometry; same order as ``frames``."""
        cfg: NetworkConfig = self.config  # type: ignore[assignment]
        groups: dict[Geometry, list[int]] = {}
        for i, frame in enumerate(frames):
            groups.setdefault(geometry(frame.shape, cfg), []).append(i)
        maps: list[np.ndarray | None] = [None] * len(frames)
        for geo, members in groups.items():
            self._say_padding(geo)
            step = batch_capacity(geo.padded, self.floats_per_pixel, cfg.batch_mb)
            for start in range(0, len(members), step):
                chunk = members[start : start + step]
                out = self._run(np.stack([frames[i] for i in chunk]), geo)
                for i, m in zip(chunk, out, strict=True):
                    maps[i] = m
        return [RawOutput(target=m) for m in maps]  # type: ignore[arg-type]

    def _run(self, batch: np.ndarray, geo: Geometry) -> np.ndarray:
        """Maps (N, H, W) float32 of a batch (N, H, W) of frames with one geometry."""
        cfg: NetworkConfig = self.config  # type: ignore[assignment]
        net = self.network()
        with torch.inference_mode():
            x = torch.from_numpy(batch).to(device=self.device, dtype=torch.float32)[:, None]
            if geo.resized:
                x = F.interpolate(x, size=geo.net, mode="bilinear", align_corners=False, antialias=self.antialias_input)
            if cfg.round_to_8bit:
                x = torch.round(x.clamp(0.0, 1.0) * 255.0) / 255.0
            x = self.normalise(x)
            pad_h, pad_w = geo.padded[0] - geo.net[0], geo.padded[1] - geo.net[1]
            if pad_h or pad_w:
                x = F.pad(x, (0, pad_w, 0, pad_h))
            y = self.forward_map(net, x.contiguous(memory_format=torch.channels_last))[..., : geo.net[0], : geo.net[1]]
            if geo.resized:
                y = F.interpolate(y, size=geo.frame, mode="bilinear", align_corners=False)
            return y[:, 0].float().cpu().numpy()

    def _say_padding(self, geo: Geometry) -> None:
        if geo.padded == geo.net:
            return
        cfg: NetworkConfig = self.config  # type: ignore[assignment]
        h, w = geo.frame
        ph, pw = geo.padded
        if min(geo.frame) < cfg.pad_multiple:
            log.warning(
                "%s: frame %dx%d is smaller than the network's %dx%d minimum at its own size; zero-padded to %dx%d",
                self.name,
                h,
                w,
                cfg.pad_multiple,
                cfg.pad_multiple,
                ph,
                pw,
            )
        else:
            log.info(
                "%s: frame %dx%d zero-padded to %dx%d (multiples of %d)", self.name, h, w, ph, pw, cfg.pad_multiple
            )
