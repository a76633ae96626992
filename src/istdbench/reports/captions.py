"""Caption sentences that make a table or figure readable on its own in a paper.

A reader of a pasted table must be able to tell how its numbers were made
without the report around it: the 3-D ROC protocol, the threshold rule that cut
the maps for IoU/F1/Pd/Fa, the data (sequences, frames, noise) and where the
ground truth came from. Each function returns one sentence; the table builders
pick the ones that apply.
"""

from __future__ import annotations

import pandas as pd

from istdbench.core.display import Presentation

_PROTOCOL_WORDS = {
    "tensoristd": "the TensorISTD toolbox's rules (per-frame max normalisation, 8-bit quantisation, "
    "thresholds k/99, a 3×3 box around each annotated point)",
    "clean": "quirk-free rules (per-frame max normalisation, thresholds k/100)",
    "basicirstd": "the BasicIRSTD rules for binarised maps",
}

_THRESHOLD_WORDS = {
    "ratio": "a pixel is a detection above {v} × its frame's maximum",
    "chunk-max": "a pixel is a detection above {v} × the maximum of its chunk of frames",
    "minmax": "a pixel is a detection above {v} of its min-max normalised frame",
    "fixed": "a pixel is a detection above {v}",
    "adaptive": "a pixel is a detection above its frame's mean + {v} std",
}


def protocol_sentence(protocol: str) -> str:
    """``3-D ROC protocol tensoristd@1: ...``, naming the rules that move the numbers."""
    name = protocol.split("@", 1)[0].split("+", 1)[0]
    words = _PROTOCOL_WORDS.get(name)
    binarised = "+bin(" in protocol
    text = f"3-D ROC protocol {protocol}" + (f": {words}" if words else "")
    return text + ("; scored on binarised maps." if binarised else ".")


def threshold_sentence(threshold: str, metrics: str = "IoU and F1") -> str:
    """``IoU and F1 at threshold ratio:0.5 (a pixel is a detection above 0.5 × its frame's maximum).``"""
    kind, _, value = threshold.partition(":")
    words = _THRESHOLD_WORDS.get(kind, "")
    rule = f" ({words.format(v=value.split(',', 1)[0])})" if words and value else ""
    return f"{metrics} at threshold {threshold}{rule}."


def _frames(df: pd.DataFrame, sequences: list[str]) -> str:
    counts = df.loc[df["sequence"].isin(sequences), "n_frames"].dropna()
    values = sorted({int(v) for v in counts})
    if not values:
        return ""
    return f", {values[0]} frames each" if len(values) == 1 else f", {values[0]}-{values[-1]} frames"


def data_sentence(
    df: pd.DataFrame, sequences: list[str], pres: Presentation, noise: str = "without added noise"
) -> str:
    """``Mean over 2 sequences without added noise (Seq. 1: daub/sequence1; ...), 80 frames each.``"""
    named = [f"{pres.sequence(s)}: {s}" if pres.sequence(s) != s else s for s in sequences]
    frames = _frames(df, sequences)
    return f"{len(sequences)} sequence(s) {noise} ({'; '.join(named)}){frames}."


def truth_sentence(sequences: list[str], pixel: bool) -> str:
    """Where the ground truth came from: exact synthetic masks, or annotated centre points."""
    synthetic = [s for s in sequences if s.split("/", 1)[0] == "synthetic"]
    real = len(sequences) - len(synthetic)
    if pixel:
        if real:
            return "Ground truth: exact masks of the synthetic sequences and the masks of the real ones."
        return "Ground truth: the exact masks of the synthetic sequences."
    if synthetic and real:
        return "Ground truth: exact masks (synthetic sequences) and annotated centre points (real sequences)."
    if synthetic:
        return "Ground truth: the exact masks of the synthetic sequences."
    return "Ground truth: annotated target centre points."


def device_sentence(df: pd.DataFrame) -> str:
    """``Measured on the CPU (Intel Xeon ..., 1 thread).`` naming every device the runs used."""
    ok = df[df["status"] == "ok"].drop_duplicates("job_key")
    parts = []
    for device in sorted(set(ok["device"]) - {""}):
        rows = ok[ok["device"] == device]
        column = "cpu" if device == "cpu" else "gpu"
        models = sorted({str(v) for v in rows[column] if str(v) not in ("", "nan")})
        threads = sorted({int(t) for t in rows["threads"].dropna()})
        model = f" ({', '.join(models)}" if models else ""
        if model and device == "cpu" and threads:
            model += f", {'/'.join(map(str, threads))} thread(s)"
        parts.append(("the CPU" if device == "cpu" else device) + (model + ")" if model else ""))
    return f"Measured on {' and '.join(parts)}." if parts else ""
