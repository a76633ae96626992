"""``istdbench detect`` and ``istdbench methods``: run one method on one sequence or image set; list the registry."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from istdbench.core.config import parse_assignments
from istdbench.core.errors import DataError, InvalidParameterError
from istdbench.core.io import npz_path, save_detection
from istdbench.core.registry import create_method, describe, list_methods

from . import main
from ._threads import threads_option

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
@click.option("--force", is_flag=True, help="Overwrite the output file if it exists.")
@threads_option
def detect_cmd(
    method, sequence, output, frames, preset, assignments, device, data_root, state_dir, split, force, threads
) -> None:
    """Run METHOD on DATASET and save the raw maps.

    DATASET is a sequence (a catalog name such as daub/sequence1, a folder, or synthetic:...) or an
    image set (a catalog name such as sirst, or a dataset folder); an image set's maps, one per image,
    go into one .npz keyed by image name. An existing output file is kept unless --force.
    """
    from istdbench.core.types import ImageSet
    from istdbench.datasets.catalog import load_data
    from istdbench.runners.execute import thread_limit

    target = check_output(output, force)
    overrides = parse_assignments(assignments)
    det_method = create_method(method, preset=preset, overrides=overrides, device=device, state_dir=state_dir)
    seq = load_data(sequence, data_root, parse_frame_range(frames), split)
    if isinstance(seq, ImageSet):
        from ._imagesets import save_and_report

        log.info("running %s on %s (%d images)", method, seq.label, len(seq))
        with thread_limit(threads):
            det = det_method.detect(seq)
        _saving(target, lambda: save_and_report(output, det, seq, preset or det_method.default_preset, threads))
        return
    log.info("running %s on %s (%d frames)", method, seq.name, len(seq))
    with thread_limit(threads):
        det = det_method.detect(seq)
    chosen = preset or det_method.default_preset
    path = _saving(target, lambda: save_detection(output, det, seq, preset=chosen, threads=threads))
    click.echo(
        f"{method} on {seq.name}: {len(seq)} frames in {det.runtime_s:.2f} s "
        f"({det.seconds_per_frame:.3f} s/frame, {det.device}) -> {path}"
    )


def check_output(output: str, force: bool) -> Path:
    """The .npz path ``detect`` will write, checked before any work: not there (or ``force``), folder writable."""
    path = npz_path(output)
    if path.is_dir():
        raise InvalidParameterError(f"-o {str(path)!r} is a folder; give a file name such as maps.npz.")
    if path.exists() and not force:
        raise InvalidParameterError(f"{path} exists; give another -o or --force to overwrite it.")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise InvalidParameterError(f"cannot write {path}: folder {str(folder)!r} does not exist.")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InvalidParameterError(f"cannot write {path}: folder {str(folder)!r} is not writable.")
    return path


def _saving(path: Path, save: Callable[[], Any]) -> Any:
    """Run ``save``; a failed write (disk full, permissions) is one line naming the file."""
    try:
        return save()
    except OSError as exc:
        raise DataError(f"cannot write {path}: {exc.strerror or exc}. Nothing was written there.") from None


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
