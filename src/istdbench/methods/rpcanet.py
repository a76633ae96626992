"""RPCANet: robust PCA unfolded into a network (Wu et al., WACV 2024), run with its authors' weights.

Each of six stages updates a background B, a target T and the image D from
the previous estimates, mirroring one iteration of an RPCA solver::

    B = (D - T) + f_B(D - T)            background: a residual CNN with BatchNorm
    X = T + D - B
    T = X - epsilon * f_T(X)            target: a CNN without BatchNorm, a learned step epsilon
    D = f_D(B + T)                      image reconstruction (a CNN with BatchNorm)

starting from T = 0 and D = the input. The sparse component T of the last
stage, through a sigmoid, is the target map the authors threshold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from istdbench.core.config import MethodConfig
from istdbench.core.registry import register

from ._network import ARCHITECTURES, NetworkConfig, PretrainedNetwork

STAGES = 6
WIDTH = 32
BACKGROUND_DEPTH, TARGET_DEPTH, IMAGE_DEPTH = 3, 6, 3
"""Hidden width x width layers of f_B, f_T and f_D (the authors' ``llayers``, ``slayers``, ``mlayers``)."""


def conv_stack(depth: int, batch_norm: bool) -> nn.Sequential:
    """1 -> WIDTH, ``depth`` x (WIDTH -> WIDTH), WIDTH -> 1 channels; 3x3 convolutions with bias.

    Every convolution but the last is followed by [BatchNorm and] ReLU.
    """
    layers: list[nn.Module] = []
    for cin in [1] + [WIDTH] * depth:
        layers.append(nn.Conv2d(cin, WIDTH, 3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(WIDTH))
        layers.append(nn.ReLU())
    layers.append(nn.Conv2d(WIDTH, 1, 3, padding=1))
    return nn.Sequential(*layers)


class BackgroundStep(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.convs = conv_stack(BACKGROUND_DEPTH, batch_norm=True)

    def forward(self, d: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        x = d - t
        return x + self.convs(x)


class TargetStep(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.convs = conv_stack(TARGET_DEPTH, batch_norm=False)
        self.epsilon = nn.Parameter(torch.tensor([0.01]))

    def forward(self, d: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        x = t + d - b
        return x - self.epsilon * self.convs(x)


class ImageStep(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.mapping = conv_stack(IMAGE_DEPTH, batch_norm=True)

    def forward(self, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return self.mapping(b + t)


class Stage(nn.Module):
    """One unfolded iteration: (D, T) -> (D', T')."""

    def __init__(self) -> None:
        super().__init__()
        self.lowrank = BackgroundStep()
        self.sparse = TargetStep()
        self.merge = ImageStep()

    def forward(self, d: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        b = self.lowrank(d, t)
        t = self.sparse(d, b, t)
        return self.merge(b, t), t


class RPCANetNetwork(nn.Module):
    """The six-stage network; ``forward`` returns the last stage's (D, T), both (N, 1, H, W)."""

    def __init__(self, stages: int = STAGES) -> None:
        super().__init__()
        self.decos = nn.ModuleList(Stage() for _ in range(stages))

    def forward(self, d: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        t = torch.zeros_like(d)
        for stage in self.decos:
            d, t = stage(d, t)
        return d, t


@dataclass(frozen=True)
class RPCANetConfig(NetworkConfig):
    """RPCANet settings; defaults: the authors' test script with their SIRST weights (see `NetworkConfig`)."""

    weights: str = "rpcanet/RPCANet_SIRST.pkl"
    input_size: int | None = 256


TRAININGS = {"sirst": "SIRST", "nudt": "NUDT", "irstd1k": "1K", "sirst-aug": "SIRST-Aug"}
"""Preset name -> suffix of the authors' weights file ``RPCANet_<suffix>.pkl`` (one per training set)."""


@register("rpcanet")
class RPCANet(PretrainedNetwork):
    """RPCANet (single-frame, supervised), with the authors' weights for four training sets.

    Presets ``sirst`` (default), ``nudt``, ``irstd1k``, ``sirst-aug`` name the
    authors' files ``rpcanet/RPCANet_{SIRST,NUDT,1K,SIRST-Aug}.pkl`` in the
    weights folder; ``--set weights=PATH`` takes any other ``state_dict`` of
    this architecture.

    Notes
    -----
    Inference follows the authors' ``t_models_istd.py`` and
    ``cal_metric_istd.py``; where the suite must differ it says so:

    ===================  ====================================  ========================================
    step                 authors                               here
    ===================  ====================================  ========================================
    gray input           ``cv2.imread(path, 0)``               the loader's gray frame in [0, 1]
                                                               (MATLAB ``rgb2gray`` weights for colour
                                                               files: within a gray level of OpenCV's)
    resize               ``cv2.resize`` to 256 x 256,          bilinear, half-pixel centres, no
                         INTER_LINEAR, on uint8                antialiasing (OpenCV's rule), rounded to
                                                               k/255 (``round_to_8bit``)
    scaling              ``/ 255``                             the same (frames are k/255)
    network              6 stages, width 32, eval mode         the same; the ``state_dict`` loads
                                                               strictly
    output               ``sigmoid(T)`` of the last stage at   the same, resized back to the frame
                         256 x 256                             (bilinear)
    threshold            ``map / max(map) > 0.5`` per image    a metric rule, not here: the suite's
                                                               ``ratio:0.5`` is this one
                                                               (``fixed:0.5`` is sigmoid > 0.5)
    scoring size         masks resized to 256 x 256 (nearest)  the frame's own size
    ===================  ====================================  ========================================

    ``input_size = None`` runs the frame at its own size, zero-padded to a
    multiple of 32 (the ``PadImg`` of the authors' validation code).

    Parameters: 679,896 trainable (the authors' README: 0.680 M); the
    ``state_dict`` holds 683,016 elements, the difference being the BatchNorm
    running means and variances (3,072) and batch counters (48).

    References
    ----------
    Wu, F., Zhang, T., Li, L., Huang, Y., Peng, Z. "RPCANet: Deep Unfolding
    RPCA Based Infrared Small Target Detection", WACV 2024, pp. 4809-4818.
    Code and weights: github.com/fengyiwu98/RPCANet (MIT).
    """

    config_cls = RPCANetConfig
    presets: ClassVar[dict[str, MethodConfig]] = {
        name: RPCANetConfig(weights=f"rpcanet/RPCANet_{suffix}.pkl") for name, suffix in TRAININGS.items()
    }
    default_preset = "sirst"
    display_name = "RPCANet"
    cite_key = "wu2024rpcanet"
    paper_order = 100
    category = "DL"
    citation = (
        "F. Wu, T. Zhang, L. Li, Y. Huang and Z. Peng, 'RPCANet: Deep Unfolding RPCA Based Infrared Small Target "
        "Detection', Proc. IEEE/CVF Winter Conference on Applications of Computer Vision (WACV), pp. 4809-4818, 2024."
    )
    floats_per_pixel = 160
    antialias_input = False

    @classmethod
    def build(cls) -> nn.Module:
        return RPCANetNetwork()

    def forward_map(self, network: nn.Module, x: torch.Tensor) -> torch.Tensor:
        _, t = network(x)
        return torch.sigmoid(t)


ARCHITECTURES["rpcanet"] = RPCANet.build
