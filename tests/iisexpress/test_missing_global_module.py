"""binary-missing for a global module under IIS Express: the process does not start, as global-module-arch says; no
WAS, rapid-fail protection or HTTP 503 (review round 11, finding 5)."""

from __future__ import annotations

from pathlib import Path

from tests.iisexpress.solution import classic_solution, scan_json
from tests.iisexpress.test_iisexpress import _machine_with


def test_a_missing_global_module_stops_iisexpress_not_a_pool(tmp_path: Path) -> None:
    """cachuri.dll only in the 64-bit IIS Express folder: the 32-bit iisexpress.exe does not start."""
    sol = classic_solution(tmp_path / "sol", use64="")
    machine = _machine_with(tmp_path, {"iisfcgi.dll": "module_x86.dll"}, {"cachuri.dll": "module_x64.dll"})
    _, doc = scan_json(sol, "--drive", f"C={machine}")
    [f] = [f for f in doc["findings"] if f["rule"] == "binary-missing" and f["binary"] == "%IIS_BIN%\\cachuri.dll"]
    assert f["process"] == "iisexpress.exe"
    assert "x86 iisexpress.exe does not start" in f["symptom"] and "F5 fails" in f["symptom"], f["symptom"]
    assert not any(w in f["symptom"] for w in ("2280", "rapid-fail", "503", "pool")), f["symptom"]
