"""The code part of a job's key: a hash of the code a method's results depend on.

A stored job is reused only while this hash is unchanged, so it must change
with anything that can change a result and with nothing else. It is computed
from each source file's syntax tree with docstrings and the presentation-only
class attributes (display name, citation, paper order, ...) removed: rewording a
docstring, reformatting or renaming a method's display name keeps every stored
job, while any edit to code, defaults or presets changes the key.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import inspect
import sys
import types
from pathlib import Path

KEY_LENGTH = 16
METHOD_HELPER_PREFIX = "istdbench.methods."
PRESENTATION_ATTRIBUTES = frozenset({"citation", "display_name", "cite_key", "paper_order", "category"})
"""Class attributes that only say how a method is named and cited; they never change a result."""


def code_version(cls: type) -> str:
    """Hash of the code a method's results depend on.

    That is the module defining the class, the modules of its base classes and
    the suite's method helper modules (``istdbench.methods._*``) its module
    refers to, each reduced to its syntax tree without docstrings and
    presentation attributes (see the module docstring).
    """
    digest = hashlib.sha256()
    for path in sorted(_source_files(cls)):
        digest.update(path.name.encode())
        digest.update(_code_hash(path).encode())
    return digest.hexdigest()[:KEY_LENGTH]


def _source_files(cls: type) -> set[Path]:
    modules = {sys.modules[c.__module__] for c in cls.__mro__ if c.__module__ in sys.modules}
    pending = [sys.modules[cls.__module__]] if cls.__module__ in sys.modules else []
    while pending:  # the method's module and, transitively, the helper modules they use
        for mod in _helper_modules(pending.pop()):
            if mod not in modules:
                modules.add(mod)
                pending.append(mod)
    files = set()
    for mod in modules:
        if mod.__name__ == "builtins" or mod.__name__.startswith("abc"):
            continue
        try:
            files.add(Path(inspect.getfile(mod)).resolve())
        except (TypeError, OSError):
            continue
    return files


def _helper_modules(module: types.ModuleType) -> set[types.ModuleType]:
    """Modules of ``istdbench.methods`` that ``module`` imported or took names from."""
    found = set()
    for value in vars(module).values():
        owner = getattr(value, "__module__", None)
        mod = value if isinstance(value, types.ModuleType) else None
        if mod is None and isinstance(owner, str):
            mod = sys.modules.get(owner)
        if mod is not None and mod.__name__.startswith(METHOD_HELPER_PREFIX):
            found.add(mod)
    return found


@functools.cache
def _code_hash(path: Path) -> str:
    source = path.read_bytes()
    try:
        tree = ast.parse(source)
    except SyntaxError:  # not Python we can read: fall back to the bytes
        return hashlib.sha256(source).hexdigest()
    return hashlib.sha256(ast.dump(_ResultCode().visit(tree)).encode()).hexdigest()


class _ResultCode(ast.NodeTransformer):
    """Drops docstrings and presentation attributes from a module's syntax tree."""

    def generic_visit(self, node: ast.AST) -> ast.AST:
        body = getattr(node, "body", None)
        if isinstance(body, list):
            kept = [stmt for stmt in body if not _is_docstring(stmt) and not _is_presentation(node, stmt)]
            node.body = kept or [ast.Pass()]
        return super().generic_visit(node)


def _is_docstring(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)


def _is_presentation(parent: ast.AST, stmt: ast.stmt) -> bool:
    if not isinstance(parent, ast.ClassDef):
        return False
    if isinstance(stmt, ast.AnnAssign):
        targets = [stmt.target]
    elif isinstance(stmt, ast.Assign):
        targets = stmt.targets
    else:
        return False
    return all(isinstance(t, ast.Name) and t.id in PRESENTATION_ATTRIBUTES for t in targets)
