"""Hand-made result rows scored several ways (raw and binarised), for the sensitivity and replication tests.

`job` writes the rows of one job: every AUC from one quality ``q`` (higher is
better; AUC(tau,FPR) = (1 - q) / 100, lower is better), so that which method
ranks where under each scoring is known by construction.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
from reports_fake import _env

from istdbench.reports.formatting import AUC_METRICS
from istdbench.reports.results import COLUMNS, normalize


def job(
    method: str,
    sequence: str,
    q: float,
    rule: str | None = None,
    *,
    label: str = "",
    extra: dict[str, float] | None = None,
    snpr: float | None = None,
    size: tuple[int, int] = (256, 256),
    n_frames: int = 40,
    n_params: int | None = None,
    s_per_frame: float = 0.5,
    status: str = "ok",
) -> list[dict[str, object]]:
    """The rows of one job of ``method`` on ``sequence`` scored raw (``rule`` None) or binarised by ``rule``."""
    protocol = "tensoristd@1" + (f"+bin({rule})" if rule else "")
    key = f"{method}-{label}-{sequence}-{rule}".replace("/", "_")
    base = {
        "job_key": key,
        "method": method,
        "preset": "paper",
        "label": label,
        "config_hash": hashlib.sha1(f"{method}/{label}".encode()).hexdigest()[:16],
        "dataset": sequence.split("/", 1)[0],
        "sequence": sequence,
        "noise": "none",
        "seed": 0,
        "protocol": protocol,
        "threshold": "ratio:0.5",
        "runtime_s": s_per_frame * n_frames,
        "s_per_frame": s_per_frame,
        "device": "cpu",
        "n_params": n_params,
        "n_frames": n_frames,
        "height": size[0],
        "width": size[1],
        "resumed_steps": 0,
        **_env(),
    }
    if status == "failed":
        return [{**base, "protocol": "", "metric": "", "value": np.nan, "status": "failed", "error": "boom"}]
    values = {m: q for m in AUC_METRICS}
    values["AUC_tau_FPR"] = (1 - q) / 100
    values["AUC_SNPR"] = 100 * q if snpr is None else snpr
    values.update(extra or {})
    return [{**base, "metric": m, "value": v, "status": "ok", "error": ""} for m, v in values.items()]


def frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    """The rows as a normalised results table."""
    df = pd.DataFrame(rows)
    for col in COLUMNS:
        if col not in df.columns:
            df[col] = np.nan
    return normalize(df[[c for c in COLUMNS]])
