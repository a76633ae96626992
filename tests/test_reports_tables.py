"""Report tables built from a hand-made results table: values, failures, filtering, dtypes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from reports_fake import make_results

from istdbench.core.errors import DataError
from istdbench.core.sorting import natural_sorted
from istdbench.reports.results import load_results, noise_order, normalize, variant_labels
from istdbench.reports.tables import AVERAGE, build_tables, evaluation_settings


@pytest.fixture(scope="module")
def results() -> pd.DataFrame:
    return normalize(make_results())


@pytest.fixture(scope="module")
def tables(results):
    return {t.key: t for t in build_tables(results)}


def test_load_results_fixes_dtypes(tmp_path, results):
    make_results().to_csv(tmp_path / "results.csv", index=False)
    df = load_results(tmp_path)
    assert df["seed"].dtype == "Int64" and df["n_params"].dtype == "Int64"
    assert df["value"].dtype == float
    failed = df[df["status"] == "failed"]
    assert len(failed) == 6 and set(failed["metric"]) == {""} and failed["value"].isna().all()
    assert df["n_params"].isna().sum() == (df["method"] != "beta").sum()
    pd.testing.assert_frame_equal(df, results)


def test_load_results_errors(tmp_path):
    with pytest.raises(DataError, match="No results table"):
        load_results(tmp_path)
    make_results().drop(columns=["noise", "threads"]).to_csv(tmp_path / "results.csv", index=False)
    with pytest.raises(DataError, match=r"lacks column.*noise, threads"):
        load_results(tmp_path)
    with pytest.raises(DataError, match=r"status value.*'done'"):
        normalize(make_results().assign(status="done"))


def test_retried_job_drops_its_failure_row():
    df = make_results()
    ok_row = df[df["status"] == "ok"].iloc[[0]]
    retry_failure = ok_row.assign(metric="", value=np.nan, status="failed", error="boom")
    out = normalize(pd.concat([df, retry_failure], ignore_index=True))
    assert not ((out["job_key"] == ok_row["job_key"].iloc[0]) & (out["status"] == "failed")).any()
    assert len(out) == len(df)


def test_variant_labels(results):
    labels = set(variant_labels(results))
    assert labels == {"alpha", "beta", "gamma (fast)", "gamma (slow)"}
    twin = results[results["method"] == "alpha"].assign(config_hash="other")
    both = pd.concat([results[results["method"] == "alpha"], twin], ignore_index=True)
    assert set(variant_labels(both)) == {"alpha (default, h_alph)", "alpha (default, other)"}


def test_sort_orders():
    assert natural_sorted(["s10", "s2", "s1"]) == ["s1", "s2", "s10"]
    noises = ["vline", "cross", "gaussian:snr=15", "none", "gaussian:snr=5"]
    assert noise_order(noises) == ["none", "gaussian:snr=5", "gaussian:snr=15", "cross", "vline"]


def test_table8_averages_clean_sequences(tables):
    t = tables["table8_auc3d"]
    assert list(t.values.index) == ["alpha", "beta", "gamma (fast)", "gamma (slow)"]
    assert list(t.values.columns.get_level_values("metric"))[:3] == ["AUC_FPR_TPR", "AUC_tau_FPR", "AUC_tau_TPR"]
    assert t.decimals == 4
    # alpha scores 0.9 - 0.01 * seed on both clean sequences: mean over seeds 0 and 1
    np.testing.assert_allclose(t.values.loc["alpha", ("", "AUC_ODP")], 0.895, rtol=0, atol=1e-12)
    np.testing.assert_allclose(t.values.loc["beta", ("", "AUC_SNPR")], 69.5, rtol=0, atol=1e-9)
    assert (t.status.loc["gamma (slow)"] == "failed").all()
    assert (t.status.loc["alpha"] == "ok").all()


def test_table9_splits_masked_and_point_sequences(tables):
    pixel, target = tables["table9_pixel"], tables["table9_target"]
    # sequences are numbered over the run in natural order: Seq. 1 = daub/sequence1, Seq. 2 = synthetic/s0
    assert set(pixel.values.columns.get_level_values("group")) == {"Seq. 2", AVERAGE}
    assert set(pixel.values.columns.get_level_values("metric")) == {"IoU", "F1"}
    assert "Seq. 2: synthetic/s0" in pixel.notes[0]
    # the target-level table is narrow: the mean over the point-annotated sequences only
    assert list(target.values.columns) == [("", "Pd"), ("", "Fa"), ("", "AUC_tau_TPR")]
    np.testing.assert_allclose(pixel.values.loc["alpha", ("Seq. 2", "IoU")], 79.5, atol=1e-9)  # percent
    assert pixel.status.loc["gamma (slow)", (AVERAGE, "F1")] == "failed"
    np.testing.assert_allclose(target.values.loc["gamma (slow)", ("", "Pd")], 0.795 - 0.4, atol=1e-12)


def test_average_skips_missing_but_not_failed(results):
    no_alpha_daub = results[~((results["method"] == "alpha") & (results["sequence"] == "daub/sequence1"))]
    t = {t.key: t for t in build_tables(no_alpha_daub)}["table8_auc3d"]
    np.testing.assert_allclose(t.values.loc["alpha", ("", "AUC_TD")], 0.895, atol=1e-12)  # synthetic only
    assert t.status.loc["alpha", ("", "AUC_TD")] == "ok"


def test_missing_metric_is_missing(results):
    dropped = results[~((results["method"] == "alpha") & (results["metric"] == "AUC_SNPR"))]
    t = {t.key: t for t in build_tables(dropped)}["table8_auc3d"]
    assert t.status.loc["alpha", ("", "AUC_SNPR")] == "missing"
    assert np.isnan(t.values.loc["alpha", ("", "AUC_SNPR")])


def test_table10_runtime_is_not_deterministic_and_has_device(tables):
    t = tables["table10_runtime"]
    assert not t.deterministic
    assert t.info is None  # one device, no registered methods: the caption names the device
    assert "Measured on the CPU (Test CPU, 2 thread(s))." in t.notes and t.decimals == 3
    np.testing.assert_allclose(t.values.loc["beta", ("Seq. 2", "s_per_frame")], 0.9, atol=1e-12)
    assert t.status.loc["gamma (slow)", ("Seq. 2", "s_per_frame")] == "failed"
    assert t.status.loc["gamma (slow)", ("Seq. 1", "s_per_frame")] == "ok"


def test_table11_lists_only_learned_methods(tables):
    t = tables["table11_params"]
    assert list(t.values.index) == ["beta"]
    assert list(t.values.columns.get_level_values("group")) == ["32×40", "48×48"]
    assert t.values.loc["beta", ("32×40", "params_M")] == 1.234567


def test_table11_splits_sizes_by_frames_when_counts_differ(results):
    df = results.copy()
    longer = (df["method"] == "beta") & (df["seed"] == 1) & (df["sequence"] == "synthetic/s0")
    df.loc[longer, "n_params"] = 7654321
    df.loc[longer, "n_frames"] = 12
    t = {t.key: t for t in build_tables(df)}["table11_params"]
    assert list(t.values.columns.get_level_values("group")) == ["32×40×6", "32×40×12", "48×48"]


def test_table12_noise(tables):
    pixel, target = tables["table12_noise_pixel"], tables["table12_noise_target"]
    assert list(dict.fromkeys(pixel.values.columns.get_level_values("group"))) == ["Clean", "Gaussian 5 dB", "Cross"]
    assert set(target.values.columns.get_level_values("metric")) == {"AUC_tau_TPR"}
    np.testing.assert_allclose(pixel.values.loc["alpha", ("Gaussian 5 dB", "F1")], 84.5 - 20, atol=1e-9)
    np.testing.assert_allclose(target.values.loc["beta", ("Cross", "AUC_tau_TPR")], 0.695 - 0.1, atol=1e-12)


def test_second_protocol_gets_suffixed_tables(results):
    other = results[results["status"] == "ok"].assign(protocol="plain@1", value=lambda d: d["value"] / 2)
    df = pd.concat([results, other], ignore_index=True)
    settings = evaluation_settings(df)
    assert [s.protocol for s in settings] == ["tensoristd@1", "plain@1"]
    assert settings[0].suffix == "" and settings[1].suffix == "__plain_1_ratio_0_5"
    keys = {t.key: t for t in build_tables(df)}
    assert "table8_auc3d__plain_1_ratio_0_5" in keys
    np.testing.assert_allclose(keys["table8_auc3d__plain_1_ratio_0_5"].values.loc["alpha"].iloc[0], 0.4475, atol=1e-12)
    np.testing.assert_allclose(keys["table8_auc3d"].values.loc["alpha"].iloc[0], 0.895, atol=1e-12)


def test_noise_columns_follow_each_subset(results):
    vline = results[(results["sequence"] == "daub/sequence1") & (results["noise"] == "cross")]
    vline = vline.assign(noise="vline", job_key=vline["job_key"] + "-vline")
    tables = {t.key: t for t in build_tables(pd.concat([results, vline], ignore_index=True))}
    pixel_groups = list(dict.fromkeys(tables["table12_noise_pixel"].values.columns.get_level_values("group")))
    target_groups = list(tables["table12_noise_target"].values.columns.get_level_values("group"))
    assert pixel_groups == ["Clean", "Gaussian 5 dB", "Cross"]  # vline ran on the point-annotated clip only
    assert target_groups == ["Clean", "Gaussian 5 dB", "Cross", "Vertical lines"]


def test_no_noise_table_without_noise_settings(results):
    keys = {t.key for t in build_tables(results[results["noise"] == "none"])}
    assert "table12_noise_pixel" not in keys and "table12_noise_target" not in keys
    assert {"table8_auc3d", "table9_pixel", "table9_target", "table10_runtime", "table11_params"} <= keys


def test_noise_table_uses_only_sequences_run_with_noise(results):
    extra = results[(results["sequence"] == "synthetic/s0") & (results["noise"] == "none")]
    extra = extra.assign(sequence="synthetic/clean-only", job_key=extra["job_key"] + "-c", value=0.0)
    t = {t.key: t for t in build_tables(pd.concat([results, extra], ignore_index=True))}
    noise = t["table12_noise_pixel"]
    np.testing.assert_allclose(noise.values.loc["alpha", ("Clean", "F1")], 84.5, atol=1e-9)
    assert "synthetic/clean-only" not in " ".join(noise.notes)
    assert "synthetic/clean-only" in " ".join(t["table9_pixel"].notes)


def test_all_failed_run_still_gets_tables_of_failures():
    df = make_results(seeds=(0,)).drop_duplicates("job_key")
    df = normalize(df.assign(status="failed", metric="", value=np.nan, error="ValueError: x"))
    tables = {t.key: t for t in build_tables(df)}
    assert set(tables) == {
        "table8_auc3d",
        "table9_pixel",
        "table9_target",
        "table10_runtime",
        "table12_noise_pixel",
        "table12_noise_target",
    }
    assert (tables["table8_auc3d"].status == "failed").all().all()
    assert tables["table9_pixel"].values.columns.get_level_values("group")[0] == "Seq. 2"


def test_empty_results_give_no_tables():
    assert build_tables(normalize(make_results().iloc[:0])) == []
