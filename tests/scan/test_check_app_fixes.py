"""check-app's fixes speak of the build as given, offer only builds that exist, and the target pool's real setting.

Real fixtures (tests/fixtures/pe/bin): mixed_x86_marker.dll (managed_x86.dll with ILONLY clear: mixed-mode, no AnyCPU
build exists), SsoClient.dll (AnyCPU) referencing the strong-named Contoso.Sso (gac_sso_x86.dll, x86), ManagedApp64.dll
(AnyCPU) referencing managed_x64 (x64), each in a temporary build folder.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from iisbitness.cli import main
from tests.conftest import fixture


def _check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, str], arch: str
           ) -> tuple[str, dict[str, Any]]:
    for dest, name in files.items():
        (tmp_path / "app" / "bin").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(fixture(name), tmp_path / "app" / "bin" / dest)
    monkeypatch.chdir(tmp_path)
    args = ["check-app", "app", "--pool-arch", arch, "--runtime", "v4.0"]
    text = CliRunner().invoke(main, args).output
    doc = json.loads(CliRunner().invoke(main, [*args, "--format", "json"]).stdout)
    return text, doc


def _summaries(doc: dict[str, Any], binary: str) -> list[str]:
    [f] = [f for f in doc["findings"] if f["rule"] == "managed-assembly-arch" and f["binary"].endswith(binary)]
    return [doc["fixes"][n - 1]["summary"] for n in f["fix_numbers"]]


def test_a_mixed_mode_assembly_is_named_as_given_and_gets_no_anycpu_build(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: 'Install the x64 build of 'Mixed.dll' ... in P:\\app\\bin' (an internal drive) in text and JSON, and
    'Build Mixed.dll: <PlatformTarget>AnyCPU' though C++/CLI has no AnyCPU build."""
    text, doc = _check(tmp_path, monkeypatch, {"Mixed.dll": "mixed_x86_marker.dll"}, "x64")
    assert "P:" not in text and "P:" not in json.dumps(doc)
    summaries = _summaries(doc, "Mixed.dll")
    assert "Install the x64 build of 'Mixed.dll' (e.g. the vendor's x64 package) in app/bin" in summaries
    assert not [s for s in summaries if "AnyCPU" in s]


def test_an_anycpu_assembly_failing_through_its_dependency_gets_no_build_of_its_own(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: 'Build SsoClient.dll: <PlatformTarget>AnyCPU' for an assembly already AnyCPU."""
    _, doc = _check(tmp_path, monkeypatch, {"SsoClient.dll": "SsoClient.dll", "Contoso.Sso.dll": "gac_sso_x86.dll"},
                    "x64")
    summaries = _summaries(doc, "SsoClient.dll")
    assert not [s for s in summaries if "SsoClient" in s]
    assert 'corflags "app/bin/Contoso.Sso.dll" /32BITREQ- /Force' in [
        c for x in doc["fixes"] for c in x["commands"]]
    assert any(s.startswith("Build 'Contoso.Sso.dll' for the pool") for s in _summaries(doc, "Contoso.Sso.dll"))


def test_on_arm64_an_x64_need_is_an_emulated_x64_pool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: 'a pool that runs as 64-bit (x64): enable32BitAppOnWin64="false"', which an ARM64 pool already has."""
    text, doc = _check(tmp_path, monkeypatch, {"ManagedApp64.dll": "ManagedApp64.dll",
                                               "managed_x64.dll": "managed_x64.dll"}, "arm64")
    [pool] = {s for s in _summaries(doc, "ManagedApp64.dll") if s.startswith("Or deploy")}
    assert pool == ("Or deploy to a pool that runs as 64-bit (x64, emulated): enable32BitAppOnWin64=\"false\" and "
                    "enableEmulationOnWinArm64=\"true\" on the server's pool (not a setting of the build)")
    assert "or an emulated x64 target pool" in text
