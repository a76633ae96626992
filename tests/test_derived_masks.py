"""Derived masks: the rule on hand-checkable blobs, its spec, its agreement with true masks, evaluate --gt."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from imageset_fixtures import make_sirst_v1

from istdbench.cli import main
from istdbench.core.errors import InvalidParameterError
from istdbench.core.io import save_detection
from istdbench.core.registry import create_method
from istdbench.core.types import Sequence
from istdbench.datasets.catalog import load_image_set
from istdbench.datasets.derived import (
    DerivedRule,
    agreement,
    canonical_gt,
    derive_mask,
    parse_derived,
    target_region,
    with_derived_masks,
)


def _square_image() -> np.ndarray:
    img = np.full((21, 21), 0.2)
    img[9:12, 8:11] = 0.8  # a 3x3 target; rows 9-11, cols 8-10
    return img


def test_square_target_is_grown_exactly():
    rule = DerivedRule(peak_fraction=0.5, radius=5, ring=2, peak_radius=1)
    region = target_region(_square_image(), np.array([10.0, 9.0]), rule)
    expected = np.zeros((21, 21), bool)
    expected[9:12, 8:11] = True
    np.testing.assert_array_equal(region, expected)
    # a point one pixel off the target still finds its peak (peak radius 1)
    np.testing.assert_array_equal(target_region(_square_image(), np.array([12.4, 11.0]), rule), expected)


def test_cut_is_the_fraction_between_background_and_peak():
    # a 1-D ramp of brightness across a 5-px target on background 0.1: values 0.3, 0.5, 1.0, 0.5, 0.3
    img = np.full((15, 15), 0.1)
    img[7, 5:10] = [0.3, 0.5, 1.0, 0.5, 0.3]
    point = np.array([7.0, 7.0])
    # cut = 0.1 + f (1.0 - 0.1): f = 0.5 -> 0.55 keeps the peak only; f = 0.4 -> 0.46 keeps 0.5 too; 0.2 -> all 5
    for fraction, size in ((0.5, 1), (0.4, 3), (0.2, 5)):
        assert target_region(img, point, DerivedRule(peak_fraction=fraction, radius=4)).sum() == size


def test_window_caps_the_size_and_flat_images_give_one_pixel():
    plateau = np.full((40, 40), 0.1)
    plateau[16:25, 16:25] = 0.9  # 9x9, larger than the 7x7 window; the ring (distance 4-5) is mostly background
    rule = DerivedRule(radius=3, ring=2, peak_radius=0, background=50)
    region = target_region(plateau, np.array([20.0, 20.0]), rule)
    assert region.sum() == 49 and region[17:24, 17:24].all()  # capped at the window
    plateau[5:35, 5:35] = 0.9  # a bright area wider than window and ring is background: no contrast
    assert target_region(plateau, np.array([20.0, 20.0]), rule).sum() == 1
    flat = target_region(np.full((10, 10), 0.5), np.array([4.0, 6.0]), DerivedRule())
    assert flat.sum() == 1 and flat[4, 6]


def test_region_is_the_component_of_the_peak_with_holes_filled():
    img = np.full((21, 21), 0.1)
    img[8:13, 8:13] = 0.9
    img[10, 10] = 0.1  # a hole
    img[10, 15] = 0.9  # a bright pixel apart from the target, inside the window
    region = target_region(img, np.array([9.0, 9.0]), DerivedRule(radius=6))
    assert region.sum() == 25 and region[10, 10] and not region[10, 15]


def test_points_near_the_border_and_unions():
    img = np.full((12, 12), 0.1)
    img[0:2, 0:2] = 0.9
    img[9:11, 9:11] = 0.9
    mask = derive_mask(img, np.array([[0.5, 0.5], [9.5, 9.5]]), DerivedRule(radius=3))
    assert mask.sum() == 8 and mask[0, 0] and mask[10, 10]


def test_spec_round_trip_and_errors():
    rule = parse_derived("derived:peak-fraction=0.3,radius=6")
    assert rule == DerivedRule(peak_fraction=0.3, radius=6)
    assert rule.spec == "derived:peak-fraction=0.3,radius=6,ring=1,peak-radius=1,smooth=0,background=70"
    assert parse_derived(rule.spec) == rule and parse_derived("derived") == DerivedRule()
    assert canonical_gt("") == "" and canonical_gt("data") == "" and canonical_gt("derived") == DerivedRule().spec
    with pytest.raises(InvalidParameterError, match="ground truth 'masks:x' is unknown"):
        parse_derived("masks:x")
    with pytest.raises(InvalidParameterError, match="Did you mean 'radius'"):
        parse_derived("derived:radiuss=3")
    with pytest.raises(InvalidParameterError, match="'peak-fraction' parameter of derived masks must be"):
        parse_derived("derived:peak-fraction=1.5")
    with pytest.raises(InvalidParameterError, match="given twice"):
        parse_derived("derived:radius=3,radius=4")


def test_derived_masks_replace_the_truth_of_sequences_and_image_sets(tmp_path):
    frames = np.stack([_square_image()] * 2).astype(np.float32)
    seq = Sequence(frames=frames, name="toy/a", points=[np.array([[10.0, 9.0]])] * 2)
    derived = with_derived_masks(seq, "derived:radius=5")
    assert derived.masks is not None and derived.masks.sum() == 18
    np.testing.assert_array_equal(derived.points[1], seq.points[1])  # the points are kept
    make_sirst_v1(tmp_path / "sirst")
    images = load_image_set("sirst", tmp_path, "test_NUAA-SIRST")
    score = agreement(images, "derived:radius=4,peak-fraction=0.5")
    assert score.n_targets == 2 and score.pooled_iou == 1.0 and score.mean_target_iou == 1.0


def test_evaluate_gt_names_the_rule(tmp_path):
    frames = np.stack([_square_image()] * 3).astype(np.float32)
    seq = Sequence(frames=frames, name="toy", points=[np.array([[10.0, 9.0]])] * 3)
    det = create_method("tophat").detect(seq)
    maps = save_detection(tmp_path / "m.npz", det, seq)
    folder = tmp_path / "toy" / "clip"
    folder.mkdir(parents=True)
    from PIL import Image

    for t, f in enumerate(frames, start=1):
        Image.fromarray(np.round(f * 255).astype(np.uint8)).save(folder / f"{t:04d}.png")
    (tmp_path / "toy" / "clip.txt").write_text("10\t11\n10\t11\n10\t11\n")  # 1-based col, row of (row 10, col 9)
    run = CliRunner().invoke(
        main,
        ["evaluate", str(maps), str(folder), "--gt", "derived:radius=5", "--json", "--force"],  # maps of the array
        catch_exceptions=False,
    )
    assert run.exit_code == 0, run.output
    out = json.loads(run.output)
    assert out["gt"] == parse_derived("derived:radius=5").spec
    assert "IoU" in out and "F1" in out  # pixel metrics exist only with masks: these are the derived ones
    plain = json.loads(CliRunner().invoke(main, ["evaluate", str(maps), str(folder), "--json", "--force"]).output)
    assert plain["gt"] == "" and "IoU" not in plain
    bad = CliRunner().invoke(main, ["evaluate", str(maps), str(folder), "--gt", "derived:size=3"])
    assert bad.exit_code == 2 and "Unknown parameter of derived masks 'size'" in bad.output
