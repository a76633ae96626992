"""A third-party method in one file: what a user writes to add a method through an entry point."""

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from istdbench import MethodConfig, SingleFrameMethod


@dataclass(frozen=True)
class BrightestConfig(MethodConfig):
    """Scale applied to the frame."""

    gain: float = 1.0

    def validate(self) -> None:
        self._require("gain", self.gain > 0, "a float > 0")


class Brightest(SingleFrameMethod):
    """Target map = gain * frame (a toy baseline)."""

    config_cls = BrightestConfig
    presets: ClassVar[dict] = {"default": BrightestConfig()}
    citation = "Example plugin."

    def detect_frame(self, frame: np.ndarray) -> np.ndarray:
        return self.config.gain * frame
