"""The ``istdbench`` command line: a click group; each subcommand is a module of this package.

Errors the suite raises on purpose (bad input, unknown names) are shown as one
clear line and exit status 2, never as a traceback.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import sys

import click

from istdbench.core.errors import IstdbenchError


class _Group(click.Group):
    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except IstdbenchError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)


@click.group(cls=_Group)
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
@click.version_option(package_name="istdbench")
def main(verbose: int) -> None:
    """Benchmark suite for infrared small target detection on image sequences."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


def _load_commands() -> None:
    """Import every public module of this package: each adds its subcommand to `main`."""
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")


_load_commands()
