"""The shared loop of the chunked neural fits: fit checkpoints and the time a resumed fit reports."""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pytest
import torch

from istdbench.core.errors import InvalidParameterError
from istdbench.core.registry import create_method
from istdbench.core.types import Sequence
from istdbench.methods import neurstt as neurstt_module
from istdbench.methods import stpm3d as stpm3d_module

torch.set_num_threads(1)

OVERRIDES = {"neurstt": {"iterations": 6}, "3dstpm": {"iterations": 6, "lr": 1e-2}}
MODULES = {"neurstt": (neurstt_module, "neurstt_loss"), "3dstpm": (stpm3d_module, "tensor_nuclear_norm")}


class Killed(Exception):
    """Stands in for the run being killed mid-fit."""


def _seq(t: int = 8, h: int = 16, w: int = 16) -> Sequence:
    rng = np.random.default_rng(0)
    frames = 0.3 + 0.1 * rng.random((t, h, w))
    frames[:, h // 2, w // 2] = 0.9
    return Sequence(frames=frames.astype(np.float32), name="tiny")


def _same(a, b) -> None:
    np.testing.assert_array_equal(a.target, b.target)
    np.testing.assert_array_equal(a.background, b.background)
    assert [c["loss"] for c in a.diagnostics["chunks"]] == [c["loss"] for c in b.diagnostics["chunks"]]


def _every(monkeypatch: pytest.MonkeyPatch, method: str, every: int) -> None:
    module = MODULES[method][0]
    default = module.chunk_state
    monkeypatch.setattr(module, "chunk_state", lambda *a: dataclasses.replace(default(*a), every=every))


def _wrap_loss(monkeypatch: pytest.MonkeyPatch, method: str, before) -> None:
    """Call ``before(n)`` (n: 1-based count of loss evaluations) ahead of the method's per-step loss."""
    module, name = MODULES[method]
    original = getattr(module, name)
    calls = {"n": 0}

    def wrapped(*args, **kwargs):
        calls["n"] += 1
        before(calls["n"])
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapped)


@pytest.mark.parametrize("method", ["neurstt", "3dstpm"])
@pytest.mark.parametrize("chunk_length", [80, 5])
def test_checkpoint_maps_are_the_fits_of_that_many_steps(method, chunk_length):
    seq = _seq()
    overrides = {**OVERRIDES[method], "chunk_length": chunk_length}
    got = create_method(method, overrides=overrides).detect_checkpoints(seq, [4, 2])
    assert sorted(got) == [2, 4, 6]  # the last step is always there
    for k, det in got.items():
        alone = create_method(method, overrides={**overrides, "iterations": k}).detect(seq)
        _same(det, alone)
        assert det.config == alone.config and det.config["iterations"] == k
        assert [c["iterations"] for c in det.diagnostics["chunks"]] == [k] * len(det.diagnostics["chunks"])
    assert got[2].runtime_s <= got[4].runtime_s <= got[6].runtime_s


def test_bad_checkpoints_are_refused():
    seq = _seq()
    neurstt = create_method("neurstt", overrides={"iterations": 6})
    for bad in ([0], [7], [2.5], [True], ["3"]):
        with pytest.raises(InvalidParameterError, match=r"integers in 1\.\.6"):
            neurstt.detect_checkpoints(seq, bad)
    with pytest.raises(InvalidParameterError, match="no fit checkpoints"):
        create_method("tophat").detect_checkpoints(seq, [1])


@pytest.mark.parametrize("method", ["neurstt", "3dstpm"])
def test_a_resumed_fit_keeps_the_checkpoints_it_passed(method, tmp_path, monkeypatch):
    seq = _seq()
    straight = create_method(method, overrides=OVERRIDES[method]).detect_checkpoints(seq, [2, 4])
    _every(monkeypatch, method, 3)

    def kill_at_5(n: int) -> None:
        if n == 5:
            raise Killed

    with monkeypatch.context() as m:
        _wrap_loss(m, method, kill_at_5)  # killed in step 5: checkpoints 2 and 4 passed, state of step 3 on disk
        with pytest.raises(Killed):
            create_method(method, overrides=OVERRIDES[method], state_dir=tmp_path).detect_checkpoints(seq, [2, 4])
    assert len(list(tmp_path.glob("*.step2.npz"))) == 1 and len(list(tmp_path.glob("*.step4.npz"))) == 1
    steps = []
    _wrap_loss(monkeypatch, method, steps.append)
    resumed = create_method(method, overrides=OVERRIDES[method], state_dir=tmp_path).detect_checkpoints(seq, [2, 4])
    assert len(steps) == 3  # steps 4-6 ran again, 1-3 came from the saved state
    for k in (2, 4, 6):
        _same(resumed[k], straight[k])
    assert resumed[2].diagnostics["resumed_steps"] == 2 and resumed[6].diagnostics["resumed_steps"] == 3


def test_a_state_without_checkpoint_maps_starts_afresh(tmp_path, caplog):
    seq = _seq()
    create_method("neurstt", overrides={"iterations": 6}, state_dir=tmp_path).detect(seq)  # leaves a finished state
    got = create_method("neurstt", overrides={"iterations": 6}, state_dir=tmp_path).detect_checkpoints(seq, [3])
    assert "fitting from the start" in caplog.text
    _same(got[3], create_method("neurstt", overrides={"iterations": 3}).detect(seq))
    assert got[6].diagnostics["resumed_steps"] == 0


class FakeClock:
    """``time.perf_counter`` that advances one second per optimiser step and not otherwise."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def tick(self, _n: int) -> None:
        self.now += 1.0


@pytest.mark.parametrize("method", ["neurstt", "3dstpm"])
def test_a_resumed_fit_reports_the_time_of_all_its_attempts(method, tmp_path, monkeypatch):
    seq = _seq(t=6)
    overrides = {**OVERRIDES[method], "chunk_length": 4}  # two chunks of 6 steps each
    clock = FakeClock()
    monkeypatch.setattr(time, "perf_counter", clock)
    _wrap_loss(monkeypatch, method, clock.tick)
    straight = create_method(method, overrides=overrides).detect(seq)
    assert straight.runtime_s == 12.0 and straight.diagnostics["resumed_steps"] == 0

    _every(monkeypatch, method, 2)

    def kill(n: int) -> None:
        if n == 10:  # chunk 2, step 4: chunk 1 finished, chunk 2 saved after step 2
            raise Killed

    with monkeypatch.context() as m:
        _wrap_loss(m, method, kill)
        with pytest.raises(Killed):
            create_method(method, overrides=overrides, state_dir=tmp_path).detect(seq)
    resumed = create_method(method, overrides=overrides, state_dir=tmp_path).detect(seq)
    assert resumed.runtime_s == straight.runtime_s  # 6 + 2 seconds before the kill, 4 after it
    assert resumed.diagnostics["resumed_steps"] == 6 + 2
    assert [c["resumed_from"] for c in resumed.diagnostics["chunks"]] == [6, 2]
    _same(resumed, straight)


def test_a_resumed_jobs_row_counts_every_attempt_and_says_it_resumed(tmp_path, monkeypatch):
    """Through the worker's `run_task`: the row's runtime is near the uninterrupted one, ``resumed_steps`` set."""
    from istdbench.runners.config import parse_config
    from istdbench.runners.execute import run_task
    from istdbench.runners.jobs import group_tasks, plan_jobs

    cfg = parse_config(
        {
            "methods": {"3dstpm": {"set": {"iterations": 6, "lr": 1e-2}}},
            "sequences": [{"refs": ["synthetic:h=24,w=24,t=4,seed=0"]}],
        }
    )
    jobs = plan_jobs(cfg)
    _wrap_loss(monkeypatch, "3dstpm", lambda n: time.sleep(0.25))  # the steps dominate the fit's time

    def row(outcomes):
        (outcome,) = outcomes
        assert not outcome.error, outcome.error
        return outcome.rows[0]

    row(run_task(group_tasks(jobs, threads=1)[0]))  # warm-up: the first fit of a process pays one-off costs
    straight = row(run_task(group_tasks(jobs, threads=1, state_root=tmp_path / "a")[0]))
    _every(monkeypatch, "3dstpm", 2)
    task = group_tasks(jobs, threads=1, state_root=tmp_path / "b")[0]

    def kill(n: int) -> None:
        if n == 4:
            raise Killed

    with monkeypatch.context() as m:
        _wrap_loss(m, "3dstpm", kill)
        assert run_task(task)[0].error.startswith("Killed")
    resumed = row(run_task(task))
    assert (straight["resumed_steps"], resumed["resumed_steps"]) == (0, 2)
    assert 0.85 < resumed["runtime_s"] / straight["runtime_s"] < 1.2  # 2 steps before the kill + 4 after: 6 of 6
