"""HTML "What to do first" never leads with a fix that takes a security module out of pools while another fix of the
cause keeps it (README: such a fix is ranked after the fixes that keep it; `fix` takes it only by number), even when
that fix is the only verified one: a shared-hosting server whose pool flips are not verified (a vendor module a 32-bit
worker looks for in a SysWOW64 the copy lacks) led with "preCondition=bitness32: 250 pools then run without
FabrikamAuth"."""

from __future__ import annotations

from pathlib import Path

from iisbitness.api import ScanOptions, scan
from iisbitness.arch import Arch
from iisbitness.formats import scan_html
from iisbitness.formats.causes import view
from tests.conftest import apphost, make_image, site


def test_the_security_module_removal_is_not_the_first_step(tmp_path: Path) -> None:
    pools = "\n".join(f'<add name="Pool{i}" enable32BitAppOnWin64="false" />' for i in range(3))
    sites = "\n".join(site(f"Site{i}", i + 1, f"Pool{i}", rf"C:\sites\s{i}") for i in range(3))
    modules = ('<globalModules><add name="RewriteModule" image="%SystemRoot%\\system32\\inetsrv\\rewrite.dll" />'
               '<add name="FabrikamAuth" image="C:\\Program Files (x86)\\Fabrikam\\auth.dll" /></globalModules>')
    files: dict[str, str | Path | bytes] = {"Windows/System32/inetsrv/rewrite.dll": "module_x64.dll",
                                            "Program Files (x86)/Fabrikam/auth.dll": "module_x86.dll"}
    files.update({f"sites/s{i}/default.htm": "hello" for i in range(3)})
    report = scan(make_image(tmp_path / "img", apphost(pools, sites, modules), files, wow64=False),
                  ScanOptions(os_arch=Arch.X64))
    v = view(report)
    cause = next(c for c in v.causes if c.first.rule == "global-module-arch")
    removal = [n for n in cause.fixes if v.fix(n).removes_security]
    assert removal and v.fix(removal[0]).verified, "the case: the only verified fix takes FabrikamAuth out"
    assert not any(v.fix(n).verified for n in cause.fixes if n not in removal)
    steps = scan_html.first_steps(v)
    step = next(s for s in steps if v.causes.index(cause) + 1 in s.causes)
    assert not any(v.fix(n).removes_security for n in step.numbers)
    assert v.fix(step.numbers[0]).label == "run the pool as 32-bit"
