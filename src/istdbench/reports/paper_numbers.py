"""The seed paper's published numbers (NeurSTT, Wu et al., Tables 3-11), as data to set beside ours.

``data/neurstt_paper.csv`` holds every number of Tables 3-11 as printed in the
paper's text, one row per (table, row, sequence, metric):

==========  ===============================================================================
column      meaning
==========  ===============================================================================
table       ``table3`` ... ``table11``
group       the table's configuration group (Table 3: I-V, Table 7: I-VII; Table 10: the
            category and scene columns), else empty
row         the row as the paper labels it (Table 3: the full setting)
variant     our name for it: the ``label`` of the row's variant in the ``ablation-table*``
            run configs (Tables 3-7; ``paper`` is the published setting) or the registry
            name of the method (Tables 8-11; methods the suite lacks keep their lower-case name)
sequence    ``Seq.1`` ... ``Seq.9``, the average the table reports (``mean of Seqs. 1-6``
            for the ablations on the six sequences of [42], ``mean of Seqs. 1-9``), or the
            frame size of a parameter count (``256x256``, ``720x480``)
metric      our metric name: ``IoU``, ``F1``, the eight ``AUC_*`` keys, ``n_params``,
            ``s_per_frame``
value       the number in our units: IoU and F1 as fractions (the paper prints percent),
            parameters as a count (printed in millions), seconds
printed     the number exactly as printed
note        units and what the text leaves open; ``as printed; ...`` where a printed number
            contradicts the others of its row (IoU/F1 pairs, Eqs. 27-30)
==========  ===============================================================================

Numbers are facts from the paper; they are not ours and were not measured here.
"""

from __future__ import annotations

from importlib import resources

import pandas as pd

from istdbench.core.errors import unknown_name

DATA_FILE = "neurstt_paper.csv"
TABLES = tuple(f"table{n}" for n in range(3, 12))
COLUMNS = ("table", "group", "row", "variant", "sequence", "metric", "value", "printed", "note")


def load_paper_numbers(table: str | None = None) -> pd.DataFrame:
    """The published numbers (all tables, or one of `TABLES`), columns `COLUMNS`, ``value`` as float."""
    if table is not None and table not in TABLES:
        raise unknown_name("table of the seed paper", table, TABLES)
    with resources.files(__package__).joinpath("data", DATA_FILE).open("r", encoding="utf-8") as fh:
        df = pd.read_csv(fh, dtype=str, keep_default_na=False)
    df["value"] = df["value"].astype(float)
    return df if table is None else df[df["table"] == table].reset_index(drop=True)
