"""What an IIS Express report says without a source is said as such (review round 12, express5): the hr of a module
DLL not found, the two modules counted as IIS Express's own from its template alone; and the in-process rule's
IIS Express branch holds no ``assert`` (``python -O`` strips them)."""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

from tests.iisexpress.test_missing_global_module import _scan


def test_the_hr_of_a_module_not_found_is_said_inferred_not_quoted_as_seen(tmp_path: Path) -> None:
    """The symptom quoted "Failed processing with hr = 8007007e" as iisexpress.exe's console line; no report of that
    line was found (the documented one is hr = 800700c1, a module of the other architecture): it is said inferred."""
    findings: list[dict[str, str]] = _scan(tmp_path)["findings"]  # type: ignore[assignment]
    [f] = [f for f in findings if f["rule"] == "binary-missing" and f["binary"] == "%IIS_BIN%\\vendmod.dll"]
    symptom = " ".join(f["symptom"].split())
    assert "hr = 8007007e ..." not in symptom and '"Failed processing with hr = 8007007e' not in symptom, symptom
    assert "hr = 800700c1" in symptom and "inferred, not seen: 8007007e" in symptom, symptom
    assert "x86 iisexpress.exe does not start" in symptom, symptom


def test_rewrite_and_webmatrixsup_are_said_to_rest_on_the_template(tmp_path: Path) -> None:
    """rewrite.dll and webmatrixsup.dll absent from a copy of IIS Express's folder join the partial-copy warning on the
    strength of the template configuration (a real IIS Express 8 per-user config names them) alone: the cause says
    so; the other names, IIS's own modules, get no such sentence."""
    findings: list[dict[str, str]] = _scan(tmp_path)["findings"]  # type: ignore[assignment]
    [partial] = [f for f in findings if f["rule"] == "binary-missing" and f["severity"] == "warning"]
    assert "rewrite.dll" in partial["binary"] and "webmatrixsup.dll" in partial["binary"], partial["binary"]
    cause = " ".join(partial["cause"].split())
    assert ("rewrite.dll and webmatrixsup.dll are counted as IIS Express's own only because its template "
            "configuration names them under %IIS_BIN%") in cause, cause
    assert "no Microsoft document lists the files IIS Express installs" in cause, cause
    assert "cachuri.dll" not in cause.split("only because")[0].rsplit(".", 1)[-1]


def test_the_in_process_rule_uses_no_assert() -> None:
    """aspnetcore-multiple-inprocess found the site's iisexpress.exe and the pool behind ``assert``s, which ``python
    -O`` strips (a None then reached the finding as its process or pool); they are looked up, never asserted."""
    tree = ast.parse(inspect.getsource(importlib.import_module("iisbitness.rules.aspnetcore_multiple_inprocess")))
    asserts = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Assert)]
    assert asserts == [], f"assert statements at lines {asserts}"
