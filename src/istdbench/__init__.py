"""istdbench: a benchmark suite for infrared small target detection on image sequences."""

from istdbench.core.config import MethodConfig
from istdbench.core.errors import DataError, InvalidParameterError, IstdbenchError, UnknownNameError
from istdbench.core.method import Method, RawOutput, SingleFrameMethod
from istdbench.core.registry import create_method, describe, get_method, list_methods, register
from istdbench.core.types import Detection, Provenance, Sequence

__version__ = "0.1.0"

__all__ = [
    "DataError",
    "Detection",
    "InvalidParameterError",
    "IstdbenchError",
    "Method",
    "MethodConfig",
    "Provenance",
    "RawOutput",
    "Sequence",
    "SingleFrameMethod",
    "UnknownNameError",
    "__version__",
    "create_method",
    "describe",
    "get_method",
    "list_methods",
    "register",
]
