"""The one rule for device strings, shared by methods and the runner."""

from __future__ import annotations

import re

from .errors import InvalidParameterError


def check_device(device: str) -> str:
    """``cpu`` or an available ``cuda[:N]``; anything else is a one-line error naming the device."""
    if not re.fullmatch(r"cpu|cuda(:\d+)?", device):
        raise InvalidParameterError(f"device must be 'cpu', 'cuda' or 'cuda:N'. Got {device!r}.")
    if device != "cpu":
        import torch

        if not torch.cuda.is_available():
            raise InvalidParameterError(f"device {device!r} was requested but no CUDA device is available here.")
        index = int(device.partition(":")[2] or 0)
        if index >= torch.cuda.device_count():
            raise InvalidParameterError(
                f"device {device!r} does not exist: this machine has {torch.cuda.device_count()} CUDA device(s)."
            )
    return device
