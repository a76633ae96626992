"""``istdbench detect`` and ``istdbench methods``: run one method on one sequence or image set; list the registry."""

from __future__ import annotations

import json
import logging

import click

from istdbench.core.config import parse_assignments
from istdbench.core.errors import InvalidParameterError
from istdbench.core.io import save_detection
from istdbench.core.registry import create_method, describe, list_methods

from . import main

log = logging.getLogger(__name__)


def parse_frame_range(text: str | None) -> tuple[int, int] | None:
    """``"a:b"`` (1-based, inclusive) -> ``(a, b)``; None stays None."""
    if text is None:
        return None
    a, sep, b = text.partition(":")
    try:
        start, stop = int(a), int(b)
    except ValueError:
        raise InvalidParameterError(f"--frames expects a:b with 1-based integers (e.g. 1:20); got {text!r}.") from None
    if not sep or start < 1 or stop < start:
        raise InvalidParameterError(f"--frames expects a:b with 1 <= a <= b; got {text!r}.")
    return start, stop


@main.command("detect")
@click.argument("method")
@click.argument("sequence", metavar="DATASET")
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False), help="Output .npz file.")
@click.option("--frames", help="1-based inclusive frame range a:b (sequences).")
@click.option("--split", help="Named split of an image set, e.g. test_NUAA-SIRST (default: the whole set).")
@click.option("--preset", help="Named preset of the method (default: the method's default).")
@click.option("--set", "assignments", multiple=True, metavar="KEY=VALUE", help="Override one config value.")
@click.option("--device", default="cpu", show_default=True, help="cpu or cuda[:N] (GPU-capable methods).")
@click.option("--data-root", type=click.Path(file_okay=False), help="Root of the named datasets ($ISTDBENCH_DATA).")
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False),
    help="Keep resumable fit state here (NeurSTT, 3DSTPM): run the same command again to continue a killed fit.",
)
def detect_cmd(method, sequence, output, frames, preset, assignments, device, data_root, state_dir, split) -> None:
    """Run METHOD on DATASET and save the raw maps.

    DATASET is a sequence (a catalog name such as daub/sequence1, a folder, or synthetic:...) or an
    image set (a catalog name such as sirst, or a dataset folder); an image set's maps, one per image,
    go into one .npz keyed by image name.
    """
    from istdbench.core.types import ImageSet
    from istdbench.datasets.catalog import load_data

    overrides = parse_assignments(assignments)
    det_method = create_method(method, preset=preset, overrides=overrides, device=device, state_dir=state_dir)
    seq = load_data(sequence, data_root, parse_frame_range(frames), split)
    if isinstance(seq, ImageSet):
        from ._imagesets import save_and_report

        log.info("running %s on %s (%d images)", method, seq.label, len(seq))
        save_and_report(output, det_method.detect(seq), seq, preset or det_method.default_preset)
        return
    log.info("running %s on %s (%d frames)", method, seq.name, len(seq))
    det = det_method.detect(seq)
    path = save_detection(output, det, seq, preset=preset or det_method.default_preset)
    click.echo(
        f"{method} on {seq.name}: {len(seq)} frames in {det.runtime_s:.2f} s "
        f"({det.seconds_per_frame:.3f} s/frame, {det.device}) -> {path}"
    )


@main.command("methods")
@click.argument("pattern", default="*")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def methods_cmd(pattern: str, as_json: bool) -> None:
    """List registered methods (optionally matching a wildcard PATTERN)."""
    rows = [describe(n) for n in list_methods(pattern)]
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    for r in rows:
        flags = ", ".join(
            f for f, on in (("GPU", r["gpu"]), ("learned", r["learned"]), ("reconstructed", r["reconstructed"])) if on
        )
        click.echo(
            f"{r['name']:<10} {r['kind']:<13} presets: {', '.join(r['presets'])} (default {r['default_preset']})"
            + (f"  [{flags}]" if flags else "")
        )
        if r["citation"]:
            click.echo(f"{'':<10} {r['citation']}")
