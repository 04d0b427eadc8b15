"""binary-missing under IIS Express: a global module missing stops iisexpress.exe, as global-module-arch says (no WAS,
rapid-fail protection or HTTP 503; review round 11, finding 5); IIS Express's own modules absent from a copy of its
install folder are one "copy may be partial" warning, not an error each (finding 6)."""

from __future__ import annotations

from pathlib import Path

from tests.iisexpress.solution import CLASSIC, classic_solution, run, scan_json
from tests.iisexpress.test_iisexpress import _machine_with


def _scan(tmp_path: Path) -> dict[str, object]:
    """The classic solution on a drive C: whose 32-bit IIS Express folder holds iisfcgi.dll alone, with a vendor's
    global module %IIS_BIN%\\vendmod.dll in the 64-bit folder only."""
    sol = classic_solution(tmp_path / "sol", use64="")
    machine = _machine_with(tmp_path, {"iisfcgi.dll": "module_x86.dll"}, {"vendmod.dll": "module_x64.dll"})
    cfg = sol / ".vs" / CLASSIC / "config" / "applicationhost.config"
    text = cfg.read_text(encoding="utf-8")
    at = text.index('<add name="UriCacheModule"')
    cfg.write_text(text[:at] + '<add name="VendorModule" image="%IIS_BIN%\\vendmod.dll" />\n            ' + text[at:],
                   encoding="utf-8")
    return scan_json(sol, "--drive", f"C={machine}")[1]


def test_a_missing_global_module_stops_iisexpress_not_a_pool(tmp_path: Path) -> None:
    doc = _scan(tmp_path)
    findings: list[dict[str, str]] = doc["findings"]  # type: ignore[assignment]
    [f] = [f for f in findings if f["rule"] == "binary-missing" and f["binary"] == "%IIS_BIN%\\vendmod.dll"]
    assert f["process"] == "iisexpress.exe" and f["severity"] == "error"
    assert "x86 iisexpress.exe does not start" in f["symptom"] and "F5 fails" in f["symptom"], f["symptom"]
    assert not any(w in f["symptom"] for w in ("2280", "rapid-fail", "503", "pool")), f["symptom"]


def test_iis_express_s_own_modules_missing_from_a_copy_of_its_folder_are_one_partial_copy_warning(tmp_path: Path) -> None:
    """A copy of Program Files (x86)\\IIS Express with one DLL made each of IIS Express's own modules an error
    "missing on the server" (35 errors); they are one "copy may be partial" warning, not checked."""
    doc = _scan(tmp_path)
    findings: list[dict[str, str]] = doc["findings"]  # type: ignore[assignment]
    errors = [f["binary"] for f in findings if f["rule"] == "binary-missing" and f["severity"] == "error"]
    assert errors == ["%IIS_BIN%\\vendmod.dll"], errors
    [partial] = [f for f in findings if f["rule"] == "binary-missing" and f["severity"] == "warning"]
    assert "IIS Express's own modules: the copy may be partial" in partial["binary"]
    assert "cachuri.dll" in partial["binary"] and "authanon.dll" in partial["binary"]


def test_the_closing_line_counts_the_partial_copy_warning_in_the_project_not_as_a_process_outside(
        tmp_path: Path) -> None:
    """The partial-copy warning has no pool; the closing line said "in 1 project, iisexpress.exe" as if it were a
    process outside the projects."""
    _scan(tmp_path)
    text = run(tmp_path / "sol", "--drive", f"C={tmp_path / 'c'}", "--no-color").output
    [closing] = [p for p in text.split("\n\n") if "finding" in p and "verified fix" in p]
    closing = " ".join(closing.split())
    assert " in 1 project;" in closing and "iisexpress.exe" not in closing, closing
