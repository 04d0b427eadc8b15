"""``DOTNET_RUNTIME_ID`` in a worker: the .NET 8+ host matches a library's ``runtimeTargets`` against it before its
own runtime identifiers (dotnet/runtime hostpolicy ``deps_format.cpp`` ``try_get_matching_rid``; "DOTNET_RUNTIME_ID:
Overrides the detected RID", learn.microsoft.com dotnet-environment-variables). Set by the app's ``aspNetCore``
``environmentVariables`` (ANCM sets them on the worker before it loads the host) or by its pool's (IIS 10), it was not
read: a 64-bit pool told to take ``win-x86`` assets was judged on its ``win-x64`` copy (no finding), and the x86 copy
it loads was missed. Real fixtures nativelib_x86 / nativelib_x64."""

from __future__ import annotations

from pathlib import Path

from iisbitness.findings import Severity
from tests.aspnetcore.image import rules_of, run
from tests.aspnetcore.test_app_dependencies import POOL32, POOL64, _partly
from tests.aspnetcore.test_app_native_assets import _portable

APPHOST = "Windows/System32/inetsrv/config/applicationHost.config"
VARIABLE = '<environmentVariables><environmentVariable name="DOTNET_RUNTIME_ID" value="{rid}" /></environmentVariables>'


def _in_web_config(root: Path, rid: str) -> None:
    web = root / "inetpub/shop/web.config"
    text = web.read_text()
    web.write_text(text.replace('hostingModel="inprocess" />',
                                f'hostingModel="inprocess">{VARIABLE.format(rid=rid)}</aspNetCore>'))


def _in_pool(root: Path, attrs: str, rid: str) -> None:
    conf = root / APPHOST
    text = conf.read_text()
    conf.write_text(text.replace(f'<add name="Core" {attrs} />', f'<add name="Core" {attrs}><environmentVariables>'
                                 f'<add name="DOTNET_RUNTIME_ID" value="{rid}" /></environmentVariables></add>'))


def test_dotnet_runtime_id_win_x86_in_the_app_s_web_config_makes_a_64_bit_worker_load_the_x86_copy(
        tmp_path: Path) -> None:
    _portable(tmp_path, POOL64, "nativelib_x86.dll", "nativelib_x64.dll")
    _in_web_config(tmp_path, "win-x86")
    report = run(tmp_path)
    assert rules_of(report) == [("aspnetcore-inprocess-arch", "S1")] and _partly(report) == []
    [f] = report.findings
    assert f.severity is Severity.WARNING and "\\runtimes\\win-x86\\native\\e_sqlite3.dll" in (f.binary or "")
    assert "DOTNET_RUNTIME_ID=win-x86, set in the aspNetCore element's environmentVariables" in f.cause
    assert "inetpub/shop/web.config:" in f.cause
    assert f.fixes[-1].summary.startswith("Remove DOTNET_RUNTIME_ID=win-x86 from the aspNetCore element's")
    assert f.fixes[-1].summary.endswith("(or set it to win-x64)")


def test_dotnet_runtime_id_in_the_pool_s_environment_variables(tmp_path: Path) -> None:
    _portable(tmp_path, POOL64, "nativelib_x86.dll", "nativelib_x64.dll")
    _in_pool(tmp_path, POOL64, "win-x86")
    [f] = run(tmp_path).findings
    assert "\\runtimes\\win-x86\\native\\" in (f.binary or "")
    assert "set in application pool 'Core' environmentVariables" in f.cause


def test_the_app_s_value_wins_over_the_pool_s(tmp_path: Path) -> None:
    """ANCM sets the aspNetCore element's variables on the worker after IIS started it with the pool's."""
    _portable(tmp_path, POOL64, "nativelib_x86.dll", "nativelib_x64.dll")
    _in_pool(tmp_path, POOL64, "win-x86")
    _in_web_config(tmp_path, "win-x64")
    assert rules_of(run(tmp_path)) == []


def test_a_runtime_id_the_library_lacks_leaves_the_host_s_own_choice(tmp_path: Path) -> None:
    """try_get_matching_rid takes DOTNET_RUNTIME_ID only where the library lists assets for it."""
    _portable(tmp_path, POOL32, "nativelib_x86.dll", "nativelib_x64.dll")
    _in_web_config(tmp_path, "win-arm64")
    assert rules_of(run(tmp_path)) == []
