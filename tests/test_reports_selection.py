"""Choosing a report's figures: the run config's [report] section, the command-line flags, the defaults."""

from __future__ import annotations

import pytest

from istdbench.core.errors import InvalidParameterError, UnknownNameError
from istdbench.reports.selection import choose_figures, resolve_spec
from istdbench.runners.config import ReportSpec, parse_config, report_spec

SEQUENCES = [*(f"synthetic/s{i}" for i in range(12)), "daub/sequence1", "daub/sequence2"]


def _config(report):
    return parse_config({"methods": ["tophat"], "sequences": [{"refs": ["daub/sequence1"]}], "report": report})


def test_report_section_of_a_run_config():
    cfg = _config({"roc": ["daub/sequence1", "synthetic"], "visual": "none", "max_figures": 3, "summary": False})
    assert cfg.report == ReportSpec(roc=("daub/sequence1", "synthetic"), visual="none", max_figures=3, summary=False)
    no_section = parse_config({"methods": ["tophat"], "sequences": [{"refs": ["daub/sequence1"]}]})
    assert no_section.report == ReportSpec()
    with pytest.raises(UnknownNameError, match=r"Unknown key of 'report' in run config <dict>: 'rocs'\. Did you mean"):
        _config({"rocs": "all"})
    with pytest.raises(InvalidParameterError, match=r"'report.roc' in .* must be \"all\", \"none\" or a non-empty"):
        _config({"roc": "some"})
    with pytest.raises(InvalidParameterError, match=r"'report.max_figures' .* must be >= 0\. Got -1"):
        _config({"max_figures": -1})
    with pytest.raises(InvalidParameterError, match=r"'report.summary' .* must be a bool"):
        _config({"summary": "yes"})


def test_default_is_first_sequences_of_each_group_plus_summaries():
    choice = choose_figures(ReportSpec(max_figures=8), SEQUENCES)
    assert choice.roc == (*(f"synthetic/s{i}" for i in range(8)), "daub/sequence1", "daub/sequence2")
    assert choice.visual == choice.roc
    assert choice.summary == ("synthetic",)  # daub is drawn whole
    assert len(choice.left_out) == 2
    assert choice.left_out[0].startswith("3-D ROC figures of 4 of 14 sequence(s) are not drawn (by default each")
    assert "synthetic: 4, daub: 0" in choice.left_out[0] and "--roc all" in choice.left_out[0]
    assert "--visual all" in choice.left_out[1]


def test_small_runs_draw_everything_and_say_nothing():
    choice = choose_figures(ReportSpec(), SEQUENCES[:3])
    assert choice.roc == tuple(SEQUENCES[:3]) and choice.summary == () and choice.left_out == ()


def test_names_groups_wildcards_and_references():
    spec = ReportSpec(roc=("daub", "synthetic/s1?"), visual=("synthetic:s3",), summary=True)
    choice = choose_figures(spec, SEQUENCES)
    assert choice.roc == ("synthetic/s10", "synthetic/s11", "daub/sequence1", "daub/sequence2")
    assert choice.visual == ("synthetic/s3",)
    assert choice.summary == ("synthetic", "daub")
    assert choice.left_out[0].startswith("3-D ROC figures of 10 of 14 sequence(s) are not drawn (not selected;")
    everything = choose_figures(ReportSpec(roc="all", visual="none", summary=False), SEQUENCES)
    assert everything.roc == tuple(SEQUENCES) and everything.visual == () and everything.summary == ()


def test_a_name_that_matches_nothing_is_an_error():
    with pytest.raises(InvalidParameterError, match=r"--roc or report.roc\) names 'daub/sequence3', which matches no"):
        choose_figures(ReportSpec(roc=("daub/sequence3",)), SEQUENCES)
    with pytest.raises(InvalidParameterError, match=r"Did you mean 'daub'\? Groups: daub, synthetic"):
        choose_figures(ReportSpec(visual=("dauv",)), SEQUENCES)


def test_flags_go_over_the_recorded_section():
    run_info = {"config": {"report": {"roc": ["daub"], "visual": None, "max_figures": 2, "summary": None}}}
    assert resolve_spec(run_info) == ReportSpec(roc=("daub",), max_figures=2)
    assert resolve_spec(run_info, roc=("all",), summary=False) == ReportSpec(roc="all", max_figures=2, summary=False)
    assert resolve_spec(None, visual=("daub/sequence1", "synthetic")).visual == ("daub/sequence1", "synthetic")
    assert resolve_spec({"config": {}}, max_figures=0) == ReportSpec(max_figures=0)
    with pytest.raises(InvalidParameterError, match=r"'report\.max_figures' in the command line must be >= 0"):
        resolve_spec(None, max_figures=-2)
    assert report_spec({"roc": ("a", "a")}, "x").roc == ("a",)
