"""Bias-free SIREN factor networks with analytic input derivatives (used by NeurSTT).

A factor network maps a scalar coordinate to a rank vector through two sine
layers and a linear output, ``f(x) = W3 sin(w W2 sin(w W1 x))``. NeurSTT's
total-variation term needs ``df/dx`` at every coordinate; it is written out by
the chain rule here (as in the authors' code) instead of asking autograd for an
input gradient, so that one forward pass yields both ``f`` and ``df/dx`` and
autograd only differentiates with respect to the weights.

For the seed paper's activation study (its Table 5) the sine can be swapped for
ReLU, LeakyReLU (slope 0.01) or tanh, ``f(x) = W3 s(w W2 s(w W1 x))``, with the
same weights, initialisation, frequency ``w`` and coordinates, the derivative
``s'`` in the same chain rule. Bias-free ReLU and LeakyReLU networks are
positively homogeneous: for the positive coordinates used here ``f(x) = x f(1)``,
so every factor matrix has rank 1 and the background cannot follow the scene.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

import torch
from torch import nn

Init = Literal["kaiming", "siren", "normal"]
Activation = Literal["sine", "relu", "leaky-relu", "tanh"]
LEAKY_SLOPE = 0.01

ACTIVATIONS: dict[str, tuple[Callable[[torch.Tensor], torch.Tensor], Callable[[torch.Tensor], torch.Tensor]]] = {
    "sine": (torch.sin, torch.cos),
    "relu": (torch.relu, lambda z: (z > 0).to(z.dtype)),
    "leaky-relu": (
        lambda z: torch.nn.functional.leaky_relu(z, LEAKY_SLOPE),
        lambda z: torch.where(z > 0, torch.ones_like(z), torch.full_like(z, LEAKY_SLOPE)),
    ),
    "tanh": (torch.tanh, lambda z: 1.0 - torch.tanh(z).square()),
}
"""Activation -> (s, s'), the function and its derivative."""


class SineFactor(nn.Module):
    """One factor network: coordinates of shape (n, 1) -> factor matrix of shape (n, rank).

    Parameters
    ----------
    hidden : int
        Width ``c`` of both sine layers.
    rank : int
        Length of the output vector (the Tucker rank of this mode).
    omega : float
        Frequency ``w`` multiplying the pre-activations of both sine layers.
    activation : {"sine", "relu", "leaky-relu", "tanh"}
        The nonlinearity (``sine``: SIREN, the method's own).
    """

    def __init__(
        self,
        hidden: int,
        rank: int,
        omega: float,
        dtype: torch.dtype = torch.float32,
        activation: Activation = "sine",
    ) -> None:
        super().__init__()
        self.omega = float(omega)
        self.act, self.dact = ACTIVATIONS[activation]
        self.w1 = nn.Parameter(torch.empty(hidden, 1, dtype=dtype))
        self.w2 = nn.Parameter(torch.empty(hidden, hidden, dtype=dtype))
        self.w3 = nn.Parameter(torch.empty(rank, hidden, dtype=dtype))

    def reset_parameters(self, init: Init, generator: torch.Generator, std: float = 5.0) -> None:
        """Initialise the three matrices.

        ``kaiming``: ``kaiming_normal_(a=sqrt(5))`` on every matrix (the authors'
        code; std ``1/sqrt(3 fan_in)``). ``siren``: SIREN's uniform scheme
        (first layer ``U(+-1/fan_in)``, later ones ``U(+-sqrt(6/fan_in)/omega)``).
        ``normal``: ``N(0, std^2)`` on every matrix (the literal "std" reading).
        """
        with torch.no_grad():
            for i, w in enumerate((self.w1, self.w2, self.w3)):
                fan_in = w.shape[1]
                if init == "kaiming":
                    w.normal_(0.0, 1.0 / math.sqrt(3.0 * fan_in), generator=generator)
                elif init == "siren":
                    bound = 1.0 / fan_in if i == 0 else math.sqrt(6.0 / fan_in) / self.omega
                    w.uniform_(-bound, bound, generator=generator)
                else:
                    w.normal_(0.0, std, generator=generator)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(f, df/dx)``, both of shape (n, rank), for coordinates ``x`` of shape (n, 1)."""
        z1 = self.omega * (x @ self.w1.T)
        h1 = self.act(z1)
        dh1 = (self.omega * self.dact(z1)) * self.w1.T  # d h1 / dx, (n, c)
        z2 = self.omega * (h1 @ self.w2.T)
        slope2 = self.omega * self.dact(z2)
        h2 = self.act(z2)
        dh2 = slope2 * (dh1 @ self.w2.T)
        return h2 @ self.w3.T, dh2 @ self.w3.T

    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters())


def factor_param_count(hidden: int, rank: int) -> int:
    """Parameters of a `SineFactor` without building it: ``c + c^2 + rank c``."""
    return hidden + hidden * hidden + rank * hidden
