"""iisbitness fix: the plan on the demo images, byte-exact writes, the split-pool plan, the
changed-file refusal, and the live pool actions (with a fake appcmd)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from iisbitness.api import scan
from iisbitness.arch import Arch
from iisbitness.config.apphost import read_server
from iisbitness.errors import FixError
from iisbitness.formats.causes import view
from iisbitness.image.server_image import ServerImage
from iisbitness.model.edits import MoveToNewPool
from iisbitness.scan.fix import FixPlan, apply_fix, plan_fix, pool_actions
from tests.conftest import DEMO, apphost, make_image, site

APPHOST = "Windows/System32/inetsrv/config/applicationHost.config"
METABASE = "Windows/System32/inetsrv/MetaBase.xml"


def _copy(name: str, tmp_path: Path) -> Path:
    img = tmp_path / name
    shutil.copytree(DEMO / name, img)
    return img


def _fixable_keys(img: Path) -> set[tuple[str, ...]]:
    return {f.key for f in scan(img).findings if any(x.verified is True and x.edits for x in f.fixes)}


def _vendor_auth_only(img: Path, options: object = None) -> set[tuple[str, ...]]:
    """The findings whose every verified fix takes the security module FabrikamVendorAuth out of a pool (``fix``
    takes such a fix only by ``--fix N``)."""
    report = scan(img, options) if options is not None else scan(img)  # type: ignore[arg-type]
    return {f.key for f in report.findings if (fixes := [x for x in f.fixes if x.verified is True and x.edits])
            and all(any(e.security and e.name == "FabrikamVendorAuth" for e in x.removes) for x in fixes)}


def _snapshot(img: Path) -> dict[str, bytes]:
    return {p.relative_to(img).as_posix(): p.read_bytes() for p in sorted(img.rglob("*")) if p.is_file()}


def test_apply_on_demo_clears_every_fixable_finding_and_changes_only_the_intended_bytes(tmp_path: Path) -> None:
    img = _copy("contoso-iis10", tmp_path)
    before = _snapshot(img)
    assert _fixable_keys(img)
    plan = plan_fix(img)
    written = apply_fix(plan, stamp="20260101T000000Z")
    # NOTE: IntranetPool's only verified fix takes the security module FabrikamVendorAuth out of pools: left for
    # --fix N, so its sites are not served without it unasked
    assert _fixable_keys(img) == _vendor_auth_only(img) != set()
    assert [w.shown for w in written] == [APPHOST]
    after = _snapshot(img)
    backup = APPHOST + ".iisbitness-20260101T000000Z.bak"
    assert set(after) == set(before) | {backup}
    assert after[backup] == before[APPHOST]
    assert {k for k in before if after[k] != before[k]} == {APPHOST}
    expected = before[APPHOST]
    for old, new in [
        (b'<add name="DefaultAppPool" />', b'<add name="DefaultAppPool" enable32BitAppOnWin64="true" />'),
        (b'<add name="WebConnection64" enable32BitAppOnWin64="false"',
         b'<add name="WebConnection64" enable32BitAppOnWin64="true"'),
        (b'<add name="IntranetPool" managedRuntimeVersion="v4.0" />',
         (b'<add name="IntranetPool" managedRuntimeVersion="v4.0" />\n            <add name="IntranetPool (x86)" '
         b'managedRuntimeVersion="v4.0" enable32BitAppOnWin64="true" />')),  # NOTE: a copy of what IntranetPool stores
        (b'<add name="PhpPool" managedRuntimeVersion="" />',
         b'<add name="PhpPool" managedRuntimeVersion="" enable32BitAppOnWin64="true" />'),
        (b'<add name="StorefrontCore" managedRuntimeVersion="" />',
         b'<add name="StorefrontCore" managedRuntimeVersion="" enable32BitAppOnWin64="true" />'),
        (b'<add name="CatalogPool" managedRuntimeVersion="v4.0" />',
         b'<add name="CatalogPool" managedRuntimeVersion="v4.0" enable32BitAppOnWin64="true" />'),
        (b'<add name="OrdersAsp" managedRuntimeVersion="" />',
         b'<add name="OrdersAsp" managedRuntimeVersion="" enable32BitAppOnWin64="true" />'),
        (b'<application path="/timesheets" applicationPool="IntranetPool">',
         b'<application path="/timesheets" applicationPool="IntranetPool (x86)">'),
    ]:
        assert expected.count(old) == 1, old
        expected = expected.replace(old, new)
    assert after[APPHOST] == expected


def test_second_fix_plans_nothing(tmp_path: Path) -> None:
    img = _copy("contoso-iis10", tmp_path)
    apply_fix(plan_fix(img), stamp="20260101T000000Z")
    again = plan_fix(img)
    assert again.changes == () and again.chosen == ()


def test_iis6_demo_apply_changes_only_metabase_values(tmp_path: Path) -> None:
    img = _copy("w2003-iis6", tmp_path)
    before = (img / METABASE).read_bytes()
    plan = plan_fix(img)
    # NOTE: one fix, the switch to 64-bit workers (it re-registers ASP.NET from Framework64 once IIS is in 64-bit
    # mode), clears the filter and the isolation findings; re-registering alone cannot run in 32-bit mode (G6)
    assert {c.finding.rule for c in plan.chosen} == {"iis6-filter-arch"}
    assert [c.fix.label for c in plan.chosen] == ["every worker as 64-bit"]
    apply_fix(plan, stamp="20260101T000000Z")
    assert _fixable_keys(img) == set()
    after = (img / METABASE).read_bytes()
    import difflib

    ops = difflib.SequenceMatcher(None, before.splitlines(), after.splitlines(), autojunk=False).get_opcodes()
    changed = [(before.splitlines()[i1:i2], after.splitlines()[j1:j2]) for tag, i1, i2, j1, j2 in ops if tag != "equal"]
    removed = [line for old, new in changed for line in old if line.replace(b"Framework\\", b"Framework64\\")
               not in new and b"Enable32BitAppOnWin64" not in line]
    # every changed line moves ASP.NET to Framework64 or turns WOW64 off; the denied Framework64 restriction entry is
    # allowed, and the 32-bit one kept as it was: a Framework64 path was written under its "(32-bit)" description,
    # the 64-bit entry deleted (audit8 G10; KB 894435 keeps both and allows the 64-bit one)
    entry64 = b"C:\\WINDOWS\\Microsoft.NET\\Framework64\\v2.0.50727\\aspnet_isapi.dll,0,ASP.NET v2.0.50727,ASP.NET v2.0.50727"
    assert removed == [b"\t\t\t0," + entry64]
    assert b"\t\t\t1," + entry64 + b"\n" in after
    entry32 = (b"\t\t\t1,C:\\WINDOWS\\Microsoft.NET\\Framework\\v2.0.50727\\aspnet_isapi.dll,0,ASP.NET v2.0.50727,"
               b"ASP.NET v2.0.50727 (32-bit)\n")
    assert entry32 in before and entry32 in after
    assert b"Framework64\\v2.0.50727\\aspnet_isapi.dll,0,ASP.NET v2.0.50727,ASP.NET v2.0.50727 (32-bit)" not in after
    assert b'Enable32BitAppOnWin64="FALSE"' in after


def test_split_pool_plan(tmp_path: Path) -> None:
    img = _copy("contoso-iis10", tmp_path)
    plan = plan_fix(img, rules=["pool-arch-conflict"])
    assert [type(e) for e in plan.edits] == [MoveToNewPool]
    move = plan.edits[0]
    assert isinstance(move, MoveToNewPool)
    assert move.apps == (("Intranet", "/timesheets"),) and move.like_pool == "IntranetPool"
    (change,) = plan.changes
    assert change.changes == (
        (f'after line 29: new pool, a copy of pool \'IntranetPool\': <add name="{move.new_pool}" '
         'managedRuntimeVersion="v4.0" enable32BitAppOnWin64="true" />'),
        f"line 64: application 'Intranet/timesheets': applicationPool=\"{move.new_pool}\"")
    apply_fix(plan, stamp="20260101T000000Z")
    report = scan(img)
    assert not [f for f in report.findings if f.rule == "pool-arch-conflict"]
    pools = {p.name: p for p in report.pools}
    assert pools[move.new_pool].worker_arch.value == "x86"
    assert pools[move.new_pool].applications == ("Intranet/timesheets",)
    assert pools["IntranetPool"].applications == ("Intranet/",)


def test_refuses_a_file_changed_since_it_was_read(tmp_path: Path) -> None:
    img = _copy("contoso-iis10", tmp_path)
    plan = plan_fix(img)
    cfg = img / APPHOST
    edited = cfg.read_bytes() + b"<!-- edited by someone else -->\n"
    cfg.write_bytes(edited)
    with pytest.raises(FixError, match="applicationHost.config: changed since it was read"):
        apply_fix(plan, stamp="20260101T000000Z")
    assert cfg.read_bytes() == edited
    assert sorted(p.name for p in cfg.parent.iterdir()) == ["applicationHost.config"]


def test_refuses_when_the_element_moved(tmp_path: Path) -> None:
    img = _copy("contoso-iis10", tmp_path)
    from iisbitness.scan import fix as fixmod

    real = fixmod.analysed

    def analyse_then_edit(*args: object, **kw: object) -> object:
        scanned = real(*args, **kw)  # type: ignore[arg-type]
        cfg = img / APPHOST
        data = cfg.read_bytes()
        cfg.write_bytes(data.replace(b"<configuration>", b"<configuration>\n", 1))  # the lines below move down
        return scanned

    fixmod.analysed = analyse_then_edit  # type: ignore[assignment]
    try:
        with pytest.raises(FixError, match="no single <add"):
            plan_fix(img)
    finally:
        fixmod.analysed = real


def test_pool_actions_start_a_stopped_pool_and_recycle_a_running_one(tmp_path: Path) -> None:
    img = _copy("contoso-iis10", tmp_path)
    plan = plan_fix(img, rules=["pool-arch-conflict", "com-inproc-arch"])
    ran: list[list[str]] = []
    states = {"OrdersAsp": "Stopped", "IntranetPool": "Started", "IntranetPool (x86)": "Stopped"}

    def run(args: list[str]) -> str:
        ran.append(args)
        return states[args[3]] + "\r\n" if args[1] == "list" else ""

    done = pool_actions(plan, run)
    assert [(c[1], c[3]) for c in done] == [("start", "IntranetPool (x86)"), ("recycle", "IntranetPool"),
                                            ("start", "OrdersAsp")]


def _plan_numbered(img: Path, summary: str) -> FixPlan:
    """The plan of the fix whose summary starts with ``summary``, taken by its number as ``fix --fix N`` takes it."""
    numbers = [n.number for n in view(scan(img)).fixes if n.fix.summary.startswith(summary)]
    assert len(numbers) == 1, numbers
    return plan_fix(img, fixes=numbers, numbering=lambda report: [n.fix for n in view(report).fixes])


def test_filter_precondition_in_a_site_web_config_with_crlf_and_bom(tmp_path: Path) -> None:
    pools = '<add name="P64" managedRuntimeVersion="v4.0" />'
    web = ('\ufeff<?xml version="1.0" encoding="utf-8"?>\r\n<configuration>\r\n  <!-- keep me -->\r\n'
           '  <system.webServer>\r\n    <isapiFilters>\r\n'
           '      <filter name="F"   path="C:\\F\\f.dll"/>\r\n'
           '    </isapiFilters>\r\n  </system.webServer>\r\n</configuration>\r\n')
    img = make_image(tmp_path, apphost(pools, site("S", 1, "P64", r"C:\s")),
                     {"F/f.dll": "filter_x86.dll", "s/web.config": web.encode("utf-8")})
    report = scan(img)
    assert [f.rule for f in report.findings] == ["isapi-filter-arch"]
    plan = _plan_numbered(img, "Load ISAPI filter 'F' only in workers it fits")
    (chosen,) = plan.chosen
    assert chosen.fix.summary.startswith("Load ISAPI filter 'F' only in workers it fits")
    apply_fix(plan, stamp="20260101T000000Z")
    after = (img / "s" / "web.config").read_bytes()
    assert after == web.replace('path="C:\\F\\f.dll"/>', 'path="C:\\F\\f.dll" preCondition="bitness32"/>').encode()
    assert scan(img).findings == ()


def test_cli_dry_run_writes_nothing_apply_writes_and_refusal_exits_3(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from iisbitness.cli import fix as cli_fix
    from iisbitness.cli import main

    img = _copy("contoso-iis10", tmp_path)
    before = _snapshot(img)
    r = CliRunner().invoke(main, ["fix", str(img)])
    assert r.exit_code == 0 and "Dry run: nothing written" in r.output
    assert "+            <add name=\"IntranetPool (x86)\"" in r.output and "appcmd.exe add apppool" in r.output
    assert _snapshot(img) == before
    assert CliRunner().invoke(main, ["fix", str(img), "--rule", "no-such-rule"]).exit_code == 2
    r = CliRunner().invoke(main, ["fix", str(img), "--finding", "99"])
    assert r.exit_code == 2 and "the scan has 16 findings" in r.output

    real = cli_fix.apply_fix

    def someone_else_edits_first(plan: object) -> object:
        (img / APPHOST).write_bytes(before[APPHOST] + b"\n")
        return real(plan)  # type: ignore[arg-type]

    monkeypatch.setattr(cli_fix, "apply_fix", someone_else_edits_first)
    r = CliRunner().invoke(main, ["fix", str(img), "--apply"])
    assert r.exit_code == 3 and "applicationHost.config: changed since it was read" in r.output
    monkeypatch.setattr(cli_fix, "apply_fix", real)
    r = CliRunner().invoke(main, ["fix", str(img), "--apply"])
    assert r.exit_code == 0 and "every targeted finding is gone" in r.output


def test_fixes_that_pass_alone_but_conflict_together_are_not_combined() -> None:
    from iisbitness.arch import Arch
    from iisbitness.findings import Finding, Fix, RuleId, Severity
    from iisbitness.fixes.verify import Analysis
    from iisbitness.loadplan.plan import Evidence, LoadPlan
    from iisbitness.model.edits import Edit, SetPoolArch
    from iisbitness.model.iis7 import Server
    from iisbitness.report import Report, ServerSummary
    from iisbitness.scan.fix import _choose

    def finding(pool: str, edit: SetPoolArch) -> Finding:
        return Finding(RuleId("managed-assembly-arch"), Severity.ERROR, Evidence.READ, pool, "S", "/", "w3wp.exe",
                       Arch.X64, f"C:\\{pool}.dll", None, (Arch.X86,), None, "s", "c",
                       fixes=(Fix("flip " + pool, "flip", edits=(edit,), verified=True),))

    e1, e2 = SetPoolArch("A", Arch.X86), SetPoolArch("B", Arch.X86)
    f1, f2 = finding("A", e1), finding("B", e2)
    broken = finding("C", SetPoolArch("C", Arch.X86))

    empty = LoadPlan(Server(Arch.X64, "test", "cfg", (), (), ()), ())

    class Reanalyses:
        """The model is the edits made; a re-analysis of some pools shows their findings only."""

        def start(self) -> tuple[Edit, ...]:
            return ()

        def edited(self, model: tuple[Edit, ...], edits: tuple[Edit, ...]) -> tuple[Edit, ...]:
            return model + edits

        def analyse(self, model: tuple[Edit, ...], pools: frozenset[str] | None) -> Analysis:
            left = [f for f, e in ((f1, e1), (f2, e2)) if e not in model]
            # NOTE: each alone is fine; both break C
            found = left + ([broken] if e1 in model and e2 in model else [])
            return Analysis([f for f in found if pools is None or (f.pool or "").lower() in pools], empty, empty)

    report = Report(ServerSummary("iis7+", "img", "cfg", Arch.X64, "test", False), (), (f1, f2), (), ())
    chosen, left, edits, outcome = _choose(report, [1, 2], Reanalyses())
    assert [c.number for c in chosen] == [1] and edits == (e1,)
    assert [(x.number, "conflicts" in x.reason) for x in left] == [(2, True)]
    assert outcome is not None and outcome.clears


def test_apply_on_arm64_sets_emulation_too(tmp_path: Path) -> None:
    from iisbitness.api import ScanOptions
    from iisbitness.arch import Arch

    img = _copy("contoso-iis10", tmp_path)
    options = ScanOptions(os_arch=Arch.ARM64)
    plan = plan_fix(img, options)
    assert 'line 26: pool \'DefaultAppPool\': enable32BitAppOnWin64="true", enableEmulationOnWinArm64="true"' \
        in plan.changes[0].changes
    apply_fix(plan, stamp="20260101T000000Z")
    fixable = {f.key for f in scan(img, options).findings if any(x.verified is True and x.edits for x in f.fixes)}
    assert fixable == _vendor_auth_only(img, options)


def test_multi_line_start_tags_are_numbered_by_their_first_line(tmp_path: Path) -> None:
    """A filter and a pool written over several lines (UTF-16, as Notepad saves): the finding and the pool flip
    name the line each start tag opens on, and the fix still finds and edits those elements."""
    pools = '<add name="P64"\n     managedRuntimeVersion="v4.0"\n     />'
    web = ('<?xml version="1.0" encoding="utf-16"?>\n<configuration>\n  <system.webServer>\n    <isapiFilters>\n'
           '      <filter name="F"\n              path="C:\\F\\f.dll"\n              />\n'
           '    </isapiFilters>\n  </system.webServer>\n</configuration>\n')
    text = apphost(pools, site("S", 1, "P64", r"C:\s"))
    img = make_image(tmp_path, text, {"F/f.dll": "filter_x86.dll", "s/web.config": web.encode("utf-16")})
    [finding] = scan(img).findings
    assert finding.config is not None and (finding.config.file, finding.config.line) == ("s/web.config", 5)
    [pool] = read_server(ServerImage.offline(img, {}), Arch.X64, "test").pools
    assert pool.source.line == text.splitlines().index('<add name="P64"') + 1
    # NOTE: the preCondition takes F out of P64's worker, where it never loaded (ran False): it takes nothing from the
    # site, so it is not ranked after the flip (verify._order); the flip is taken by its number
    restrict = plan_fix(img, rules=["isapi-filter-arch"])
    assert [c.changes for c in restrict.changes] == [("line 5: ISAPI filter 'F': preCondition=\"bitness32\"",)]
    flip = _plan_numbered(img, "Run application pool 'P64'")
    assert [c.changes for c in flip.changes] == [(f"line {pool.source.line}: pool 'P64': enable32BitAppOnWin64=\"true\"",)]
    plan = _plan_numbered(img, "Load ISAPI filter 'F' only in workers it fits")
    assert [c.changes for c in plan.changes] == [("line 5: ISAPI filter 'F': preCondition=\"bitness32\"",)]
    apply_fix(plan, stamp="20260101T000000Z")
    assert scan(img).findings == ()


def test_apply_on_a_utf16_apphost_without_a_bom(tmp_path: Path) -> None:
    """The demo's applicationHost.config saved as UTF-16 without a byte order mark: ``scan`` read it (the parser
    detects UTF-16 from its first bytes), but ``fix`` decoded it as UTF-8 and refused it ("cannot match the file's
    start tags to its elements"). Now the verified fixes apply, and the file stays UTF-16 LE without a mark."""
    img = _copy("contoso-iis10", tmp_path)
    path = img / APPHOST
    text = path.read_text(encoding="utf-8-sig").replace('encoding="UTF-8"', 'encoding="UTF-16"', 1)
    path.write_bytes(text.encode("utf-16-le"))
    fixable = _fixable_keys(img)
    assert fixable
    apply_fix(plan_fix(img), stamp="20260101T000000Z")
    assert _fixable_keys(img) == _vendor_auth_only(img) != fixable
    after = path.read_bytes()
    assert after.startswith('<?xml version="1.0" encoding="UTF-16"?>'.encode("utf-16-le"))
    assert after.decode("utf-16-le").replace("\r\n", "\n").count('enable32BitAppOnWin64="true"') > text.count(
        'enable32BitAppOnWin64="true"')


def test_a_pool_copied_after_a_pool_of_several_lines_is_said_to_follow_its_end_tag(tmp_path: Path) -> None:
    """Pool P spans lines 5 to 9 (its <environmentVariables>) and serves S/ (an x64-only assembly) and T/ (an
    x86-only one): the split's copy is inserted after P's </add> on line 9, and the plan said "after line 5"."""
    pools = ('            <add name="P" managedRuntimeVersion="v4.0">\n                <environmentVariables>\n'
             '                    <add name="A" value="1" />\n                </environmentVariables>\n            </add>')
    img = make_image(tmp_path, apphost(pools, site("S", 1, "P", r"C:\s") + site("T", 2, "P", r"C:\t")),
                     {"s/bin/A64.dll": "managed_x64.dll", "t/bin/B86.dll": "managed_x86.dll"})
    (change,) = plan_fix(img, rules=["pool-arch-conflict"]).changes
    assert change.before.decode().splitlines()[8].strip() == "</add>"
    assert change.after.decode().splitlines()[9].strip().startswith('<add name="P (x86)"')
    assert change.changes[0].startswith("after line 9: new pool, a copy of pool 'P': "), change.changes
