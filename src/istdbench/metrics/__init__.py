"""Evaluation metrics: 3-D ROC and AUC families, pixel-level IoU/F1, target-level Pd/Fa, contrast gains.

Functions live in their modules (``istdbench.metrics.roc3d.roc3d``,
``istdbench.metrics.evaluate.evaluate``); the package exports only names that
do not shadow a module. Every number is computed under a named, versioned
protocol (`PROTOCOLS`) and a named threshold rule.
"""

from .protocols import PROTOCOLS, RocProtocol, get_protocol, protocol_id
from .thresholds import ThresholdRule, parse_threshold

__all__ = ["PROTOCOLS", "RocProtocol", "ThresholdRule", "get_protocol", "parse_threshold", "protocol_id"]
