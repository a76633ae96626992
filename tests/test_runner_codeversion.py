"""The code part of job keys changes with code and with nothing that cannot change a result."""

from __future__ import annotations

from pathlib import Path

from istdbench.core.registry import get_method
from istdbench.runners.codeversion import _code_hash, code_version

BASE = '''"""A method module."""
from typing import ClassVar


class Thing:
    """What it does."""

    display_name: ClassVar = "Thing"
    citation = "Someone, 2026."
    paper_order = 3
    gain = 2.0

    def run(self, x):
        """Scale x."""
        return self.gain * x  # scaled
'''


def _hash(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / f"{name}.py"
    path.write_text(text)
    return _code_hash(path)


def test_docstrings_comments_and_presentation_attributes_do_not_count(tmp_path: Path) -> None:
    base = _hash(tmp_path, "a", BASE)
    reworded = BASE.replace("What it does.", "Says more now.").replace("# scaled", "# times the gain")
    renamed = BASE.replace('display_name: ClassVar = "Thing"', 'display_name: ClassVar = "THING"')
    renamed = renamed.replace("paper_order = 3", "paper_order = 7\n    cite_key = 'thing26'")
    reformatted = BASE.replace("return self.gain * x", "return (self.gain *\n                x)")
    assert _hash(tmp_path, "b", reworded) == base
    assert _hash(tmp_path, "c", renamed) == base
    assert _hash(tmp_path, "d", reformatted) == base


def test_code_and_defaults_count(tmp_path: Path) -> None:
    base = _hash(tmp_path, "a", BASE)
    assert _hash(tmp_path, "b", BASE.replace("gain = 2.0", "gain = 2.5")) != base
    assert _hash(tmp_path, "c", BASE.replace("self.gain * x", "self.gain + x")) != base
    # a presentation name used as an ordinary variable inside a method is code
    assert (
        _hash(tmp_path, "d", BASE.replace("return self.gain * x", "citation = 1\n        return citation * x")) != base
    )


def test_methods_have_distinct_stable_versions() -> None:
    assert code_version(get_method("tophat")) == code_version(get_method("tophat"))
    assert code_version(get_method("tophat")) != code_version(get_method("mpcm"))
