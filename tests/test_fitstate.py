"""Resumable fits (NeurSTT, 3DSTPM): a killed fit continues where it stopped and ends bit-identical."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import torch

from istdbench.core.errors import InvalidParameterError
from istdbench.core.registry import create_method
from istdbench.core.types import Sequence
from istdbench.methods import neurstt as neurstt_module
from istdbench.methods import stpm3d as stpm3d_module
from istdbench.methods._fitstate import FitState, chunk_state, fit_key

torch.set_num_threads(1)

ITERATIONS = 6
OVERRIDES = {
    "neurstt": {"iterations": ITERATIONS},
    "3dstpm": {"iterations": ITERATIONS, "lr": 1e-2},
}
LOSS_FN = {"neurstt": (neurstt_module, "neurstt_loss"), "3dstpm": (stpm3d_module, "tensor_nuclear_norm")}


class Killed(Exception):
    """Stands in for the run being killed mid-fit."""


def _seq(t=8, h=16, w=16) -> Sequence:
    rng = np.random.default_rng(0)
    frames = 0.3 + 0.1 * rng.random((t, h, w))
    frames[:, h // 2, w // 2] = 0.9
    return Sequence(frames=frames.astype(np.float32), name="tiny")


def _kill_at(monkeypatch: pytest.MonkeyPatch, method: str, call: int) -> None:
    """Make the method's per-step loss raise on its ``call``-th evaluation (1-based)."""
    module, name = LOSS_FN[method]
    original = getattr(module, name)
    calls = {"n": 0}

    def wrapped(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == call:
            raise Killed
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapped)


@pytest.mark.parametrize("method", ["neurstt", "3dstpm"])
def test_killed_fit_resumes_to_the_same_result(method, tmp_path, monkeypatch):
    seq = _seq()
    straight = create_method(method, overrides=OVERRIDES[method]).detect(seq)

    state_dir = tmp_path / "state"
    module = LOSS_FN[method][0]
    default_state = module.chunk_state
    monkeypatch.setattr(module, "chunk_state", lambda *a: dataclasses.replace(default_state(*a), every=2))
    with monkeypatch.context() as m:
        _kill_at(m, method, call=4)  # killed during step 4: steps 1-3 done, the state of step 2 on disk
        with pytest.raises(Killed):
            create_method(method, overrides=OVERRIDES[method], state_dir=state_dir).detect(seq)
    files = list(state_dir.glob("*.pt"))
    assert len(files) == 1 and not list(state_dir.glob("*.tmp"))
    assert torch.load(files[0], weights_only=True)["steps_done"] == 2

    evaluated = {"n": 0}
    name = LOSS_FN[method][1]
    original = getattr(module, name)

    def counting(*args, **kwargs):
        evaluated["n"] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, counting)
    resumed = create_method(method, overrides=OVERRIDES[method], state_dir=state_dir).detect(seq)
    assert evaluated["n"] == ITERATIONS - 2  # only the missing steps ran
    np.testing.assert_array_equal(resumed.target, straight.target)
    np.testing.assert_array_equal(resumed.background, straight.background)
    assert resumed.diagnostics["chunks"][0]["loss"] == straight.diagnostics["chunks"][0]["loss"]

    # a finished fit is kept: running again fits nothing and returns the same maps
    evaluated["n"] = 0
    again = create_method(method, overrides=OVERRIDES[method], state_dir=state_dir).detect(seq)
    assert evaluated["n"] == 0
    np.testing.assert_array_equal(again.target, straight.target)


def test_state_is_per_chunk_and_per_setting(tmp_path):
    seq = _seq(t=6)
    create_method("3dstpm", overrides={"iterations": 2, "chunk_length": 4}, state_dir=tmp_path).detect(seq)
    assert len(list(tmp_path.glob("3dstpm-*.pt"))) == 2  # chunks [0, 4) and [2, 6)
    create_method("3dstpm", overrides={"iterations": 2, "chunk_length": 4, "seed": 1}, state_dir=tmp_path).detect(seq)
    assert len(list(tmp_path.glob("3dstpm-*.pt"))) == 4  # another seed is another fit, not a resume


def test_key_names_everything_that_must_match():
    frames = np.zeros((4, 8, 8), np.float32)
    key = fit_key("3dstpm", "abc", "cuda:0", 3, frames)
    assert key.startswith("3dstpm-abc-cuda0-seed3-4x8x8-")
    other = frames.copy()
    other[0, 0, 0] = 1e-3
    assert fit_key("3dstpm", "abc", "cuda:0", 3, other) != key
    assert chunk_state(None, "3dstpm", "abc", "cpu", 0, frames) is None


def test_unusable_state_files_are_refused_with_their_path(tmp_path):
    net = torch.nn.Linear(2, 2)
    opt = torch.optim.Adam(net.parameters())
    losses = np.zeros(5)
    state = FitState(tmp_path, "fit-a", every=1)
    assert state.restore(net, opt, losses) == 0  # nothing saved yet: a fresh start
    state.save(3, net, opt, np.arange(5.0))
    assert state.restore(net, opt, losses) == 3
    np.testing.assert_array_equal(losses[:3], [0.0, 1.0, 2.0])

    FitState(tmp_path, "fit-b").path.write_bytes(state.path.read_bytes())
    with pytest.raises(InvalidParameterError, match="belongs to another fit"):
        FitState(tmp_path, "fit-b").restore(net, opt, losses)
    with pytest.raises(InvalidParameterError, match="asks for 2"):
        state.restore(net, opt, np.zeros(2))
    state.path.write_bytes(b"not a torch file")
    with pytest.raises(InvalidParameterError, match=r"cannot read the saved fit state .*fit-a\.pt"):
        state.restore(net, opt, losses)
    with pytest.raises(InvalidParameterError, match="every"):
        FitState(tmp_path, "x", every=0)


def test_due_writes_on_the_period_and_at_the_end(tmp_path):
    state = FitState(tmp_path, "k", every=100)
    assert [n for n in range(1, 251) if state.due(n, 250)] == [100, 200, 250]


def test_cli_detect_keeps_and_reuses_state(tmp_path):
    from click.testing import CliRunner

    from istdbench.cli import main

    args = ["detect", "3dstpm", "synthetic:h=24,w=24,t=4,seed=1", "--set", "iterations=2", "--state-dir"]
    first = CliRunner().invoke(main, [*args, str(tmp_path / "state"), "-o", str(tmp_path / "a.npz")])
    assert first.exit_code == 0, first.output
    assert len(list((tmp_path / "state").glob("3dstpm-*.pt"))) == 1
    second = CliRunner().invoke(main, [*args, str(tmp_path / "state"), "-o", str(tmp_path / "b.npz")])
    assert second.exit_code == 0, second.output
    np.testing.assert_array_equal(np.load(tmp_path / "a.npz")["target"], np.load(tmp_path / "b.npz")["target"])


def test_leaderboard_run_resumes_a_killed_fit(tmp_path, monkeypatch):
    from istdbench.runners.config import parse_config
    from istdbench.runners.runner import run

    cfg = parse_config(
        {
            "methods": {"3dstpm": {"set": {"iterations": ITERATIONS, "lr": 1e-2}}},
            "sequences": [{"refs": ["synthetic:h=24,w=24,t=4,seed=0"]}],
            "protocols": ["tensoristd"],
            "threads": 1,
        }
    )
    straight = run(cfg, tmp_path / "straight").results
    expected = pd.read_csv(straight).set_index("metric")["value"]

    out = tmp_path / "out"
    default_state = stpm3d_module.chunk_state
    monkeypatch.setattr(stpm3d_module, "chunk_state", lambda *a: dataclasses.replace(default_state(*a), every=2))
    with monkeypatch.context() as m:  # the planted kill patches this process: run the jobs here, not in children
        _kill_at(m, "3dstpm", call=4)
        assert run(cfg, out, isolate=False).failed == 1  # the killed fit is a failed job; its state stays
    saved = list((out / "fit-state").glob("*/*.pt"))
    assert len(saved) == 1 and torch.load(saved[0], weights_only=True)["steps_done"] == 2

    summary = run(cfg, out, retry_failed=True, isolate=False)
    assert (summary.ran, summary.failed) == (1, 0)
    assert not (out / "fit-state").exists()  # a finished detection drops its state
    got = pd.read_csv(summary.results).set_index("metric")["value"]
    pd.testing.assert_series_equal(got, expected)

    (out / "fit-state" / "leftover").mkdir(parents=True)
    run(cfg, out, resume=False, isolate=False)
    assert not (out / "fit-state" / "leftover").exists()  # recomputing everything starts every fit afresh
