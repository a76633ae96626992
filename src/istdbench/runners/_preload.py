"""Imported once by the forkserver of `istdbench.runners.workers`: what every job's child needs, loaded once.

Each child is a fork of the forkserver, so it starts with these modules
imported and the method registry filled (built-ins and entry-point plugins)
instead of paying for it per job.
"""

import threadpoolctl  # noqa: F401

from istdbench.core.registry import list_methods
from istdbench.datasets import catalog as _catalog  # noqa: F401
from istdbench.datasets import noise as _noise  # noqa: F401
from istdbench.metrics import evaluate as _evaluate  # noqa: F401
from istdbench.runners import execute as _execute  # noqa: F401

list_methods()
