"""The environment a job ran in, recorded on every result row.

Runtimes and even metric values depend on the machine, the library versions
and the thread count, so each row carries them: a table pasted into a paper can
always say where its numbers came from. Values are looked up once per process
(a Dask worker on another machine reports its own).
"""

from __future__ import annotations

import functools
import platform
import subprocess
from pathlib import Path

import numpy as np

ENV_COLUMNS = ("istdbench_version", "git_commit", "python", "numpy", "torch", "cpu", "gpu", "threads")


_INHERITED: dict[str, str] = {}


def environment(threads: int) -> dict[str, str | int]:
    """Environment columns for a result row; ``threads`` is the per-job thread limit in force."""
    return {**static_environment(), "threads": int(threads)}


def static_environment() -> dict[str, str]:
    """Every environment column but ``threads``, looked up once per process (or inherited)."""
    return dict(_INHERITED) if _INHERITED else _static_environment()


def inherit_environment(values: dict[str, str]) -> None:
    """Take the columns of the process that started this one (a job's child process: same machine and code)."""
    _INHERITED.update(values)


@functools.cache
def _static_environment() -> dict[str, str]:
    import torch

    from istdbench import __version__

    return {
        "istdbench_version": __version__,
        "git_commit": git_commit(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "cpu": cpu_model(),
        "gpu": gpu_name(),
    }


def git_commit() -> str:
    """Commit of the source tree the package runs from ("" if not a git checkout); ``+dirty`` if modified."""
    root = Path(__file__).resolve().parent  # git finds the checkout from any folder inside it
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""
    return f"{head}+dirty" if head and dirty else head


def cpu_model() -> str:
    """Marketing name of the CPU (Linux ``/proc/cpuinfo``), else what `platform` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def gpu_name() -> str:
    """Name of the first CUDA device, or "" when there is none."""
    import torch

    try:
        return torch.cuda.get_device_name(0) if torch.cuda.is_available() else ""
    except RuntimeError:
        return ""
