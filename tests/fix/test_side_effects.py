"""A fix's side effects are the load plans before and after it, compared per process (issue 20 §2), and what
verification and numbering mean whatever is shown (§3, §6)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from iisbitness.api import ScanOptions, scan
from iisbitness.cli import main
from iisbitness.findings import EffectKind
from iisbitness.fixes.effects import is_security
from iisbitness.formats import scan_html, scan_sarif, scan_text
from iisbitness.formats.causes import effect_lines, view
from iisbitness.loadplan.plan import LoadKind
from iisbitness.rules import RULES
from iisbitness.rules.global_module_arch import global_module_arch
from tests.conftest import DEMO, apphost, corpus_dir, make_image, site

VENDOR = "FabrikamVendorAuth"


def _precondition(report_findings: tuple, pool: str):  # type: ignore[no-untyped-def]
    f = next(f for f in report_findings if f.rule == "global-module-arch" and f.pool == pool)
    return f, next(x for x in f.fixes if x.label == 'preCondition="bitness32"')


def test_demo_precondition_takes_the_vendor_module_out_of_seven_pools_and_ranks_last() -> None:
    report = scan(DEMO / "contoso-iis10")
    f, fix = _precondition(report.findings, "PhpPool")
    assert fix.verified is True
    assert sorted(e.pool or "" for e in fix.removes) == ["CatalogPool", "DefaultAppPool", "IntranetPool", "OrdersAsp",
                                                        "PhpPool", "StorefrontCore", "WebConnection64"]
    assert all(e.name == VENDOR and e.security and e.ran is False and e.load_kind == "global-module" for e in fix.removes)
    labels = [x.label for x in f.fixes]
    # NOTE: the pool flip keeps the module running in PhpPool: it ranks above the preCondition
    assert labels.index("run the pool as 32-bit") < labels.index('preCondition="bitness32"') == len(labels) - 1
    flip = f.fixes[0]
    assert [(e.kind, e.pool, e.before, e.after) for e in flip.side_effects] == [
        (EffectKind.ARCH, "PhpPool", flip.side_effects[0].before, flip.side_effects[0].after)]
    assert flip.side_effects[0].applications == ("Php/",) and flip.side_effects[0].after is not None


def test_demo_text_html_json_sarif_say_it_with_one_numbering() -> None:
    report = scan(DEMO / "contoso-iis10", ScanOptions(text_fixes=True, load_map=True))
    _, fix = _precondition(report.findings, "IntranetPool")
    n = view(report).number(fix)
    assert n is not None
    text = scan_text.render(report, options=scan_text.TextOptions(width=300))
    assert f'[{n}] preCondition="bitness32" (verified, but all 7 pools then run without FabrikamVendorAuth)' in text
    verbose = scan_text.render(report, options=scan_text.TextOptions(width=300, verbose=True))
    assert ("also: global module FabrikamVendorAuth no longer loads in CatalogPool, DefaultAppPool, IntranetPool, "
            "OrdersAsp, PhpPool, StorefrontCore, WebConnection64") in verbose
    assert f"  warn  [{n}] FabrikamVendorAuth looks like a security module" in text
    html = scan_html.render([report])
    assert f'<span class="fixno">[{n}]</span>' in html and "security-warning" in html
    assert "global module FabrikamVendorAuth no longer loads in" in html
    doc = json.loads(CliRunner().invoke(main, ["demo", "--format", "json"]).output)[0]
    fixes = [x for x in doc["fixes"] if x["label"] == 'preCondition="bitness32"']
    assert {x["number"] for x in fixes} == {n} and len(fixes[0]["side_effects"]) == 7
    assert fixes[0]["side_effects"][0]["security"] is True and fixes[0]["side_effects"][0]["kind"] == "unloaded"
    assert [f["number"] for f in doc["findings"]] == list(range(1, len(doc["findings"]) + 1))
    sarif = json.loads(scan_sarif.render(report))
    descriptions = [x["description"]["text"] for r in sarif["runs"][0]["results"] for x in r.get("fixes", [])]
    assert any(d.startswith(f"[{n}] Load global module 'FabrikamVendorAuth'") for d in descriptions)
    assert [r["properties"]["findingNumber"] for r in sarif["runs"][0]["results"]] == \
        list(range(1, len(report.findings) + 1))


def _demo(tmp_path: Path) -> Path:
    img = tmp_path / "img"
    shutil.copytree(DEMO / "contoso-iis10", img)
    return img


def test_fix_with_a_number_makes_the_fix_scan_showed_and_says_its_side_effects(tmp_path: Path) -> None:
    img = _demo(tmp_path)
    report = scan(img)
    _, fix = _precondition(report.findings, "IntranetPool")
    n = view(report).number(fix)
    dry = CliRunner().invoke(main, ["fix", str(img), "--fix", str(n)])
    assert dry.exit_code == 0, dry.output
    assert f"  [{n}] Load global module 'FabrikamVendorAuth' only in workers it fits" in dry.output
    assert "global module FabrikamVendorAuth no longer loads in" in dry.output and "WARNING: FabrikamVendorAuth" in dry.output
    bad = CliRunner().invoke(main, ["fix", str(img), "--fix", "999"])
    assert bad.exit_code == 2 and "--fix 999" in bad.output


def test_fix_all_says_which_pools_run_without_the_module_before_and_after_apply(tmp_path: Path) -> None:
    """Issue 20 §2: IntranetPool's only verified fix takes the vendor's authentication module out of pools. ``fix``
    alone no longer takes it (its sites would be served without it, where the pool failed closed with 503: user
    audit, 2026-12-06) and says so; ``--fix 8`` takes it knowingly, and the plan and the --apply output say which
    pools then run without the module."""
    img = _demo(tmp_path)
    dry = CliRunner().invoke(main, ["fix", str(img)])
    flat = " ".join(dry.output.split())
    assert ("not fixed: finding 5 global-module-arch (pool 'IntranetPool'): its verified fixes take the security "
            "module FabrikamVendorAuth out of pools, whose sites are then served without it: take one knowingly with "
            "--fix N") in flat, dry.output
    assert "FabrikamVendorAuth no longer loads" not in flat and "WARNING" not in flat
    dry = CliRunner().invoke(main, ["fix", str(img), "--fix", "8"])
    assert "  global module FabrikamVendorAuth no longer loads in CatalogPool, DefaultAppPool, IntranetPool," in dry.output
    assert "WARNING: FabrikamVendorAuth looks like a security module: sites in 7 pools then run without it." in dry.output
    done = CliRunner().invoke(main, ["fix", str(img), "--fix", "8", "--apply"])
    assert done.exit_code == 0, done.output
    assert done.output.rstrip().endswith("every targeted finding is gone; but CatalogPool, DefaultAppPool, IntranetPool, "
                                         "OrdersAsp, PhpPool, StorefrontCore, WebConnection64 now run without "
                                         "FabrikamVendorAuth (side effects above).")


def test_select_does_not_change_what_is_verified() -> None:
    """Issue 20 §3: with only global-module-arch selected, the IntranetPool flip is still refused: it breaks an
    assembly that only managed-assembly-arch sees."""
    for rules in ((global_module_arch,), RULES):
        report = scan(DEMO / "contoso-iis10", ScanOptions(rules=rules))
        f = next(f for f in report.findings if f.rule == "global-module-arch" and f.pool == "IntranetPool")
        assert not [x for x in f.fixes if x.label.startswith("run the pool")]
        assert any("Intranet.Imaging.dll" in r.reason for r in f.rejected_fixes)
    assert {f.rule for f in scan(DEMO / "contoso-iis10", ScanOptions(rules=(global_module_arch,))).findings} == \
        {"global-module-arch"}


def test_a_flip_that_stops_a_running_security_module_says_so(tmp_path: Path) -> None:
    """A 64-bit-only authentication module (preCondition bitness64, no 32-bit twin) runs in P64 today; flipping the pool
    to 32-bit for an x86 assembly stops it there: an unloaded side effect that ran, marked as security, ranked after
    the advice that keeps it."""
    pool = '<add name="P64" managedRuntimeVersion="v4.0" />'
    gm = ('<globalModules><add name="ContosoSsoAuth" image="C:\\Contoso\\sso.dll" preCondition="bitness64" />'
          '</globalModules>')
    img = make_image(tmp_path, apphost(pool, site("S", 1, "P64", r"C:\s"), gm),
                     {"Contoso/sso.dll": "module_x64.dll", "s/bin/Old.dll": "managed_x86.dll"})
    f = next(f for f in scan(img).findings if f.rule == "managed-assembly-arch")
    flip = next(x for x in f.fixes if x.label.startswith("run the pool"))
    assert flip.verified is True and f.fixes[-1] is flip
    [gone] = flip.removes
    assert (gone.name, gone.pool, gone.ran, gone.security) == ("ContosoSsoAuth", "P64", True, True)
    assert any(e.kind is EffectKind.ARCH for e in flip.side_effects)


def test_security_modules_by_name_type_and_vendor_words() -> None:
    for name in ("WindowsAuthenticationModule", "UrlAuthorizationModule", "RequestFilteringModule",
                 "IpRestrictionModule", "System.Web.Security.FormsAuthenticationModule", "FabrikamVendorAuth",
                 "OktaSsoModule", "CloudflareWaf", "UrlScan", "ModSecurity IIS", "ShibNativeModule"):
        assert is_security(name), name
    for name in ("IsapiFilterModule", "StaticFileModule", "ImageResizer_64", "DynamicCompressionModule", "Processor"):
        assert not is_security(name), name
    assert is_security("VendorFilterModule") and not is_security("MyFilter", kind=LoadKind.ISAPI_FILTER)
    assert is_security("Vendor", "C:\\Vendor\\authsso.dll")


def test_fix_numbers_follow_the_same_select_as_scan(tmp_path: Path) -> None:
    """`scan --select X` and `fix --select X` number the same fixes: [N] is the same change in both."""
    img = _demo(tmp_path)
    doc = json.loads(CliRunner().invoke(main, ["scan", str(img), "--select", "managed-assembly-arch",
                                               "--format", "json"]).output)
    fix = next(x for x in doc["fixes"] if x["label"] == "run the pool as 32-bit")
    everything = json.loads(CliRunner().invoke(main, ["scan", str(img), "--format", "json"]).output)
    other = {x["number"] for x in everything["fixes"] if x["summary"] == fix["summary"]}
    assert other != {fix["number"]}  # NOTE: without --select the same change has another number
    out = CliRunner().invoke(main, ["fix", str(img), "--select", "managed-assembly-arch", "--fix", str(fix["number"])])
    assert out.exit_code == 0, out.output
    assert f"  [{fix['number']}] {fix['summary']}  (finding " in out.output


def test_a_split_says_what_the_moved_application_loses_and_a_flip_what_it_gains(tmp_path: Path) -> None:
    """The application moved to a new 32-bit pool leaves the 64-bit-only SSO module behind (unloaded, for that
    application, a security module); a flip of the whole pool would start the 32-bit-only helper (loaded)."""
    pools = '<add name="P64" managedRuntimeVersion="v4.0" />'
    gm = ('<globalModules><add name="ContosoSsoAuth" image="C:\\Contoso\\sso.dll" preCondition="bitness64" />'
          '<add name="Helper32" image="C:\\Contoso\\helper.dll" preCondition="bitness32" /></globalModules>')
    img = make_image(tmp_path, apphost(pools, site("A", 1, "P64", r"C:\a") + site("B", 2, "P64", r"C:\b"), gm),
                     {"Contoso/sso.dll": "module_x64.dll", "Contoso/helper.dll": "module_x86.dll",
                      "a/bin/Old.dll": "managed_x86.dll", "b/bin/New.dll": "managed_x64.dll"})
    report = scan(img)
    conflict = next(f for f in report.findings if f.rule == "pool-arch-conflict")
    (split,) = conflict.fixes
    new = next(e for e in split.side_effects if e.kind is EffectKind.NEW_POOL)
    assert (new.name, new.like, new.applications) == ("P64 (x86)", "P64", ("A/",))
    [lost] = split.removes
    assert (lost.name, lost.pool, lost.applications, lost.security, lost.ran) == \
        ("ContosoSsoAuth", "P64 (x86)", ("A/",), True, True)
    assert not [e for e in split.side_effects if e.kind is EffectKind.LOADED]  # NOTE: a new worker, not a change
    text = scan_text.render(report, options=scan_text.TextOptions(width=300))
    assert "(verified, but P64 (x86) then runs without ContosoSsoAuth)" in text
    assessed = next(f for f in report.findings if f.rule == "managed-assembly-arch" and f.site == "A")
    assert [x.label for x in assessed.fixes][-1].startswith("a new 32-bit pool")  # NOTE: after the rebuild advice


def test_a_flip_says_which_module_the_worker_starts_loading(tmp_path: Path) -> None:
    pools = '<add name="P64" managedRuntimeVersion="v4.0" />'
    gm = '<globalModules><add name="Helper32" image="C:\\Contoso\\helper.dll" preCondition="bitness32" /></globalModules>'
    img = make_image(tmp_path, apphost(pools, site("A", 1, "P64", r"C:\a"), gm),
                     {"Contoso/helper.dll": "module_x86.dll", "a/bin/Old.dll": "managed_x86.dll"})
    f = next(f for f in scan(img).findings if f.rule == "managed-assembly-arch")
    flip = next(x for x in f.fixes if x.label.startswith("run the pool"))
    assert [(e.kind, e.name, e.pool) for e in flip.side_effects if e.kind is not EffectKind.ARCH] == \
        [(EffectKind.LOADED, "Helper32", "P64")]
    assert flip.removes == () and f.fixes[0] is flip


def _delphi(tmp_path: Path) -> Path:
    """The real Delphi ISAPI web.config (handler 'miaisapi' for every path, preCondition bitness32,...) over an x64
    build of its DLL, in a 32-bit pool."""
    web = corpus_dir("iis-config") / "danieleteti__delphimvcframework__samples__ISAPI__bin__web.config"
    gm = '<globalModules><add name="IsapiModule" image="%windir%\\System32\\inetsrv\\isapi.dll" /></globalModules>'
    return make_image(tmp_path, apphost('<add name="P32" enable32BitAppOnWin64="true" managedRuntimeVersion="" />',
                                        site("Delphi", 1, "P32", r"C:\DEV\dmvcframework\samples\ISAPI\bin")
                                        + site("Other", 2, "P32", r"C:\inetpub\other"), gm),
                      {"DEV/dmvcframework/samples/ISAPI/bin/web.config": web,
                       "DEV/dmvcframework/samples/ISAPI/bin/isapiapp.dll": "isapi_ext_x64.dll",
                       "Windows/System32/inetsrv/isapi.dll": "module_x64.dll",
                       "Windows/SysWOW64/inetsrv/isapi.dll": "module_x86.dll", "inetpub/other/default.htm": b"x"})


def test_a_fix_that_makes_a_handler_stop_applying_says_so(tmp_path: Path) -> None:
    """Running the pool (or the application) at 64-bit clears the 500 of the x64 ISAPI DLL only because the handler's
    own preCondition (bitness32) then leaves it out: every request the mapping took goes elsewhere. The flip and the
    split were 'verified' with nothing said; each now names the handler it leaves out, on its own line."""
    report = scan(_delphi(tmp_path))
    f = next(f for f in report.findings if f.rule == "isapi-extension-arch")
    changes = [x for x in f.fixes if x.edits]
    assert sorted(x.label for x in changes) == ["a new 64-bit pool for the app", "run the pool as 64-bit"]
    for fix in changes:
        [lost] = fix.removes
        assert (lost.name, lost.load_kind, lost.applications) == ("miaisapi", "isapi-extension", ("Delphi/",)), fix
    text = scan_text.render(report, options=scan_text.TextOptions(width=300))
    assert "run the pool as 64-bit (verified, but P32 then runs without miaisapi)" in text
    assert "a new 64-bit pool for the app (verified, but P32 (x64) then runs without miaisapi)" in text


DALAWTON = "applicationhost--dalawton__eic-inventory__applicationHost.config"
"""A real server's configuration: two sites in DefaultAppPool (x64), SentinelOne's web filter as a pair of server-level
ISAPI filters, SentinelWSFilter64.dll preCondition="bitness64" and SentinelWSFilter32.dll preCondition="bitness32",
side by side in the agent's folder."""


def _sentinel(tmp_path: Path, drop: str = "") -> dict[str, object]:
    """That server with an x86-only assembly in the first site's bin, ``drop``: a filter line taken out; the JSON of
    its scan."""
    text = (corpus_dir("iis-config-2") / DALAWTON).read_text(encoding="utf-8-sig")
    if drop:
        text = "\n".join(line for line in text.splitlines() if f'name="{drop}"' not in line) + "\n"
    agent = "Program Files/SentinelOne/Sentinel Agent 24.2.3.471"
    img = make_image(tmp_path, text, {"inetpub/wwwroot/bin/Legacy.dll": "managed_x86.dll",
                                      f"{agent}/SentinelWSFilter64.dll": "filter_x64.dll",
                                      f"{agent}/SentinelWSFilter32.dll": "filter_x86.dll"})
    res = CliRunner().invoke(main, ["scan", str(img), "--format", "json", "--quiet"])
    doc: dict[str, object] = json.loads(res.stdout)
    return doc


def _flip(doc: dict[str, object]) -> dict[str, object]:
    f = next(f for f in doc["findings"] if f["rule"] == "managed-assembly-arch")  # type: ignore[attr-defined]
    fixes = [doc["fixes"][n - 1] for n in f["fix_numbers"]]  # type: ignore[index]
    flip: dict[str, object] = next(x for x in fixes if x["label"] == "run the pool as 32-bit")
    return flip


def test_a_vendor_s_filter_pair_of_both_bitnesses_is_no_side_effect_of_a_flip(tmp_path: Path) -> None:
    """Before: 'DefaultAppPool then runs without SentinelWSFilter64' on the fix's line (twice in JSON, once per site
    of the pool), the flip ranked after the other fixes as one that takes a filter out, and nothing said of
    SentinelWSFilter32 starting: the x86 worker loads the agent's 32-bit build instead, and loses nothing."""
    flip = _flip(_sentinel(tmp_path))
    assert [e["kind"] for e in flip["side_effects"]] == ["arch"], flip  # type: ignore[attr-defined]


def test_a_filter_a_flip_starts_or_stops_is_said_once_per_worker(tmp_path: Path) -> None:
    """Without the pair, the flip to 32-bit stops the 64-bit filter (once, not once per site) and starts the 32-bit
    one (before: not said at all, a filter being listed per site)."""
    stops = _flip(_sentinel(tmp_path / "a", drop="SentinelWSFilter32"))
    assert [(e["kind"], e["name"], e["pool"]) for e in stops["side_effects"]] == [  # type: ignore[attr-defined]
        ("arch", "DefaultAppPool", "DefaultAppPool"), ("unloaded", "SentinelWSFilter64", "DefaultAppPool")]
    starts = _flip(_sentinel(tmp_path / "b", drop="SentinelWSFilter64"))
    assert [(e["kind"], e["name"], e["load_kind"]) for e in starts["side_effects"]] == [  # type: ignore[attr-defined]
        ("arch", "DefaultAppPool", None), ("loaded", "SentinelWSFilter32", "isapi-filter")]


def test_a_fix_that_moves_applications_to_a_32_bit_worker_says_its_memory_limit(tmp_path: Path) -> None:
    """A pool flip to 32-bit and a split into a new 32-bit pool take their applications from a 64-bit worker to one
    that addresses at most 4 GB: ``fix`` (the plan approved), HTML and ``--verbose`` say so beside the worker's
    change; a flip to 64-bit does not; scan's compact text keeps its line count."""
    from dataclasses import replace

    from iisbitness.arch import Arch
    from iisbitness.formats.causes import MEMORY_LIMIT, effect_lines

    img = tmp_path / "demo"
    shutil.copytree(DEMO / "contoso-iis10", img)
    plan = CliRunner().invoke(main, ["fix", str(img)])
    flat = " ".join(plan.stdout.split())
    said = " ".join(MEMORY_LIMIT.split())
    assert f"DefaultAppPool runs as x86 (was x64): Default Web Site/, 13 binaries{said}" in flat, plan.stdout
    assert f"new pool 'IntranetPool (x86)' copies 'IntranetPool': managedRuntimeVersion=v4.0{said}" in flat
    report = scan(img)
    flip = next(x for f in report.findings for x in f.fixes if x.summary.startswith("Run application pool 'Catalog"))
    [arch] = [e for e in flip.side_effects if e.kind is EffectKind.ARCH]
    assert effect_lines([arch])[0].endswith(MEMORY_LIMIT)
    assert "4 GB" not in scan_text.render(report) and "4 GB" in scan_text.render(
        report, options=scan_text.TextOptions(verbose=True))
    assert MEMORY_LIMIT not in effect_lines([replace(arch, before=Arch.X86, after=Arch.X64)])[0]
    assert "4 GB of memory" in scan_html.render([report])


def test_defining_an_undefined_pool_names_that_pool_and_its_applications(tmp_path: Path) -> None:
    """The demo with site Php in a pool applicationPools does not define: the verified fix defines it as 32-bit. Its
    side effect used to read "each pool gets a w3wp.exe of its own (x86): NoSuchPool", the sentence of IIS 6 leaving IIS
    5 isolation mode, naming no application (user audit 2026-12-07); it names the one pool and what it serves."""
    img = tmp_path / "img"
    shutil.copytree(DEMO / "contoso-iis10", img)
    config = img / "Windows/System32/inetsrv/config/applicationHost.config"
    config.write_text(config.read_text().replace('applicationPool="PhpPool"', 'applicationPool="NoSuchPool"'))
    [f] = [f for f in scan(img).findings if f.rule == "pool-undefined"]
    [fix] = [x for x in f.fixes if x.verified]
    assert effect_lines(fix) == ("pool 'NoSuchPool' gets a w3wp.exe of its own (x86), serving Php/",)
    iis6 = scan(DEMO / "w2003-iis6")
    assert any(line.startswith("each pool gets a w3wp.exe of its own (x86): DefaultAppPool, WebConnectPool")
               for f in iis6.findings for x in f.fixes for line in effect_lines(x))
