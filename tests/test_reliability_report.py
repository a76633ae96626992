"""``report`` shows exactly the stored jobs of the folder's last run, says what is missing, marks a stopped run."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from istdbench.cli import main
from istdbench.core.errors import DataError
from istdbench.reports import write_report
from istdbench.reports.runstate import load_run_results
from istdbench.runners.config import parse_config
from istdbench.runners.runner import run
from istdbench.runners.store import ResultStore

REFS = ["synthetic:h=20,w=20,t=2,seed=0", "synthetic:h=20,w=20,t=2,seed=1", "synthetic:h=20,w=20,t=2,seed=2"]


def _cfg(name: str, methods: list[str]):
    return parse_config({"name": name, "methods": methods, "sequences": [{"refs": REFS}], "threads": 1})


def _killed_after(monkeypatch, stored: int) -> None:
    """Make the next run stop (as if killed) once ``stored`` jobs are in the store."""
    original = ResultStore.write_job
    calls = {"n": 0}

    def write_job(self, *args, **kwargs):
        if calls["n"] == stored:
            raise KeyboardInterrupt
        calls["n"] += 1
        return original(self, *args, **kwargs)

    monkeypatch.setattr(ResultStore, "write_job", write_job)


def test_report_of_a_stopped_run_shows_its_stored_jobs_only(tmp_path, monkeypatch):
    out = tmp_path / "out"
    run(_cfg("first", ["tophat"]), out, isolate=False, progress=False)
    with monkeypatch.context() as m:
        _killed_after(m, stored=1)
        with pytest.raises(KeyboardInterrupt):
            run(_cfg("second", ["mpcm"]), out, isolate=False, progress=False)
    assert set(pd.read_csv(out / "results.csv")["method"]) == {"tophat"}  # the old table is still there

    df, state = load_run_results(out)
    assert set(df["method"]) == {"mpcm"} and df["job_key"].nunique() == 1
    assert (state.config, state.planned, state.stored, state.missing, state.finished) == ("second", 3, 1, 2, False)

    result = CliRunner().invoke(main, ["report", str(out), "--no-figures", "--threads", "1"])
    assert result.exit_code == 0, result.output
    assert "incomplete results: run config 'second': 3 jobs planned, 1 stored, 2 missing" in result.output
    index = (out / "report" / "index.md").read_text()
    assert "**Incomplete results.** Run config 'second': 3 jobs planned, 1 stored, 2 missing" in index
    assert "did not finish" in index and "run config `second`" in index and "thread(s)" in index
    assert "tophat" not in index and "`first`" not in index

    run(_cfg("second", ["mpcm"]), out, isolate=False, progress=False)  # finish it: the mark goes away
    report = write_report(out, figures=False)
    assert report.state.complete and "Incomplete" not in (out / "report" / "index.md").read_text()


def test_report_after_a_first_run_was_stopped(tmp_path, monkeypatch):
    out = tmp_path / "out"
    with monkeypatch.context() as m:
        _killed_after(m, stored=2)
        with pytest.raises(KeyboardInterrupt):
            run(_cfg("only", ["tophat"]), out, isolate=False, progress=False)
    assert not (out / "results.csv").exists()
    report = write_report(out, figures=False)
    assert (report.state.stored, report.state.missing) == (2, 1)
    assert "1 missing" in (out / "report" / "index.md").read_text()


def test_report_of_a_run_with_nothing_stored(tmp_path, monkeypatch):
    out = tmp_path / "out"
    with monkeypatch.context() as m:
        _killed_after(m, stored=0)
        with pytest.raises(KeyboardInterrupt):
            run(_cfg("none", ["tophat"]), out, isolate=False, progress=False)
    with pytest.raises(DataError, match=r"No job of run config 'none': 3 jobs planned, 0 stored, 3 missing"):
        write_report(out, figures=False)
    result = CliRunner().invoke(main, ["report", str(out)])
    assert result.exit_code == 2 and "Traceback" not in result.output
