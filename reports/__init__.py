"""Tables (Markdown, LaTeX, CSV) and figures built as pure functions of the results table.

`load_results` reads a run's ``results.csv``; `build_tables` turns it into the
paper's tables; `write_report` writes tables, figures and an index page to
``OUT/report``.
"""

from istdbench.reports.build import Report, ReportError, write_report
from istdbench.reports.results import load_results
from istdbench.reports.tables import Table, build_tables

__all__ = ["Report", "ReportError", "Table", "build_tables", "load_results", "write_report"]
