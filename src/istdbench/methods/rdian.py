"""RDIAN: receptive-field and direction induced attention network (Sun et al., TGRS 2023), authors' weights.

Forward pass (x: the normalised frame, N x 1 x H x W)::

    m    = sigmoid(sum over 4 opposite direction pairs (k, k') of  d_k(x) * d_k'(x))
    f1   = CBL(1 -> 16)(x)                                    direction attention on full resolution
    f2   = CBL(16 -> 32, stride 2)(f1 + f1 * m)
    c    = cat(R_1(f2), R_3(f2), R_5(f2), R_7(f2))            residual branches, kernels 1, 3, 5, 7
    a    = CBAM(CBL(128 -> 32)(c))                            channel then spatial attention
    y    = head(relu(upsample(a) + CBL(16 -> 32, 1x1)(f1)))   3x3 conv, BN, ReLU, dropout, 1x1 conv

where CBL is conv (no bias) + BatchNorm + LeakyReLU(0.01), ``d_k`` is a fixed
5x5 difference ``x(centre) - x(centre + 2 * direction_k)`` for the 8 compass
directions, R_k is one (k = 1) or two residual blocks of a k x k CBL
bottleneck (32 -> 16 -> 32 channels) and upsampling is bilinear back to H x W.
The sigmoid of ``y`` is the map the authors threshold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from istdbench.core.config import MethodConfig
from istdbench.core.registry import register

from ._network import ARCHITECTURES, NetworkConfig, PretrainedNetwork

MEAN, STD = -0.1246, 1.0923
"""Normalisation of the authors' test transform: ``(x - MEAN) / STD`` on images in [0, 1]."""

DIRECTIONS = ((-2, -2), (-2, 0), (-2, 2), (0, 2), (2, 2), (2, 0), (2, -2), (0, -2))
"""Offsets (row, col) of the 8 difference kernels d11 ... d18; d1k and d1(k+4) point in opposite directions."""


def cbl(cin: int, cout: int, kernel: int = 3, stride: int = 1) -> nn.Sequential:
    """Convolution without bias ('same' padding for odd kernels), BatchNorm, LeakyReLU(0.01)."""
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, stride=stride, padding=kernel // 2, bias=False),
        nn.BatchNorm2d(cout),
        nn.LeakyReLU(0.01),
    )


class Bottleneck(nn.Module):
    """``x + CBL(C/2 -> C)(CBL(C -> C/2)(x))`` with k x k kernels."""

    def __init__(self, channels: int, kernel: int) -> None:
        super().__init__()
        self.layer1 = cbl(channels, channels // 2, kernel)
        self.layer2 = cbl(channels // 2, channels, kernel)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.layer2(self.layer1(x))


class Difference(nn.Module):
    """A fixed 5x5 kernel: +1 at the centre, -1 at ``offset`` from it (not trained; stored in the weights)."""

    def __init__(self, offset: tuple[int, int]) -> None:
        super().__init__()
        kernel = torch.zeros(1, 1, 5, 5)
        kernel[0, 0, 2, 2] = 1.0
        kernel[0, 0, 2 + offset[0], 2 + offset[1]] = -1.0
        self.weight = nn.Parameter(kernel, requires_grad=False)


class ChannelGate(nn.Module):
    """Scale each channel by sigmoid(mlp(avg pool) + mlp(max pool)); the mlp narrows 32 -> 1 -> 32."""

    def __init__(self, channels: int, hidden: int) -> None:
        super().__init__()
        self.mlp = nn.Sequential(nn.Flatten(), nn.Linear(channels, hidden), nn.ReLU(), nn.Linear(hidden, channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = self.mlp(x.mean(dim=(2, 3))) + self.mlp(x.amax(dim=(2, 3)))
        return x * torch.sigmoid(pooled)[:, :, None, None]


class SpatialConv(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 1, 7, padding=3, bias=False)
        self.bn = nn.BatchNorm2d(1, eps=1e-5, momentum=0.01)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(x))


class SpatialGate(nn.Module):
    """Scale each pixel by sigmoid(BN(conv7x7([max over channels, mean over channels])))."""

    def __init__(self) -> None:
        super().__init__()
        self.spatial = SpatialConv()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = torch.cat((x.amax(dim=1, keepdim=True), x.mean(dim=1, keepdim=True)), dim=1)
        return x * torch.sigmoid(self.spatial(pooled))


class CBAM(nn.Module):
    def __init__(self, channels: int, hidden: int) -> None:
        super().__init__()
        self.ChannelGate = ChannelGate(channels, hidden)
        self.SpatialGate = SpatialGate()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.SpatialGate(self.ChannelGate(x))


class Head(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        inner = channels // 4
        self.block = nn.Sequential(
            nn.Conv2d(channels, inner, 3, padding=1, bias=False),
            nn.BatchNorm2d(inner),
            nn.ReLU(),
            nn.Dropout(0.1),
            nn.Conv2d(inner, 1, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(x)


class RDIANNetwork(nn.Module):
    """The network; ``forward`` returns the logit map (N, 1, H, W) at the input's size."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = cbl(1, 16)
        self.conv2 = cbl(16, 32, stride=2)
        self.residual_block0 = nn.Sequential(Bottleneck(32, 1))
        self.residual_block1 = nn.Sequential(Bottleneck(32, 3), Bottleneck(32, 3))
        self.residual_block2 = nn.Sequential(Bottleneck(32, 5), Bottleneck(32, 5))
        self.residual_block3 = nn.Sequential(Bottleneck(32, 7), Bottleneck(32, 7))
        self.cbam = CBAM(32, 1)
        self.conv_cat = cbl(4 * 32, 32)
        self.conv_res = cbl(16, 32, kernel=1)
        for k, offset in enumerate(DIRECTIONS, start=11):
            setattr(self, f"d{k}", Difference(offset))
        self.head = Head(32)

    def direction_attention(self, x: torch.Tensor) -> torch.Tensor:
        kernels = torch.cat([getattr(self, f"d{k}").weight for k in range(11, 19)])
        d = F.conv2d(x, kernels, padding=2)
        return torch.sigmoid((d[:, :4] * d[:, 4:]).sum(dim=1, keepdim=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f1 = self.conv1(x)
        f2 = self.conv2(f1 + f1 * self.direction_attention(x))
        branches = (self.residual_block0, self.residual_block1, self.residual_block2, self.residual_block3)
        a = self.cbam(self.conv_cat(torch.cat([b(f2) for b in branches], dim=1)))
        up = F.interpolate(a, size=x.shape[-2:], mode="bilinear", align_corners=False)
        return self.head(torch.relu(up + self.conv_res(f1)))


@dataclass(frozen=True)
class RDIANConfig(NetworkConfig):
    """RDIAN settings; defaults: the authors' test script with their IRDST weights (see `NetworkConfig`)."""

    weights: str = "rdian/best.pth"
    input_size: int | None = 512


@register("rdian")
class RDIAN(PretrainedNetwork):
    """RDIAN (single-frame, supervised), with the authors' weights trained on IRDST (real).

    Notes
    -----
    Inference follows the authors' ``test.py`` and ``utils/data.py``; where the
    suite differs it says so:

    ===================  ====================================  ========================================
    step                 authors                               here
    ===================  ====================================  ========================================
    gray input           PIL ``convert('L')``                  the loader's gray frame in [0, 1] (IRDST
                                                               frames have equal channels: identical)
    resize               PIL ``resize((512, 512), BILINEAR)``  bilinear, antialiased when downscaling
                         (the 480 crop is for training only)   (Pillow's rule), rounded to k/255
    scaling              ``ToTensor`` (/ 255), then            the same
                         ``(x - (-0.1246)) / 1.0923``
    network              eval mode (BatchNorm statistics, no   the same; the ``state_dict`` loads
                         dropout)                              strictly
    output               ``sigmoid(logit)`` at 512 x 512       the same, resized back to the frame
                                                               (bilinear)
    threshold            ``logit > 0``, i.e. sigmoid > 0.5     a metric rule, not here: the suite's
                                                               ``fixed:0.5``
    scoring size         masks resized to 512 x 512 (nearest)  the frame's own size
    ===================  ====================================  ========================================

    ``input_size = None`` runs the frame at its own size, zero-padded (after
    normalisation, as BasicIRSTD's test code pads) to a multiple of 32.

    Parameters: 216,558 trainable; the ``state_dict`` holds 217,692 elements:
    also the 8 fixed 5x5 direction kernels (200, stored as parameters that are
    not trained) and the BatchNorm running means and variances (914) and batch
    counters (20). BasicIRSTD's README lists 0.217 M.

    References
    ----------
    Sun, H., Bai, J., Yang, F., Bai, X. "Receptive-Field and Direction Induced
    Attention Network for Infrared Dim Small Target Detection With a
    Large-Scale Dataset IRDST", IEEE TGRS 61, 2023, doi:10.1109/TGRS.2023.3235150.
    Code and weights: github.com/sun11999/RDIAN (README: MIT).
    """

    config_cls = RDIANConfig
    presets: ClassVar[dict[str, MethodConfig]] = {"irdst": RDIANConfig()}
    default_preset = "irdst"
    display_name = "RDIAN"
    cite_key = "sun2023rdian"
    paper_order = 90
    category = "DL"
    citation = (
        "H. Sun, J. Bai, F. Yang and X. Bai, 'Receptive-Field and Direction Induced Attention Network for Infrared "
        "Dim Small Target Detection With a Large-Scale Dataset IRDST', IEEE Transactions on Geoscience and Remote "
        "Sensing, vol. 61, pp. 1-13, 2023."
    )
    floats_per_pixel = 256
    antialias_input = True

    @classmethod
    def build(cls) -> nn.Module:
        return RDIANNetwork()

    def normalise(self, x: torch.Tensor) -> torch.Tensor:
        return (x - MEAN) / STD

    def forward_map(self, network: nn.Module, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(network(x))


ARCHITECTURES["rdian"] = RDIAN.build
