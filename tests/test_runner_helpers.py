"""Helpers of the runner tests: tiny configs and test-only methods (registered on request, never on import).

The methods live in this importable module so that a subprocess running the
CLI and the test process register the very same classes (same code version,
so the same job keys).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from istdbench.core.config import MethodConfig
from istdbench.core.method import SingleFrameMethod
from istdbench.core.registry import _REGISTRY, register

TINY = ("synthetic:h=24,w=24,t=4,seed=0", "synthetic:h=24,w=32,t=3,seed=1")


@dataclass(frozen=True)
class SleepyConfig(MethodConfig):
    """Seconds to sleep per frame, so that a run lasts long enough to be killed mid-way."""

    delay: float = 0.1


class Sleepy(SingleFrameMethod):
    """Returns the frame itself after a pause (test-only)."""

    config_cls = SleepyConfig
    presets: ClassVar[dict[str, MethodConfig]] = {"default": SleepyConfig()}

    def detect_frame(self, frame: np.ndarray) -> np.ndarray:
        time.sleep(self.config.delay)
        return frame


@dataclass(frozen=True)
class BrokenConfig(MethodConfig):
    message: str = "planted failure"


class Broken(SingleFrameMethod):
    """Raises on every frame (test-only): its jobs must be recorded as failed."""

    config_cls = BrokenConfig
    presets: ClassVar[dict[str, MethodConfig]] = {"default": BrokenConfig()}

    def detect_frame(self, frame: np.ndarray) -> np.ndarray:
        raise ArithmeticError(self.config.message)


TEST_METHODS = {"sleepy": Sleepy, "broken": Broken}


def register_test_methods() -> None:
    for name, cls in TEST_METHODS.items():
        register(name)(cls)


def unregister_test_methods() -> None:
    for name in TEST_METHODS:
        _REGISTRY.pop(name, None)


def write_config(
    path: Path, methods: str, refs: tuple[str, ...] = TINY, noise: str = '["none"]', extra: str = ""
) -> Path:
    """Write a small run config (``methods`` is the TOML body of the [methods] table)."""
    ref_list = ", ".join(f'"{r}"' for r in refs)
    path.write_text(
        f'name = "tiny"\n{extra}\n[methods]\n{methods}\n\n[[sequences]]\nrefs = [{ref_list}]\nnoise = {noise}\n',
        encoding="utf-8",
    )
    return path


@dataclass(frozen=True)
class CrashConfig(MethodConfig):
    """How the method ends its process: ``segv`` (SIGSEGV, as a bug in native code) or ``exit`` (os._exit(3))."""

    how: str = "segv"


class Crash(SingleFrameMethod):
    """Ends its own process on the first frame (test-only): the run must store a failure and go on."""

    config_cls = CrashConfig
    presets: ClassVar[dict[str, MethodConfig]] = {"default": CrashConfig(), "exit": CrashConfig(how="exit")}

    def detect_frame(self, frame: np.ndarray) -> np.ndarray:
        import os
        import signal

        if self.config.how == "exit":
            os._exit(3)
        os.kill(os.getpid(), signal.SIGSEGV)
        return frame


def register_crash_method() -> None:
    register("crash")(Crash)
