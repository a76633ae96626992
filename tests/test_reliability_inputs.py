"""Bad input is one line naming the file and the problem (exit 2); ``evaluate`` checks what it scores.

Covers ``evaluate`` against the wrong sequence (``--force``), its ``frames`` and PNG maps, damaged npz
files, ``detect -o`` (overwrite, unwritable, full disk), ``datasets`` with a bad clip, ``on_bad_data``,
output modes under the umask, an empty folder named like a clip and ``--threads`` in the outputs.
"""

from __future__ import annotations

import errno
import json
import os
import stat

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from istdbench.cli import main
from istdbench.core.errors import DataError, InvalidParameterError
from istdbench.core.io import atomic_write_bytes
from istdbench.runners.config import parse_config
from istdbench.runners.jobs import plan_jobs

SEQ1 = "synthetic:h=20,w=20,t=3,seed=0"
SEQ2 = "synthetic:h=20,w=20,t=3,seed=1"


def _cli(*args: str):
    return CliRunner().invoke(main, list(args))


def _one_line_error(result, *parts: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "Aborted" not in result.output
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.output
    for part in parts:
        assert part in lines[0], result.output


@pytest.fixture(scope="module")
def maps1(tmp_path_factory):
    path = tmp_path_factory.mktemp("maps") / "m1.npz"
    result = _cli("detect", "tophat", SEQ1, "-o", str(path), "--threads", "1")
    assert result.exit_code == 0, result.output
    return path


def test_detect_records_threads_and_refuses_to_overwrite(maps1):
    with np.load(maps1) as z:
        assert json.loads(str(z["meta"]))["threads"] == 1
    before = maps1.stat().st_mtime_ns
    _one_line_error(_cli("detect", "tophat", SEQ1, "-o", str(maps1)), str(maps1), "exists", "--force")
    assert maps1.stat().st_mtime_ns == before
    assert _cli("detect", "tophat", SEQ1, "-o", str(maps1), "--force").exit_code == 0


def test_evaluate_refuses_maps_of_another_sequence(maps1):
    _one_line_error(_cli("evaluate", str(maps1), SEQ2), str(maps1), "seed=0", "seed=1", "--force")
    forced = _cli("evaluate", str(maps1), SEQ2, "--force", "--json")
    assert forced.exit_code == 0, forced.output
    out = json.loads(forced.output)
    assert "scored anyway (--force)" in out["warning"] and out["threads"] == 1
    text = _cli("evaluate", str(maps1), SEQ2, "--force")
    assert text.output.startswith("warning: ") and "1 thread(s)" in text.output
    same = json.loads(_cli("evaluate", str(maps1), SEQ1, "--json", "--threads", "2").output)
    assert "warning" not in same and same["threads"] == 2


def test_evaluate_refuses_changed_data(tmp_path, maps1):
    with np.load(maps1) as z:
        arrays = dict(z)
    meta = json.loads(str(arrays["meta"]))
    arrays["meta"] = np.asarray(json.dumps({**meta, "data_hash": "0123456789abcdef"}))
    np.savez(tmp_path / "changed.npz", **arrays)
    _one_line_error(_cli("evaluate", str(tmp_path / "changed.npz"), SEQ1), "hash 0123456789abcdef", "changed since")


def test_evaluate_checks_a_run_job_folder_by_its_job_json(tmp_path):
    from istdbench.runners.runner import run

    cfg = parse_config({"methods": ["tophat"], "sequences": [{"refs": [SEQ1]}], "threads": 1})
    run(cfg, tmp_path / "out", isolate=False, progress=False)
    (maps,) = (tmp_path / "out" / "jobs").glob("*/maps.npz")
    assert _cli("evaluate", str(maps), SEQ1).exit_code == 0
    _one_line_error(_cli("evaluate", str(maps), SEQ2), "holds maps of sequence")


@pytest.mark.parametrize(
    ("frames", "problem"),
    [([1, 1, 2], "more than once"), ([1.0, 2.5, 3.0], "whole numbers"), ([0, 1, 2], "1-based"), (["a"] * 3, "dtype")],
)
def test_evaluate_frames_must_be_distinct_integers(tmp_path, frames, problem):
    path = tmp_path / "m.npz"
    np.savez(path, target=np.zeros((3, 20, 20), np.float32), frames=np.array(frames))
    _one_line_error(_cli("evaluate", str(path), SEQ1), str(path), problem)


def test_whole_float_frames_are_accepted(tmp_path):
    path = tmp_path / "m.npz"
    np.savez(path, target=np.zeros((2, 20, 20), np.float32), frames=np.array([2.0, 3.0]))
    result = _cli("evaluate", str(path), SEQ1, "--json")
    assert result.exit_code == 0 and json.loads(result.output)["n_frames"] == 2


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "is empty (0 bytes)"),
        (b"frame,value\n1,0.5\n", "not an .npz (zip) file"),
        (b"\x93NUMPY\x01\x00", "an .npy array"),
        ("truncated", "truncated or corrupt"),
    ],
)
def test_damaged_npz_is_one_line(tmp_path, content, problem):
    path = tmp_path / "m.npz"
    if content == "truncated":
        np.savez_compressed(path, target=np.random.default_rng(0).random((3, 20, 20)))
        path.write_bytes(path.read_bytes()[:200])
    else:
        path.write_bytes(content)
    _one_line_error(_cli("evaluate", str(path), SEQ1), str(path), problem)


def test_empty_target_is_one_line(tmp_path):
    path = tmp_path / "m.npz"
    np.savez(path, target=np.zeros((0, 20, 20), np.float32))
    _one_line_error(_cli("evaluate", str(path), SEQ1), str(path), "non-empty (T, H, W)", "(0, 20, 20)")


def test_report_with_an_empty_curves_file(tmp_path):
    from istdbench.runners.runner import run

    cfg = parse_config({"methods": ["tophat"], "sequences": [{"refs": [SEQ1]}], "threads": 1})
    run(cfg, tmp_path / "out", isolate=False, progress=False)
    (curves,) = (tmp_path / "out" / "jobs").glob("*/curves.npz")
    curves.write_bytes(b"")
    result = _cli("report", str(tmp_path / "out"))
    assert result.exit_code == 0 and "Aborted" not in result.output, result.output


def test_png_maps_are_read_by_bit_depth(tmp_path):
    from istdbench.cli.evaluate import read_png_maps

    Image.fromarray(np.full((4, 5), 65535 // 2, np.uint16)).save(tmp_path / "0001.png")
    Image.fromarray(np.full((4, 5), 51, np.uint8)).save(tmp_path / "0002.png")
    maps, numbers = read_png_maps(tmp_path)
    np.testing.assert_allclose(maps[0], (65535 // 2) / 65535, rtol=1e-12)  # not saturated at 255
    np.testing.assert_allclose(maps[1], 0.2, rtol=1e-12)
    np.testing.assert_array_equal(numbers, [1, 2])


def test_corrupt_png_map_is_one_line(tmp_path):
    (tmp_path / "0001.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    _one_line_error(_cli("evaluate", "--maps-dir", str(tmp_path), SEQ1), "0001.png", "cannot read image")


def test_detect_to_an_unwritable_folder_is_one_line(tmp_path):
    _one_line_error(_cli("detect", "tophat", SEQ1, "-o", str(tmp_path / "no" / "m.npz")), "does not exist")
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("running as a user who can write anywhere")
        _one_line_error(_cli("detect", "tophat", SEQ1, "-o", str(folder / "m.npz")), "not writable")
    finally:
        folder.chmod(0o700)


def test_detect_on_a_full_disk_is_one_line(tmp_path, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("istdbench.core.io.os.replace", full)
    _one_line_error(_cli("detect", "tophat", SEQ1, "-o", str(tmp_path / "m.npz")), "No space left on device")
    assert not list(tmp_path.iterdir())  # no partial file left


def test_outputs_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write_bytes(tmp_path / "a.bin", lambda fh: fh.write(b"x"))
        os.umask(0o077)
        atomic_write_bytes(tmp_path / "b.bin", lambda fh: fh.write(b"x"))
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.bin").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "b.bin").stat().st_mode) == 0o600


def _root_with_a_bad_clip(tmp_path):
    root = tmp_path / "root"
    for clip in ("good", "bad"):
        (root / "grp" / clip).mkdir(parents=True)
        for k in range(1, 4):
            Image.fromarray(np.full((20, 20), 10 * k, np.uint8)).save(root / "grp" / clip / f"{k}.png")
    (root / "grp" / "anno").mkdir()
    (root / "grp" / "anno" / "good.txt").write_text("5\t5\n6\t6\n7\t7\n")
    (root / "grp" / "anno" / "bad.txt").write_text("five\tfive\n")
    (root / "grp" / "empty").mkdir()
    return root


def test_datasets_lists_good_and_bad_clips(tmp_path):
    root = _root_with_a_bad_clip(tmp_path)
    result = _cli("datasets", "--data-root", str(root))
    assert result.exit_code == 0, result.output
    assert "grp/good" in result.output and "1 clips under" in result.output
    assert "1 unreadable" in result.output and "clip grp/bad: " in result.output
    listed = json.loads(_cli("datasets", "--data-root", str(root), "--json").output)
    assert [(e["name"], "error" in e) for e in listed] == [("grp/good", False), ("grp/bad", True)]


def test_bad_clip_in_a_run_config_can_be_skipped(tmp_path):
    root = _root_with_a_bad_clip(tmp_path)
    data = {"methods": ["tophat"], "sequences": [{"refs": ["grp/good", "grp/bad"]}]}
    with pytest.raises(DataError, match='set on_bad_data = "skip"'):
        plan_jobs(parse_config(data), data_root=root)
    skipped: dict[str, str] = {}
    jobs = plan_jobs(parse_config({**data, "on_bad_data": "skip"}), data_root=root, skipped=skipped)
    assert {j.sequence for j in jobs} == {"grp/good"} and list(skipped) == ["grp/bad"]
    with pytest.raises(DataError, match="no sequence could be loaded"):
        plan_jobs(parse_config({**data, "sequences": [{"refs": ["grp/bad"]}], "on_bad_data": "skip"}), data_root=root)
    with pytest.raises(InvalidParameterError, match="must be one of"):
        parse_config({**data, "on_bad_data": "ignore"})


def test_empty_folder_named_as_a_clip(tmp_path):
    root = _root_with_a_bad_clip(tmp_path)
    _one_line_error(
        _cli("detect", "tophat", "grp/empty", "-o", str(tmp_path / "m.npz"), "--data-root", str(root)),
        "holds no frames",
    )
