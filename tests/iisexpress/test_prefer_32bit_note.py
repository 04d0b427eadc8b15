"""The IIS Express platform-target fix said ""Prefer 32-bit" has no effect on a DLL", beside a finding that the DLL
in bin is x86-only because it carries 32BITPREFERRED: a DLL that carries the flag loads in 32-bit processes only
(facts I6, CorFlags documentation); "Prefer 32-bit" is meant for executables (/platform, C# Compiler Options; F4.2).
The fix says so, and for such a DLL asks for <Prefer32Bit>false</Prefer32Bit> too."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import fixes_of
from tests.iisexpress.solution import classic_solution, scan_json


@pytest.mark.parametrize(("fixture_dll", "prefers"), [("managed_anycpu32bitpreferred.dll", True),
                                                      ("managed_x86.dll", False)])
def test_the_platform_target_fix_never_says_prefer_32bit_has_no_effect_on_a_dll(tmp_path: Path, fixture_dll: str,
                                                                                 prefers: bool) -> None:
    sol = classic_solution(tmp_path / "sol", use64="true", bin_files={"Vendor.Lib.dll": fixture_dll})
    _, doc = scan_json(sol, "--fail-on", "never")
    [f] = [f for f in doc["findings"] if f["rule"] == "managed-assembly-arch"]
    [build] = [x for x in fixes_of(doc, f) if x["label"] == "build it as AnyCPU"]
    note = build["note"]
    assert "no effect" not in note
    assert "loads in 32-bit processes only" in note and "facts I6" in note
    assert ("<Prefer32Bit>false</Prefer32Bit>" in build["summary"]) is prefers
    assert ("This DLL carries it" in note) is prefers
