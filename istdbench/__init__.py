"""istdbench: a benchmark suite for infrared small target detection on image sequences."""

from istdbench.config import MethodConfig
from istdbench.errors import DataError, InvalidParameterError, IstdbenchError, UnknownNameError
from istdbench.method import FrameOutput, Method, RawOutput, SingleFrameMethod
from istdbench.registry import create_method, describe, get_method, list_methods, register
from istdbench.types import Detection, Provenance, Sequence

__version__ = "0.1.0"

__all__ = [
    "DataError",
    "Detection",
    "FrameOutput",
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
