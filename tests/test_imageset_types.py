"""`ImageSet` and `ImageSetDetection`: validation, immutability, and how methods accept an image set."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest

import istdbench
from istdbench import DataError, InvalidParameterError, MethodConfig, RawOutput, SingleFrameMethod, UnknownNameError
from istdbench.core.method import Method
from istdbench.core.types import ImageSet, ImageSetDetection, Sequence


def _set(**kwargs) -> ImageSet:
    rng = np.random.default_rng(0)
    images = [rng.random((6, 9)), rng.random((4, 5)), rng.random((7, 3))]
    masks = [np.zeros((6, 9), np.uint8), np.full((4, 5), 255, np.uint8), np.eye(7, 3)]
    return ImageSet(**{"images": images, "names": ["a", "b", "c"], "masks": masks, "name": "toy", **kwargs})


def test_image_set_holds_read_only_float32_images_and_bool_masks() -> None:
    s = _set(split="test")
    assert len(s) == 3 and s.shapes == ((6, 9), (4, 5), (7, 3)) and s.n_pixels == 54 + 20 + 21
    assert all(img.dtype == np.float32 and not img.flags.writeable for img in s.images)
    assert all(m.dtype == bool and not m.flags.writeable for m in s.masks)
    assert s.masks[1].all() and s.masks[2].sum() == 3  # nonzero is target, whatever the value
    assert s.label == "toy/test" and _set().label == "toy/all"
    assert s.index("b") == 1


def test_image_set_copies_writable_input_and_keeps_owned_read_only_arrays() -> None:
    img = np.full((3, 3), 0.5, np.float32)
    s = ImageSet(images=[img], names=["x"])
    img[0, 0] = 0.0
    assert s.images[0][0, 0] == np.float32(0.5)  # the caller's later edit does not reach the set
    frozen = np.full((3, 3), 0.25, np.float32)
    frozen.setflags(write=False)
    assert ImageSet(images=[frozen], names=["x"]).images[0] is frozen


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"names": ["a", "a", "c"]}, "duplicate image name 'a'"),
        ({"names": ["a", "b"]}, "2 names for 3 images"),
        ({"names": ["a", "", "c"]}, "non-empty strings"),
        ({"images": []}, "is empty"),
        ({"masks": [np.zeros((6, 9)), np.zeros((5, 4)), np.zeros((7, 3))]}, r"mask of image 'b' has shape \(5, 4\)"),
        ({"masks": [np.zeros((6, 9))]}, "1 masks for 3 images"),
        ({"images": [np.zeros((6, 9)), np.full((4, 5), 2.0), np.zeros((7, 3))]}, r"image 'b' must be scaled"),
        ({"images": [np.zeros((6, 9)), np.zeros((4, 5)), np.full((7, 3), np.nan)]}, "image 'c' contains NaN"),
        ({"images": [np.zeros((6, 9)), np.zeros((4, 5, 1)), np.zeros((7, 3))]}, r"image 'b' must have shape \(H, W\)"),
    ],
)
def test_image_set_rejects_bad_input(kwargs, match) -> None:
    with pytest.raises(DataError, match=match):
        _set(**kwargs)


def test_unknown_image_name_suggests_the_closest() -> None:
    with pytest.raises(UnknownNameError, match=r"has no image 'bb' \(3 images\)\. Did you mean 'b'"):
        _set().index("bb")


def test_subset_keeps_the_given_order() -> None:
    sub = _set().subset(["c", "a"], split="mine")
    assert sub.names == ("c", "a") and sub.shapes == ((7, 3), (6, 9)) and sub.split == "mine"
    assert sub.masks[0].sum() == 3


def test_image_set_detection_checks_each_map() -> None:
    det = ImageSetDetection(targets=[np.zeros((2, 3)), np.ones((4, 1))], names=["p", "q"], runtime_s=2.0)
    assert det.maps()["q"].shape == (4, 1) and det.seconds_per_frame == 1.0 and len(det) == 2
    with pytest.raises(DataError, match="target map of image 'q' contains NaN"):
        ImageSetDetection(targets=[np.zeros((2, 3)), np.full((4, 1), np.inf)], names=["p", "q"])
    with pytest.raises(DataError, match="2 target maps for 1 image names"):
        ImageSetDetection(targets=[np.zeros((2, 3)), np.ones((4, 1))], names=["p"])
    with pytest.raises(DataError, match="background of image 'p' has shape"):
        ImageSetDetection(targets=[np.zeros((2, 3))], names=["p"], backgrounds=[np.zeros((3, 2))])


# --- methods on image sets -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Cfg(MethodConfig):
    pass


class _Batched(SingleFrameMethod):
    """Counts its batches; the map is the image plus its size, so each map is checked to belong to its image."""

    config_cls = _Cfg
    presets: ClassVar[dict] = {"default": _Cfg()}
    image_batch = 2
    batches: ClassVar[list[int]] = []

    def detect_frame(self, frame):  # pragma: no cover - detect_batch is overridden
        raise AssertionError

    def detect_batch(self, frames):
        type(self).batches.append(len(frames))
        assert all(f.dtype == np.float64 for f in frames)
        return [RawOutput(target=f + f.size, background=f, diagnostics={"size": f.size}) for f in frames]


class _StackOnly(Method):
    """A single-frame method written against stacks (``_detect``): each image becomes a one-frame stack."""

    config_cls = _Cfg
    presets: ClassVar[dict] = {"default": _Cfg()}

    def _detect(self, frames):
        return RawOutput(target=frames * 2)


def test_single_frame_method_detects_each_image_through_detect_batch() -> None:
    s = _set()
    _Batched.batches = []
    det = _Batched().detect(s)
    assert isinstance(det, ImageSetDetection) and det.names == s.names
    assert _Batched.batches == [2, 1]  # image_batch images per call, in the set's order
    for img, target, bg in zip(s.images, det.targets, det.backgrounds, strict=True):
        np.testing.assert_allclose(target, img + img.size, rtol=0, atol=1e-4)
        np.testing.assert_array_equal(bg, img)
    assert det.diagnostics == {"size": [54, 20, 21]}
    # the same method on a sequence still returns the (T, H, W) Detection
    seq_det = _Batched().detect(Sequence(np.zeros((2, 4, 4))))
    assert seq_det.target.shape == (2, 4, 4)


def test_stack_method_of_single_frame_kind_accepts_an_image_set() -> None:
    det = _StackOnly().detect(_set())
    np.testing.assert_allclose(det.targets[1], 2 * _set().images[1], rtol=0, atol=0)


def test_registered_single_frame_methods_accept_an_image_set() -> None:
    s = _set()
    for name in ("tophat", "mpcm"):
        det = istdbench.create_method(name).detect(s)
        assert [t.shape for t in det.targets] == list(s.shapes)
        one = istdbench.create_method(name).detect(Sequence(s.images[0][None]))
        np.testing.assert_array_equal(det.targets[0], one.target[0])  # image i is scored as a one-frame sequence


@pytest.mark.parametrize("name", ["stt", "neurstt", "3dstpm"])
def test_multi_frame_methods_refuse_an_image_set(name) -> None:
    with pytest.raises(InvalidParameterError, match=f"Method '{name}' is multi-frame: it needs a .* Sequence"):
        istdbench.create_method(name).detect(_set())


def test_detect_rejects_other_types() -> None:
    with pytest.raises(InvalidParameterError, match="expects an istdbench Sequence or ImageSet; got list"):
        istdbench.create_method("tophat").detect([np.zeros((3, 3))])
