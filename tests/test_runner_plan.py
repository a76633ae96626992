"""``istdbench run CONFIG --plan``: jobs, stored counts, and the estimate of what is left."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from istdbench.cli import main
from istdbench.runners import plan as plan_module
from istdbench.runners.config import load_config, parse_config
from istdbench.runners.jobs import plan_jobs
from istdbench.runners.plan import format_seconds, plan_run
from istdbench.runners.runner import run

SMALL = "synthetic:h=32,w=32,t=4,seed=0"
LARGE = "synthetic:h=64,w=64,t=8,seed=1"


def _cfg(refs, methods=None, **top):
    return parse_config({"methods": methods or {"tophat": {}}, "sequences": [{"refs": refs}], "threads": 1, **top})


def test_a_fresh_folder_is_estimated_by_the_stated_cost_model(tmp_path):
    cfg = _cfg([SMALL], {"tophat": {}, "neurstt": {"set": {"iterations": 50}}}, protocols=["tensoristd", "clean"])
    plan = plan_run(cfg, tmp_path / "new")
    assert (len(plan.jobs), plan.stored) == (4, 0)
    neurstt = plan.methods["neurstt"]
    assert (neurstt.jobs, neurstt.detections_to_run) == (2, 1)  # two protocols, one detection
    assert neurstt.work_to_run == pytest.approx(4 * 32 * 32 / 1e6 * 50)  # megavoxel-steps
    assert neurstt.seconds == pytest.approx(plan_module.COST_MODEL["neurstt", None][0] * neurstt.work_to_run)
    assert "cost model" in neurstt.basis and "CPU" in neurstt.basis
    text = plan.describe()
    assert "4 jobs (2 detections), 0 stored, 4 to run" in text and "remaining: about" in text


def test_stored_timings_are_used_and_stored_jobs_cost_nothing(tmp_path):
    out = tmp_path / "out"
    run(_cfg([SMALL]), out, progress=False)
    again = plan_run(_cfg([SMALL]), out)
    assert (again.stored, again.methods["tophat"].seconds, again.methods["tophat"].basis) == (1, 0.0, "all stored")

    (timing,) = plan_module.stored_timings(plan_module.ResultStore(out))
    bigger = plan_run(_cfg([SMALL, LARGE]), out)
    tophat = bigger.methods["tophat"]
    assert (tophat.stored, tophat.detections_to_run) == (1, 1)
    assert tophat.seconds == pytest.approx(timing.seconds / timing.work * 64 * 64 * 8 / 1e6)  # scaled by voxels
    assert (
        tophat.basis
        == f"tensoristd: measured on 1 stored detection(s), {timing.seconds / timing.work:.3g} s per megavoxel-step"
    )


def test_a_method_without_timings_or_model_is_said_to_be_unknown(tmp_path, monkeypatch):
    monkeypatch.delitem(plan_module.COST_MODEL, ("tophat", None))
    plan = plan_run(_cfg([SMALL]), tmp_path / "new")
    assert plan.methods["tophat"].seconds is None and plan.seconds is None
    assert "no stored timing and no cost model" in plan.describe()
    assert "remaining: unknown" in plan.describe()


def test_cli_plan(tmp_path):
    res = CliRunner().invoke(main, ["run", "quick", "--plan", "-o", str(tmp_path / "q"), "-j", "2"])
    assert res.exit_code == 0, res.output
    n_jobs = len(plan_jobs(load_config("quick")))
    assert f"{n_jobs} jobs" in res.output and "on 2 workers" in res.output and "3dstpm" in res.output
    assert "remaining: about" in res.output  # every quick method has a cost model
    assert not (tmp_path / "q").exists()  # planning writes nothing
    res = CliRunner().invoke(main, ["run", "no-such-config", "--plan"])
    assert res.exit_code == 2 and "Unknown run config 'no-such-config'" in res.output


def test_format_seconds():
    assert [format_seconds(s) for s in (42, 600, 7200, 3 * 86400)] == ["42 s", "10.0 min", "2.0 h", "3.0 days"]


def test_cli_plan_of_some_methods(tmp_path):
    res = CliRunner().invoke(main, ["run", "quick", "--plan", "-o", str(tmp_path / "q"), "--methods", "tophat,mpcm"])
    assert res.exit_code == 0, res.output
    assert "tophat" in res.output and "3dstpm" not in res.output
