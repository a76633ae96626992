"""Presentation metadata: registry names and order, generated labels, run-config overrides and their errors."""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest
from reports_fake import make_results

from istdbench.core.display import Presentation, noise_label, parse_presentation, presentation_from_config
from istdbench.core.errors import InvalidParameterError, UnknownNameError
from istdbench.core.registry import list_methods
from istdbench.reports.render_latex import render_latex
from istdbench.reports.results import normalize
from istdbench.reports.tables import build_tables
from istdbench.runners.config import parse_config


def test_every_registered_method_declares_its_presentation():
    pres = Presentation()
    for name in list_methods():
        info = pres.method(name)
        assert info.display_name and info.cite_key and info.category and info.scene, name
    order = sorted(list_methods(), key=pres.method_rank)
    assert order.index("mpcm") < order.index("ipi") < order.index("stt") < order.index("3dstpm")
    assert order[-1] == "neurstt"  # the paper's own method closes its tables


def test_unregistered_method_keeps_its_name():
    info = Presentation().method("my-plugin")
    assert info.display_name == "my-plugin" and info.cite_key == "" and info.order > 1000


def test_generated_labels():
    assert noise_label("gaussian:snr=5") == "Gaussian 5 dB"
    assert noise_label("none") == "Clean" and noise_label("vline") == "Vertical lines"
    assert noise_label("cross:n=20,amp=0.8") == "Cross (n=20, amp=0.8)"
    pres = Presentation().with_sequences(["daub/sequence10", "daub/sequence2", "daub/sequence1"])
    assert [pres.sequence(s) for s in ("daub/sequence1", "daub/sequence2", "daub/sequence10")] == [
        "Seq. 1",
        "Seq. 2",
        "Seq. 3",
    ]
    assert pres.variant("neurstt (paper)", "neurstt") == "NeurSTT (paper)"
    assert pres.sequence("elsewhere/x") == "elsewhere/x"


def test_config_sections_override_everything():
    pres = parse_presentation(
        {"decimals": {"table8": 3}, "order": ["neurstt"], "cite": False, "methods": {"ipi": {"name": "IPI-2013"}}},
        {"daub/sequence1": "Daub 1", "gaussian:snr=5": "5 dB", "mpcm": "MPCM*"},
    )
    assert pres.table_decimals("table8") == 3 and pres.table_decimals("table9") == 2
    assert pres.method("ipi").display_name == "IPI-2013"
    assert sorted(["mpcm", "neurstt"], key=pres.method_rank) == ["neurstt", "mpcm"]
    assert pres.sequence("daub/sequence1") == "Daub 1" and pres.noise("gaussian:snr=5") == "5 dB"
    assert pres.variant("mpcm", "mpcm") == "MPCM*"
    assert parse_presentation({"decimals": 3}).table_decimals("table10") == 3


@pytest.mark.parametrize(
    ("display", "labels", "match"),
    [
        ({"decimal": 3}, {}, "Did you mean 'decimals'"),
        ({"decimals": 12}, {}, "integer 0-8"),
        ({"decimals": {"table99": 2}}, {}, "table99"),
        ({"order": "ipi"}, {}, "list of method names"),
        ({"compare": [1]}, {}, "'compare' .* list of method names"),
        ({"frame": -1}, {}, "frame number >= 1"),
        ({"cite": "yes"}, {}, "true or false"),
        ({"methods": {"ipi": {"nmae": "x"}}}, {}, "Did you mean 'name'"),
        ({"methods": {"ipi": {"order": "1"}}}, {}, "must be an integer"),
        ({}, {"daub/sequence1": 1}, r"\[labels\]"),
    ],
)
def test_bad_sections_name_the_problem(display, labels, match):
    with pytest.raises((InvalidParameterError, UnknownNameError), match=match):
        parse_presentation(display, labels, "run config x.toml")


def test_run_config_carries_presentation_through_run_json():
    data = {
        "methods": {"mpcm": {}},
        "sequences": [{"refs": ["synthetic:h=32,w=32,t=4,seed=0"]}],
        "display": {"decimals": {"table9": 1}, "highlight": "mpcm", "methods": {"mpcm": {"name": "MPCM'"}}},
        "labels": {"synthetic/h=32,w=32,t=4,seed=0": "Syn. A"},
    }
    cfg = parse_config(data)
    stored = json.loads(json.dumps(asdict(cfg)))  # what run.json holds
    pres = presentation_from_config(stored)
    assert pres == cfg.presentation
    assert presentation_from_config({}) == Presentation()
    with pytest.raises(UnknownNameError, match=r"key of \[display\] in run config <dict>: 'bogus'"):
        parse_config({**data, "display": {"bogus": 1}})


def test_tables_use_the_labels():
    pres = parse_presentation({"cite": True}, {"daub/sequence1": "Seq. A", "synthetic/s0": "Seq. B", "beta": "Beta"})
    tables = {t.key: t for t in build_tables(normalize(make_results()), pres)}
    pixel = tables["table9_pixel"]
    assert "Seq. B" in set(pixel.values.columns.get_level_values("group")) and "Beta" in pixel.values.index
    assert "Seq. A: daub/sequence1" in tables["table8_auc3d"].notes[0]
    assert r"\cite" not in render_latex(pixel)  # unregistered methods have no citation key
