"""``istdbench datasets``: what a data root holds (clips: frames, size, targets; image sets: layout, splits)."""

from __future__ import annotations

import json
from dataclasses import asdict

import click

from istdbench.core.errors import IstdbenchError

from . import main


@main.command("datasets")
@click.option("--data-root", type=click.Path(file_okay=False), help="Root of the named datasets ($ISTDBENCH_DATA).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def datasets_cmd(data_root: str | None, as_json: bool) -> None:
    """List the clips and image sets under the data root; each name works as a DATASET argument.

    Clips (e.g. daub/sequence1) are sequences; image sets (e.g. sirst) are single images with masks,
    chosen with --split NAME. Synthetic sequences need no data root: use synthetic:h=64,w=64,t=20,seed=0
    (keys: h, w, t, seed, targets, scr, clutter=cloud|ground|mixed, size_min, size_max, speed, drift,
    sensor, distractors).
    """
    from istdbench.datasets.catalog import (
        discover,
        image_set_layouts,
        resolve_data_root,
        summarize,
        summarize_image_set,
    )

    root = resolve_data_root(data_root)
    rows, sets, bad = [], [], []  # bad: (kind, name, error) of entries that cannot be read
    for layout in discover(root):
        try:
            rows.append(summarize(layout))
        except IstdbenchError as exc:
            bad.append(("clip", layout.name, str(exc)))
    for name, set_layout in image_set_layouts(root).items():
        try:
            sets.append(summarize_image_set(set_layout))
        except (IstdbenchError, OSError) as exc:
            bad.append(("image set", name, str(exc)))
    if as_json:
        out = [{"kind": "clip", **asdict(r)} for r in rows] + [{"kind": "image set", **asdict(s)} for s in sets]
        out += [{"kind": kind, "name": name, "error": error} for kind, name, error in bad]
        click.echo(json.dumps(out, indent=2))
        return
    _print(root, rows, sets)
    if bad:
        click.echo(f'\n{len(bad)} unreadable (fix them, or on_bad_data = "skip" in a run config leaves them out):')
        for kind, name, error in bad:
            click.echo(f"  {kind} {name}: {error}")


def _print(root, rows, sets) -> None:
    if not rows and not sets:
        click.echo(f"no clips or image sets under {root} (expected <group>/<clip>/ frame folders or dataset folders).")
        return
    if rows:
        width = max(len("name"), *(len(r.name) for r in rows))
        click.echo(f"{'name':<{width}}  {'frames':>6}  {'size (WxH)':>10}  {'targets':>7}  annotation")
        for r in rows:
            targets = "-" if r.targets is None else str(r.targets)
            size = f"{r.width}x{r.height}"
            click.echo(f"{r.name:<{width}}  {r.frames:>6}  {size:>10}  {targets:>7}  {r.annotation}")
        click.echo(f"{len(rows)} clips under {root}")
    if sets:
        if rows:
            click.echo("")
        width = max(len("image set"), *(len(s.name) for s in sets))
        click.echo(f"{'image set':<{width}}  {'images':>6}  {'layout':<10}  masks  splits (images)")
        for s in sets:
            splits = ", ".join(f"{name} ({n})" for name, n in s.splits.items()) or "-"
            if s.sequences is not None:
                splits += f"; {s.sequences} sequence{'' if s.sequences == 1 else 's'} ({s.name}/<seq>)"
            click.echo(f"{s.name:<{width}}  {s.images:>6}  {s.layout:<10}  {'yes' if s.masks else 'no':<5}  {splits}")
        click.echo(f"{len(sets)} image sets under {root}")
