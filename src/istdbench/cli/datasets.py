"""``istdbench datasets``: what a data root holds (name, frames, size, annotated targets)."""

from __future__ import annotations

import json
from dataclasses import asdict

import click

from . import main


@main.command("datasets")
@click.option("--data-root", type=click.Path(file_okay=False), help="Root of the named datasets ($ISTDBENCH_DATA).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def datasets_cmd(data_root: str | None, as_json: bool) -> None:
    """List the clips under the data root; each name works as a SEQUENCE argument (e.g. daub/sequence1).

    Synthetic sequences need no data root: use synthetic:h=64,w=64,t=20,seed=0 (keys: h, w, t, seed,
    targets, scr, clutter=cloud|ground|mixed, size_min, size_max, speed, drift, sensor, distractors).
    """
    from istdbench.datasets.catalog import discover, resolve_data_root, summarize

    root = resolve_data_root(data_root)
    rows = [summarize(layout) for layout in discover(root)]
    if as_json:
        click.echo(json.dumps([asdict(r) for r in rows], indent=2))
        return
    if not rows:
        click.echo(f"no clips under {root} (expected <group>/<clip>/ frame folders).")
        return
    width = max(len("name"), *(len(r.name) for r in rows))
    click.echo(f"{'name':<{width}}  {'frames':>6}  {'size (WxH)':>10}  {'targets':>7}  annotation")
    for r in rows:
        targets = "-" if r.targets is None else str(r.targets)
        size = f"{r.width}x{r.height}"
        click.echo(f"{r.name:<{width}}  {r.frames:>6}  {size:>10}  {targets:>7}  {r.annotation}")
    click.echo(f"{len(rows)} clips under {root}")
