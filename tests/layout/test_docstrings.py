"""Public docstrings name the errors a function raises (docs/brief: shapes, units, errors, sources): every public
function or method of ``src/iisbitness`` (click commands aside: their docstring is the command's help) that
raises an exception itself, outside a ``try`` that may catch it, names that exception in its docstring."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from tests.conftest import REPO

SRC = REPO / "src" / "iisbitness"
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


def _raised(node: ast.AST, in_try: bool = False) -> Iterator[str]:
    """Names of the exceptions ``raise`` statements below ``node`` raise, not inside nested functions or the body
    of a ``try`` (its handlers re-raise: they count)."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, _SCOPES):
            continue
        if isinstance(child, ast.Try):
            for stmt in child.body:
                yield from _raised(ast.Module([stmt], []), True)
            for part in (*child.handlers, *child.orelse, *child.finalbody):
                yield from _raised(ast.Module([part], []), in_try)
            continue
        if isinstance(child, ast.Raise) and child.exc is not None and not in_try:
            exc = child.exc.func if isinstance(child.exc, ast.Call) else child.exc
            name = ast.unparse(exc).rsplit(".", 1)[-1]
            if name[:1].isupper():
                yield name
        yield from _raised(child, in_try)


def _public(body: list[ast.stmt], owner: str = "") -> Iterator[tuple[str, ast.FunctionDef]]:
    for node in body:
        if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            yield from _public(node.body, f"{node.name}.")
        elif isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
            yield owner + node.name, node


def test_public_functions_name_what_they_raise() -> None:
    missing = []
    for path in sorted(SRC.rglob("*.py")):
        if "cli" in path.relative_to(SRC).parts:
            continue
        for name, fn in _public(ast.parse(path.read_text(encoding="utf-8")).body):
            doc = ast.get_docstring(fn) or ""
            unnamed = sorted({e for e in _raised(fn) if e not in doc})
            if unnamed:
                missing.append(f"{path.relative_to(SRC)}: {name} raises {', '.join(unnamed)}")
    assert missing == []


def test_the_check_sees_a_raise_and_not_one_a_try_catches() -> None:
    tree = ast.parse("def f(x):\n    '''Doc.'''\n    if x:\n        raise ValueError(x)\n    try:\n"
                     "        raise KeyError(x)\n    except KeyError as e:\n        raise TypeError(x) from e\n")
    assert sorted(_raised(tree.body[0])) == ["TypeError", "ValueError"]
