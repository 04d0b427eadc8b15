"""IIS 6, worker process isolation mode: a pool whose applications load nothing of ours (static files, no script map,
no filter) still has a w3wp.exe, which the server-wide switch runs at the other bitness with the rest (facts G4). The
switch's side effects name that pool and its applications (they named only the pools that loaded something), and an
application of it the scan did not read makes the switch "not verified" as for any other pool's."""

from __future__ import annotations

from pathlib import Path

from iisbitness.api import scan
from iisbitness.arch import Arch
from iisbitness.findings import EffectKind, Fix

from .test_iis6 import image, metabase
from .test_iis6_bin import app, pool

WC = 'ScriptMaps=".wc,c:\\inetpub\\wconnect\\wc.dll,1,GET,HEAD,POST"'


def _switch(tmp_path: Path, static_read: bool) -> Fix:
    """DefaultAppPool serves /wconnect, whose x86-only wc.dll fails in the 64-bit workers (the switch to 32-bit is its
    fix); pool Static serves /static, static files only; ``static_read``: its folder is in the image."""
    body = "\n".join([app("wconnect", maps=WC), pool("Static"), app("static", pool="Static")])
    img = image(tmp_path, metabase('IIs5IsolationModeEnabled="FALSE"', 'Enable32BitAppOnWin64="FALSE"', body),
                {"inetpub/wconnect/wc.dll": "isapi_ext_x86.dll"})
    for folder in ("wwwroot", "static") if static_read else ("wwwroot",):
        (img / "inetpub" / folder).mkdir(parents=True)
        (img / "inetpub" / folder / "index.htm").write_text("hi", encoding="utf-8")
    [finding] = scan(img).findings
    assert finding.rule == "iis6-extension-arch"
    return finding.fixes[0]


def test_the_switch_runs_a_static_pools_worker_at_the_other_bitness_and_says_so(tmp_path: Path) -> None:
    switch = _switch(tmp_path, static_read=True)
    assert switch.summary.startswith("Run every IIS 6 worker process as 32-bit") and switch.verified is True
    assert [(e.kind, e.pool, e.before, e.after, e.applications) for e in switch.side_effects] == [
        (EffectKind.ARCH, "DefaultAppPool", Arch.X64, Arch.X86, ("Default Web Site/", "Default Web Site/wconnect")),
        (EffectKind.ARCH, "Static", Arch.X64, Arch.X86, ("Default Web Site/static",))]


def test_an_unread_application_of_a_static_pool_leaves_the_switch_unverified(tmp_path: Path) -> None:
    switch = _switch(tmp_path, static_read=False)
    assert switch.verified is False
    assert switch.note is not None and "Not verified: Default Web Site/static (" in switch.note
