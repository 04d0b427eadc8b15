"""Two ASP.NET Core projects of a solution, each in a 32-bit iisexpress.exe with an x64 build: each fix's
``dotnet publish`` line names its own project (the same line for both published whichever project the folder held)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import fixes_of
from tests.iisexpress.solution import CORE, core_solution, scan_json, second_core_project


def test_each_publish_line_names_its_project(tmp_path: Path) -> None:
    sol = core_solution(tmp_path, use64=False)
    second_core_project(sol, "BankTech_API_V2")
    lines: dict[str, tuple[list[str], list[str], str]] = {}
    _, doc = scan_json(sol)
    for f in doc["findings"]:  # type: ignore[attr-defined]
        for fix in fixes_of(doc, f):
            if any("dotnet publish" in c for c in fix["commands"]):
                lines[f["process_site"]] = (fix["commands"], fix["powershell"], fix["note"])
    v1, v2 = lines[CORE], lines["BankTech_API_V2"]
    assert v1[0] == [f'dotnet publish "{CORE}\\{CORE}.csproj" -c Release -r win-x86 --self-contained'], v1
    assert v2[0] == ['dotnet publish "BankTech_API_V2\\BankTech_API_V2.csproj" -c Release -r win-x86 --self-contained']
    assert v1[1] == [f"dotnet publish '{CORE}\\{CORE}.csproj' -c Release -r win-x86 --self-contained"], v1
    assert "Run it from the solution folder" in v1[2]
