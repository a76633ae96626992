"""``--threads N`` of the computing commands (``detect``, ``evaluate``, ``report``): one definition."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from istdbench.runners.parallel import COMMAND_THREADS


def threads_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--threads N`` (BLAS, OpenMP and torch threads; default 1, as the shipped run configs)."""
    return click.option(
        "--threads",
        type=click.IntRange(min=1),
        default=COMMAND_THREADS,
        show_default=True,
        help="BLAS/OpenMP/torch threads (as 'threads' of a run config); more help only on an idle machine.",
    )(command)
