"""The cmd.exe lines that start the pools a global module stopped, on a shared-hosting server: every pool cmd.exe can
name is started, each line under cmd.exe's 8,191 characters, and a name it cannot take ('%') is counted in a ``rem``
line instead of dropping the start of all the others. Lines are checked with test_paste's cmd.exe model."""

from __future__ import annotations

from pathlib import Path

from iisbitness.api import ScanOptions, scan
from iisbitness.fixes.commands import CMD_LINE_MAX, global_module_precondition
from tests.conftest import apphost, make_image, site
from tests.fix.test_paste import cmd_lines

APPCMD_START = ["C:\\Windows\\system32\\inetsrv\\appcmd.exe", "start", "apppool"]


def _started(commands: tuple[str, ...]) -> list[str]:
    """The pools the cmd.exe ``commands`` start, as appcmd gets their names."""
    out = []
    for line in commands:
        if line.startswith("rem "):
            continue
        for argv in cmd_lines(line):
            if argv[:3] == APPCMD_START:
                out.append(argv[3].removeprefix("/apppool.name:"))
    return out


def test_a_name_with_percent_leaves_the_other_pools_started(tmp_path: Path) -> None:
    names = [f"client{i:02d}.example" for i in range(11)] + ["50% Off"]
    pools = "\n".join(f'<add name="{n}" enable32BitAppOnWin64="false" />' for n in names)
    sites = "\n".join(site(f"Site{i}", i + 1, n, rf"C:\sites\s{i}") for i, n in enumerate(names))
    modules = '<globalModules><add name="Vendor" image="C:\\Vendor\\m.dll" /></globalModules>'
    files: dict[str, str | Path | bytes] = {"Vendor/m.dll": "module_x86.dll"}
    files.update({f"sites/s{i}/default.htm": "hello" for i in range(len(names))})
    report = scan(make_image(tmp_path / "img", apphost(pools, sites, modules), files), ScanOptions())
    fix = next(x for f in report.findings if f.rule == "global-module-arch" for x in f.fixes
               if x.summary.startswith("Load global module"))
    assert sorted(_started(fix.commands)) == sorted(names[:-1])
    assert fix.commands[-1].startswith("rem Not written: 1 of these 12 pools has a name holding '%'")
    assert "'50% Off'" in fix.powershell[-1], "PowerShell starts it"


def test_five_hundred_hosting_pools_start_in_lines_cmd_exe_takes() -> None:
    names = tuple(f"www.customer-domain-number-{i:03d}.com" for i in range(500))
    fix = global_module_precondition("Vendor", "bitness32", names)
    starts = [c for c in fix.commands if c.startswith("for %p")]
    assert len(starts) > 1
    assert all(len(c) + 256 <= CMD_LINE_MAX for c in starts)
    assert _started(fix.commands) == list(names), "every pool, once, in order"
    assert not any(c.startswith("rem ") for c in fix.commands)


def test_a_wildcard_is_never_in_a_for_set() -> None:
    """``for`` reads ``*`` and ``?`` in its set as file patterns (IIS refuses them in a pool name, but a configuration
    IIS refuses is still reported with its fixes)."""
    fix = global_module_precondition("Vendor", "bitness32", ("A", "B?", "C"))
    assert _started(fix.commands) == ["A", "C"]
    assert fix.commands[-1].startswith("rem Not written: 1 of these 3 pools has a name holding '?'")
