"""Point annotations: every convention to zero-based (row, col), the no-target lines, and the bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from istdbench.core.errors import DataError, InvalidParameterError
from istdbench.datasets.annotations import (
    AnnotationFormat,
    parse_points,
    points_from_masks,
    read_points,
    sniff_delimiter,
    sniff_format,
)

TAB_COLROW = AnnotationFormat(order="col,row", delimiter="tab")
COMMA_ROWCOL = AnnotationFormat(order="row,col", delimiter="comma")


def _rc(points: tuple[np.ndarray, ...]) -> list[list[list[float]]]:
    return [p.tolist() for p in points]


def test_tab_col_row_one_based() -> None:
    pts = parse_points("100\t90\n101\t90\n", TAB_COLROW, n_frames=2, shape=(256, 256))
    assert _rc(pts) == [[[89.0, 99.0]], [[89.0, 100.0]]]


def test_comma_row_col_one_based() -> None:
    pts = parse_points("356,565\n357,560", COMMA_ROWCOL, n_frames=2, shape=(512, 640))
    assert _rc(pts) == [[[355.0, 564.0]], [[356.0, 559.0]]]


def test_decimals_and_padding_spaces() -> None:
    pts = parse_points("53.98\t45.25\n105.00\t 48.00\n", TAB_COLROW, n_frames=2, shape=(200, 200))
    np.testing.assert_allclose(pts[0], [[44.25, 52.98]], rtol=0, atol=1e-12)
    np.testing.assert_allclose(pts[1], [[47.0, 104.0]], rtol=0, atol=1e-12)


def test_several_targets_per_line_and_zero_base() -> None:
    fmt = AnnotationFormat(order="col,row", delimiter="space", base=0)
    pts = parse_points("1 2  3 4\n", fmt, n_frames=1, shape=(10, 10))
    assert _rc(pts) == [[[2.0, 1.0], [4.0, 3.0]]]


@pytest.mark.parametrize("line", ["None", "", "0\t\t0", "0\t0", "   ", "none"])
def test_no_target_lines(line: str) -> None:
    pts = parse_points(f"5\t6\n{line}\n7\t8\n", TAB_COLROW, n_frames=3, shape=(20, 20))
    assert [len(p) for p in pts] == [1, 0, 1]
    assert pts[1].shape == (0, 2)


def test_zero_pair_dropped_among_targets() -> None:
    pts = parse_points("5,6,0,0\n", AnnotationFormat(delimiter="auto"), n_frames=1, shape=(20, 20))
    assert _rc(pts) == [[[5.0, 4.0]]]


def test_trailing_blank_lines_ignored_but_kept_when_they_are_frames() -> None:
    assert len(parse_points("1\t1\n2\t2\n\n\n", TAB_COLROW, n_frames=2)) == 2
    pts = parse_points("1\t1\n\n", TAB_COLROW, n_frames=2)  # second frame: an empty line = no target
    assert [len(p) for p in pts] == [1, 0]


def test_annotation_shorter_than_sequence() -> None:
    with pytest.raises(DataError, match="shorter than the sequence: 2 lines for 3 frames"):
        parse_points("1\t1\n2\t2\n", TAB_COLROW, n_frames=3, source="a.txt")


def test_annotation_longer_than_sequence() -> None:
    with pytest.raises(DataError, match="longer than the sequence: 3 lines for 2 frames"):
        parse_points("1\t1\n2\t2\n3\t3\n", TAB_COLROW, n_frames=2, source="a.txt")


def test_non_numeric_line() -> None:
    with pytest.raises(DataError, match=r"'a.txt', line 2: expected numbers, got 'x\\ty'"):
        parse_points("1\t1\nx\ty\n", TAB_COLROW, n_frames=2, source="a.txt")


def test_wrong_delimiter_is_non_numeric() -> None:
    with pytest.raises(DataError, match="line 1: expected numbers"):
        parse_points("1,1\n", TAB_COLROW, n_frames=1)


def test_odd_number_of_values() -> None:
    with pytest.raises(DataError, match=r"3 numbers .* coordinates come in pairs"):
        parse_points("1\t2\t3\n", TAB_COLROW, n_frames=1)


def test_nan_coordinate() -> None:
    with pytest.raises(DataError, match="NaN or inf coordinate"):
        parse_points("1\tnan\n", TAB_COLROW, n_frames=1)


def test_coordinates_outside_image() -> None:
    with pytest.raises(DataError, match=r"line 2: point \(row=9, col=31\) .* outside the 30x20"):
        parse_points("1\t1\n31\t9\n", TAB_COLROW, n_frames=2, shape=(20, 30), source="a.txt")


def test_format_validation() -> None:
    with pytest.raises(InvalidParameterError, match="order must be 'col,row' or 'row,col'"):
        AnnotationFormat(order="x,y")  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="delimiter must be one of"):
        AnnotationFormat(delimiter="pipe")  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="base must be 0 or 1"):
        AnnotationFormat(base=2)


def test_read_points_file(tmp_path: Path) -> None:
    path = tmp_path / "clip.txt"
    path.write_text("3,4\n", encoding="utf-8")
    assert _rc(read_points(path, COMMA_ROWCOL, 1, (10, 10))) == [[[2.0, 3.0]]]
    with pytest.raises(DataError, match="does not exist"):
        read_points(tmp_path / "missing.txt", COMMA_ROWCOL)


def test_sniff_delimiter() -> None:
    assert sniff_delimiter("1,2\n") == "comma"
    assert sniff_delimiter("1\t2\n") == "tab"
    assert sniff_delimiter("1 2\n3;4\n") == "auto"


def _frames_with_spots(rc: list[tuple[int, int]], shape: tuple[int, int]) -> np.ndarray:
    rng = np.random.default_rng(0)
    frames = 0.3 + 0.02 * rng.standard_normal((len(rc), *shape))
    for t, (r, c) in enumerate(rc):
        frames[t, r, c] = 0.9
    return frames


def test_sniff_order_by_fit_and_by_contrast() -> None:
    # non-square frames: only one order keeps the points inside
    frames = _frames_with_spots([(5, 40), (6, 41)], (20, 60))
    assert sniff_format("6,41\n7,42\n", frames).order == "row,col"
    # square frames: both fit; the bright spots decide
    frames = _frames_with_spots([(10, 30), (11, 31)], (40, 40))
    fmt = sniff_format("31\t11\n32\t12\n", frames)
    assert (fmt.order, fmt.delimiter) == ("col,row", "tab")


def test_sniff_fails_when_no_order_fits() -> None:
    frames = _frames_with_spots([(1, 1)], (10, 10))
    with pytest.raises(DataError, match="no column order puts every point inside"):
        sniff_format("50,60\n", frames)


def test_points_from_masks_uses_8_connectivity() -> None:
    m = np.zeros((1, 8, 8), bool)
    m[0, 1, 1] = m[0, 2, 2] = True  # diagonal neighbours: one component
    m[0, 5:7, 5:7] = True
    pts = points_from_masks(m)
    np.testing.assert_allclose(pts[0], [[1.5, 1.5], [5.5, 5.5]], rtol=0, atol=1e-12)


def test_unreadable_annotation_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(b"\xff\xfe\xfa 1 2\n")
    with pytest.raises(DataError, match="cannot read annotation file"):
        read_points(path, COMMA_ROWCOL)
