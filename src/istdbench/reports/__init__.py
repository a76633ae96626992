"""Tables (Markdown, LaTeX, CSV) and figures built as pure functions of the results table.

`load_results` reads a run's ``results.csv``; `build_tables` turns it into the
paper's tables; `write_report` writes tables, figures and an index page to
``OUT/report``.
"""

from .build import Report, ReportError, write_report
from .results import load_results
from .tables import Table, build_tables

__all__ = ["Report", "ReportError", "Table", "build_tables", "load_results", "write_report"]
