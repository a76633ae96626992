"""A small, hand-made results table (the runner's schema) for the report tests.

Values are chosen so that the best and second method of each column are known:
``alpha`` beats ``beta`` beats ``gamma (fast)`` on every score, ``gamma (slow)``
fails on the synthetic sequence, and only ``beta`` reports a parameter count.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from istdbench.reports.formatting import AUC_METRICS
from istdbench.reports.results import COLUMNS

SEQUENCES = {"synthetic/s0": (32, 40), "daub/sequence1": (48, 48)}
NOISES = ("none", "gaussian:snr=5", "cross")
QUALITY = {"alpha": 0.9, "beta": 0.7, "gamma": 0.5}
N_FRAMES = 6


def _metrics(quality: float, sequence: str, noise: str) -> dict[str, float]:
    drop = 0.0 if noise == "none" else (0.2 if noise.startswith("gaussian") else 0.1)
    q = quality - drop
    out = {m: q for m in AUC_METRICS}
    out["AUC_tau_FPR"] = (1 - q) / 100
    out["AUC_SNPR"] = 100 * q
    if sequence.startswith("synthetic"):
        out.update(IoU=q - 0.1, F1=q - 0.05)
    else:
        out.update(Pd=q, Fa=(1 - q) * 1e-4)
    return out


def _env() -> dict[str, object]:
    return {
        "istdbench_version": "0.1.0",
        "git_commit": "abc1234",
        "python": "3.12.0",
        "numpy": "2.4.0",
        "torch": "2.13.0",
        "cpu": "Test CPU",
        "gpu": "",
        "threads": 2,
    }


def make_results(seeds: tuple[int, ...] = (0, 1)) -> pd.DataFrame:
    """Rows for methods alpha, beta and gamma (two presets) over two sequences and three noises."""
    rows = []
    variants = [("alpha", "default", "h_alpha"), ("beta", "default", "h_beta")]
    variants += [("gamma", "fast", "h_gfast"), ("gamma", "slow", "h_gslow")]
    for method, preset, chash in variants:
        for sequence, (h, w) in SEQUENCES.items():
            for noise in NOISES:
                for seed in seeds:
                    key = f"{method}-{preset}-{sequence.replace('/', '_')}-{noise.replace(':', '_')}-{seed}"
                    base = {
                        "job_key": key,
                        "method": method,
                        "preset": preset,
                        "config_hash": chash,
                        "dataset": sequence.split("/")[0],
                        "sequence": sequence,
                        "noise": noise,
                        "seed": seed,
                        "protocol": "tensoristd@1",
                        "threshold": "ratio:0.5",
                        "runtime_s": 0.6 * N_FRAMES * (1 + seed),
                        "s_per_frame": 0.6 * (1 + seed),
                        "device": "cpu",
                        "n_params": 1234567 if method == "beta" else None,
                        "n_frames": N_FRAMES,
                        "height": h,
                        "width": w,
                        **_env(),
                    }
                    if preset == "slow" and sequence.startswith("synthetic"):
                        err = "RuntimeError: out of patience"
                        rows.append({**base, "metric": "", "value": np.nan, "status": "failed", "error": err})
                        continue
                    quality = QUALITY[method] - (0.01 * seed) - (0.1 if preset == "slow" else 0.0)
                    for metric, value in _metrics(quality, sequence, noise).items():
                        rows.append({**base, "metric": metric, "value": value, "status": "ok", "error": ""})
    return pd.DataFrame(rows, columns=list(COLUMNS))


def write_run(out: Path, df: pd.DataFrame, t: int = N_FRAMES) -> Path:
    """Write ``results.csv`` plus per-job ``curves.npz``, ``maps.npz`` and ``job.json`` files."""
    out.mkdir(parents=True, exist_ok=True)
    df.to_csv(out / "results.csv", index=False)
    config = {
        "name": "fake",
        "description": "Hand-made results for the report tests.",
        "seeds": sorted({int(s) for s in df["seed"]}),
        "protocols": ["tensoristd"],
        "threshold": "ratio:0.5",
        "device": "cpu",
        "sequences": [{"refs": sorted(set(df["sequence"])), "frames": [1, t], "noise": sorted(set(df["noise"]))}],
    }
    (out / "run.json").write_text(json.dumps({"config": config}))
    for key, job in df.groupby("job_key"):
        first = job.iloc[0]
        folder = out / "jobs" / key
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "job.json").write_text(
            json.dumps(
                {
                    "config": {"quality": QUALITY[first["method"]], "mode": first["preset"]},
                    "job": {
                        "key": key,
                        "ref": f"synthetic:h={first['height']},w={first['width']},t={t},seed=0",
                        "frames": None,
                        "sequence": first["sequence"],
                        "noise": first["noise"],
                        "seed": int(first["seed"]),
                    },
                }
            )
        )
        if first["status"] != "ok":
            continue
        tau = np.arange(101) / 100
        tpr = np.clip(1.2 - tau, 0, 1) ** 0.5
        fpr = np.clip(1 - 3 * tau, 0, 1) ** 2
        np.savez(folder / "curves.npz", thresholds=np.arange(101) / 99, tau=tau, tpr=tpr, fpr=fpr)
        target = np.zeros((t, int(first["height"]), int(first["width"])), dtype=np.float32)
        np.savez(folder / "maps.npz", target=target, frames=np.arange(1, t + 1))
    return out
