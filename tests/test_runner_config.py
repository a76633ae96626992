"""Run configs: parsing, shipped configs, and the checks made before anything runs."""

from __future__ import annotations

import numpy as np
import pytest

from istdbench.core.errors import DataError, InvalidParameterError, IstdbenchError, UnknownNameError
from istdbench.runners.config import MethodSpec, load_config, parse_config, select_methods, shipped_configs
from istdbench.runners.jobs import code_version, content_key, group_tasks, plan_jobs

SEQ = [{"refs": ["synthetic:h=24,w=24,t=4,seed=0"]}]


def test_shipped_configs_parse():
    assert {"quick", "paper"} <= set(shipped_configs())
    quick = load_config("quick")
    assert quick.name == "quick"
    names = {m.name for m in quick.methods}
    assert {"tophat", "mpcm", "ipi", "pstnn", "stt", "neurstt", "3dstpm", "nftdgstv", "ctstc"} <= names
    noises = {n for b in quick.sequences for n in b.noise}
    assert {"none", "gaussian:snr=5", "gaussian:snr=15", "cross", "vline"} <= noises
    paper = load_config("paper")
    assert {m.preset for m in paper.methods if m.name == "neurstt"} == {"paper", "authors"}
    refs = {r for b in paper.sequences for r in b.refs}
    assert {f"daub/sequence{i}" for i in range(1, 9)} | {"city/city1", "city/city2", "city/city3"} <= refs


def test_method_forms():
    assert parse_config({"methods": "all", "sequences": SEQ}).methods == "all"
    assert parse_config({"methods": ["tophat", "mpcm"], "sequences": SEQ}).methods == (
        MethodSpec("tophat"),
        MethodSpec("mpcm"),
    )
    cfg = parse_config(
        {
            "methods": {"neurstt": [{"preset": "paper", "set": {"iterations": 5}}, {"preset": "authors"}]},
            "sequences": SEQ,
        }
    )
    assert cfg.methods == (
        MethodSpec("neurstt", "paper", (("iterations", 5),)),
        MethodSpec("neurstt", "authors"),
    )


def test_block_defaults_and_overrides():
    cfg = parse_config(
        {
            "methods": "all",
            "noise": ["none", "cross"],
            "frames": [1, 3],
            "sequences": [{"refs": ["a"]}, {"refs": ["b"], "frames": [2, 4], "noise": "vline"}],
        }
    )
    assert cfg.sequences[0].noise == ("none", "cross") and cfg.sequences[0].frames == (1, 3)
    assert cfg.sequences[1].noise == ("vline",) and cfg.sequences[1].frames == (2, 4)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({"methods": "all"}, "names no sequences"),
        ({"sequences": SEQ}, "names no methods"),
        ({"methods": "all", "sequences": SEQ, "sequnces": 1}, "Unknown key .*'sequnces'"),
        ({"methods": 3, "sequences": SEQ}, "'methods' .* must be"),
        ({"methods": {"ipi": 1}, "sequences": SEQ}, "'methods.ipi' .* must be a table"),
        ({"methods": {"ipi": {"presett": "x"}}, "sequences": SEQ}, "Unknown key of 'methods.ipi'.*'presett'"),
        ({"methods": {"ipi": {"set": 3}}, "sequences": SEQ}, "'methods.ipi.set' .* must be a table"),
        ({"methods": {"ipi": [{}, {}]}, "sequences": SEQ}, "same method variant twice"),
        ({"methods": "all", "sequences": {"refs": ["a"]}}, "one or more \\[\\[sequences\\]\\] blocks"),
        ({"methods": "all", "sequences": [{"noise": ["none"]}]}, "has no 'refs'"),
        ({"methods": "all", "sequences": [{"refs": ["a"], "frame": [1, 2]}]}, "Unknown key of sequences block 1"),
        ({"methods": "all", "sequences": [{"refs": ["a"], "frames": [3, 2]}]}, "first <= last"),
        ({"methods": "all", "sequences": [{"refs": []}]}, "non-empty list of strings"),
        ({"methods": "all", "sequences": SEQ, "seeds": [0.5]}, "'seeds' .* list of integers"),
        ({"methods": "all", "sequences": SEQ, "maps": "some"}, "'maps' .* must be one of"),
        ({"methods": "all", "sequences": SEQ, "threads": 0}, "'threads' .* positive integer"),
        ({"methods": "all", "sequences": SEQ, "device": 1}, "'device' .* must be a str"),
    ],
)
def test_malformed_config(data, match):
    with pytest.raises(IstdbenchError, match=match):
        parse_config(data)


def test_malformed_toml_and_missing_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\n[methods\n', encoding="utf-8")
    with pytest.raises(InvalidParameterError, match=r"not valid TOML"):
        load_config(bad)
    with pytest.raises(InvalidParameterError, match=r"does not exist"):
        load_config(tmp_path / "missing.toml")
    with pytest.raises(UnknownNameError, match=r"Unknown run config 'quik'. Did you mean 'quick'"):
        load_config("quik")


def test_yaml_config(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("methods: [tophat]\nsequences:\n  - refs: ['synthetic:h=24,w=24,t=4,seed=0']\n")
    assert load_config(path).methods == (MethodSpec("tophat"),)
    path.write_text("methods: [tophat\n")
    with pytest.raises(InvalidParameterError, match=r"not valid YAML"):
        load_config(path)


@pytest.mark.parametrize(
    ("methods", "sequences", "error", "match"),
    [
        ({"mpcn": {}}, SEQ, UnknownNameError, "Unknown method 'mpcn'. Did you mean 'mpcm'.* Known: "),
        ({"tophat": {"preset": "nope"}}, SEQ, UnknownNameError, "Unknown preset of method 'tophat'"),
        ({"tophat": {"set": {"radiuss": 3}}}, SEQ, UnknownNameError, "Unknown parameter .*'radiuss'"),
        ({"tophat": {"set": {"radius": -1}}}, SEQ, InvalidParameterError, "radius"),
        ({"tophat": {}}, [{"refs": ["synthetic:hh=3"]}], InvalidParameterError, "Unknown synthetic spec key .hh."),
        ({"tophat": {}}, [{"refs": ["synthetic:h=24,w=24,t=4"], "frames": [2, 9]}], DataError, "2:9|2-9|range"),
    ],
)
def test_plan_rejects_unknown_names(methods, sequences, error, match):
    cfg = parse_config({"methods": methods, "sequences": sequences})
    with pytest.raises(error, match=match):
        plan_jobs(cfg)


def test_plan_rejects_unknown_sequence_in_catalog(tmp_path):
    from PIL import Image

    clip = tmp_path / "grp" / "clip1"
    clip.mkdir(parents=True)
    for i in range(1, 3):
        Image.fromarray(np.full((20, 20), 40 * i, dtype=np.uint8)).save(clip / f"{i:04d}.png")
    cfg = parse_config({"methods": ["tophat"], "sequences": [{"refs": ["grp/clip2"]}]})
    with pytest.raises(UnknownNameError, match=r"Unknown sequence 'grp/clip2'. Did you mean 'grp/clip1'"):
        plan_jobs(cfg, data_root=tmp_path)


def test_plan_rejects_unknown_protocol_threshold_noise():
    base = {"methods": ["tophat"], "sequences": SEQ}
    with pytest.raises(UnknownNameError, match=r"Unknown protocol 'tensorist'"):
        plan_jobs(parse_config({**base, "protocols": ["tensorist"]}))
    with pytest.raises(InvalidParameterError, match=r"threshold"):
        plan_jobs(parse_config({**base, "threshold": "half"}))
    with pytest.raises((UnknownNameError, InvalidParameterError), match=r"blur"):
        plan_jobs(parse_config({**base, "sequences": [{"refs": SEQ[0]["refs"], "noise": ["blur"]}]}))


def test_job_keys_follow_content():
    base = {"methods": {"tophat": {}}, "sequences": SEQ, "protocols": ["tensoristd", "clean"]}
    jobs = plan_jobs(parse_config(base))
    assert len(jobs) == 2 and len({j.key for j in jobs}) == 2
    assert len({j.detection_key for j in jobs}) == 1  # one detection, two protocols
    tasks = group_tasks(jobs)
    assert len(tasks) == 1 and len(tasks[0].jobs) == 2
    again = plan_jobs(parse_config(base))
    assert [j.key for j in again] == [j.key for j in jobs]
    changed = plan_jobs(parse_config({**base, "methods": {"tophat": {"set": {"radius": 3}}}}))
    assert {j.key for j in changed}.isdisjoint({j.key for j in jobs})
    other_frames = plan_jobs(parse_config({**base, "sequences": [{"refs": SEQ[0]["refs"], "frames": [1, 3]}]}))
    assert {j.key for j in other_frames}.isdisjoint({j.key for j in jobs})
    respelled = [{"refs": ["synthetic:h=24,w=24,t=4,seed=0,clutter=cloud"], "frames": [1, 4]}]
    assert [j.key for j in plan_jobs(parse_config({**base, "sequences": respelled}))] == [j.key for j in jobs]
    assert jobs[0].sequence == "synthetic/h=24,w=24,t=4,seed=0" and jobs[0].dataset == "synthetic"
    assert {j.protocol_version for j in jobs} == {"tensoristd@1", "clean@1"}


def test_code_version_and_content_key():
    from istdbench.core.registry import get_method

    assert code_version(get_method("tophat")) == code_version(get_method("tophat"))
    assert code_version(get_method("tophat")) != code_version(get_method("mpcm"))
    assert content_key({"a": 1, "b": [1, 2]}) == content_key({"b": [1, 2], "a": 1})
    assert content_key({"a": 1}) != content_key({"a": 2})


@pytest.mark.parametrize(("device", "match"), [("gpu", "must be 'cpu', 'cuda' or 'cuda:N'"), ("cuda:x", "cuda:N")])
def test_bad_device_is_refused_even_for_cpu_methods(device, match):
    with pytest.raises(InvalidParameterError, match=match):
        plan_jobs(parse_config({"methods": ["tophat"], "sequences": SEQ}), device=device)


def test_paper_config_plans_on_the_real_data(data_root, weights_root):
    jobs = plan_jobs(load_config("paper"), data_root=data_root)
    variants = {(j.method, j.preset) for j in jobs}
    assert ("neurstt", "paper") in variants and ("neurstt", "authors") in variants and len(variants) == 14
    assert {("rpcanet", "sirst"), ("rdian", "irdst")} <= variants
    clean = [j for j in jobs if j.noise == "none"]
    assert len({j.sequence for j in clean}) == 11
    assert {j.shape[0] for j in jobs if j.sequence != "city/city2"} == {80}
    assert {j.noise for j in jobs} == {"none", "gaussian:snr=5", "gaussian:snr=15", "cross", "vline"}
    assert len(jobs) == 14 * (11 + 8 * 4)


def test_select_methods_keeps_the_named_variants_and_names_unknown_ones():
    cfg = parse_config(
        {"methods": {"tophat": {}, "mpcm": {}, "stt": {"label": "stt-fast", "set": {"max_iter": 3}}}, "sequences": SEQ}
    )
    assert [m.name for m in select_methods(cfg, ("tophat", "stt-fast")).methods] == ["tophat", "stt"]
    with pytest.raises(InvalidParameterError, match=r"no method 'ipi'.*mpcm"):
        select_methods(cfg, ("ipi",))
    with pytest.raises(InvalidParameterError, match="runs every method"):
        select_methods(parse_config({"methods": "all", "sequences": SEQ}), ("tophat",))
