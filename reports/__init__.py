"""Tables (Markdown, LaTeX, CSV) and figures built as pure functions of the results table."""
