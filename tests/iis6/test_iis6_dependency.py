"""IIS 6: managed-assembly-arch on an AnyCPU bin assembly that needs a single-architecture one (the rule is shared
with IIS 7+): the remedy is on the dependency, by its kind, besides the server-wide switch (worker process isolation
mode) or leaving IIS 5 isolation mode (aspnet_wp.exe). Real mcs fixtures, metabases shaped as the demo's."""

from __future__ import annotations

from pathlib import Path

from iisbitness.api import scan

from .test_iis6_bin import FW64, SWITCH_32, bin_findings, server


def test_worker_isolation_anycpu_needing_x86_gets_the_switch_and_corflags_on_the_dependency(tmp_path: Path) -> None:
    r = scan(server(tmp_path, FW64, False, "", {"inetpub/wwwroot/bin/ManagedApp.dll": "ManagedApp.dll",
                                                "inetpub/wwwroot/bin/managed_x86.dll": "managed_x86.dll"}))
    [f] = [f for f in bin_findings(r) if f.binary and f.binary.endswith("ManagedApp.dll")]
    switch, remedy = f.fixes
    assert switch.commands[0] == SWITCH_32 and switch.verified is True
    assert remedy.commands == ('corflags "c:\\inetpub\\wwwroot\\bin\\managed_x86.dll" /32BITREQ-',)
    assert "'managed_x86.dll' in the same bin folder, which 'ManagedApp.dll' needs" in f.cause
    assert "server-wide by Enable32bitAppOnWin64" in f.cause


def test_iis5_isolation_mixed_mode_dependency_gets_its_build_never_corflags(tmp_path: Path) -> None:
    r = scan(server(tmp_path, FW64, True, "", {"inetpub/wwwroot/bin/ManagedApp.dll": "ManagedApp.dll",
                                               "inetpub/wwwroot/bin/managed_x86.dll": "mixed_x86_marker.dll"},
                    iis5=True))
    [f] = [f for f in bin_findings(r) if f.binary and f.binary.endswith("ManagedApp.dll")]
    assert f.process == "aspnet_wp.exe"
    isolation, remedy = f.fixes
    assert isolation.commands[0].endswith("adsutil.vbs SET W3SVC/IIs5IsolationModeEnabled 0")
    assert remedy.commands == () and remedy.label == "the x64 build of the x86 DLL"
    assert remedy.summary.endswith("in c:\\inetpub\\wwwroot\\bin")
