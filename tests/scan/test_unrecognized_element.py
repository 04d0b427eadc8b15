"""An element a collection does not take (``<add>`` in ``<isapiFilters>``, whose items are ``<filter>``) in a
web.config: IIS refuses the file (HTTP 500.19 "Unrecognized element", 0x8007000D, KB 942055); the merge skipped it
without a word, so a filter written so was neither analysed nor said."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from iisbitness.api import scan
from iisbitness.cli import main
from tests.conftest import apphost, corpus_dir, make_image, site


def test_an_add_in_isapi_filters_is_refused_as_iis_refuses_it(tmp_path: Path) -> None:
    web = ('<?xml version="1.0" encoding="utf-8"?>\n<configuration>\n  <system.webServer>\n    <isapiFilters>\n'
           '      <add name="F" path="C:\\F\\f.dll" />\n    </isapiFilters>\n    <handlers>\n      <clear />\n'
           '      <add name="StaticFile" path="*" verb="*" modules="StaticFileModule" resourceType="Either" />\n'
           '    </handlers>\n  </system.webServer>\n</configuration>\n')
    img = make_image(tmp_path / "img", apphost('<add name="P" />', site("S", 1, "P", r"C:\s")),
                     {"s/web.config": web.encode(), "F/f.dll": "filter_x86.dll"})
    report = scan(img)
    [problem] = [p for p in report.problems if p.refused]
    assert (problem.file, problem.line) == ("s/web.config", 5)
    assert problem.message.startswith("HTTP 500.19 (0x8007000D, KB 942055) for every request at or below s: "
                                      "<add> in system.webServer/isapiFilters is not an element IIS knows")
    # NOTE: the site's root web.config: every request of its application gets 500.19, so nothing of it was analysed
    assert problem.unread and [c.status.value for c in report.coverage] == ["not-checked"]
    res = CliRunner().invoke(main, ["scan", str(img), "--fail-on-incomplete"])
    assert res.exit_code == 1 and "IIS refuses (1)" in res.output, res.output


def _web(body: str) -> bytes:
    return ('<?xml version="1.0" encoding="utf-8"?>\n<configuration>\n' + body + '</configuration>\n').encode()


_ISAPI = ('<security><isapiCgiRestriction notListedIsapisAllowed="true" notListedCgisAllowed="true" /></security>'
          '<modules><add name="IsapiModule" /></modules>')
_X86_HANDLER = ('      <add name="Rpt" path="*.rpt" verb="*" modules="IsapiModule" scriptProcessor="C:\\isapi\\rpt.dll" '
                'resourceType="Unspecified" />\n')


@pytest.mark.parametrize(("collection", "item", "takes"), [
    ("handlers", '<ad name="H" path="*.h" verb="*" modules="IsapiModule" />', "add"),
    ("modules", '<ad name="M" />', "add"),
    ("isapiFilters", '<add name="F" path="C:\\F\\f.dll" />', "filter"),
])
def test_each_collection_refuses_an_element_it_does_not_take_and_the_file_is_left_out(
        tmp_path: Path, collection: str, item: str, takes: str) -> None:
    """One case per collection read from a web.config (facts B7). IIS answers every request at or below the folder
    with 500.19: nothing of the file runs, so its x86 handler (a later line) gives no finding either; before, the
    report said "nothing configured there runs" and gave a finding from that handler."""
    web = _web(f'  <system.webServer>\n    <{collection}>\n      {item}\n    </{collection}>\n    <handlers>\n'
               + _X86_HANDLER + '    </handlers>\n  </system.webServer>\n')
    img = make_image(tmp_path / "img", apphost('<add name="P" />', site("S", 1, "P", r"C:\s"), _ISAPI),
                     {"s/web.config": web, "isapi/rpt.dll": "isapi_ext_x86.dll", "F/f.dll": "filter_x86.dll"})
    report = scan(img)
    problem, *more = report.refusals()
    # NOTE: for handlers the file writes <handlers> twice, which IIS refuses too (dupsection): said at the second
    assert [(p.line, "<handlers> is written a second time" in p.message) for p in more] == (
        [(7, True)] if collection == "handlers" else [])
    assert (problem.file, problem.line) == ("s/web.config", 5)
    assert (f"in system.webServer/{collection} is not an element IIS knows there (it takes <{takes}>"
            in problem.message) and problem.message.endswith("this web.config is left out")
    assert not [f for f in report.findings if "rpt.dll" in f.cause + f.symptom], report.findings


def test_the_x86_handler_of_a_web_config_iis_reads_is_a_finding(tmp_path: Path) -> None:
    """The control of the case above: the same handler in a web.config IIS reads gives a finding."""
    web = _web('  <system.webServer>\n    <handlers>\n' + _X86_HANDLER + '    </handlers>\n  </system.webServer>\n')
    img = make_image(tmp_path / "img", apphost('<add name="P" />', site("S", 1, "P", r"C:\s"), _ISAPI),
                     {"s/web.config": web, "isapi/rpt.dll": "isapi_ext_x86.dll"})
    report = scan(img)
    assert not report.refusals() and [f for f in report.findings if "rpt.dll" in f.cause + f.symptom]


def test_an_element_in_a_location_of_a_web_config_is_refused(tmp_path: Path) -> None:
    web = _web('  <location path="sub">\n    <system.webServer>\n      <modules>\n        <ad name="M" />\n'
               '      </modules>\n    </system.webServer>\n  </location>\n')
    img = make_image(tmp_path / "img", apphost('<add name="P" />', site("S", 1, "P", r"C:\s")),
                     {"s/web.config": web})
    [problem] = scan(img).refusals()
    assert (problem.file, problem.line) == ("s/web.config", 6) and "<ad> in system.webServer/modules" in problem.message


def test_refusals_of_one_file_come_in_line_order(tmp_path: Path) -> None:
    """Walked in document order: the isapiFilters (line 5) before the handlers (line 8); collection order gave the
    handlers first."""
    web = _web('  <system.webServer>\n    <isapiFilters>\n      <add name="F" path="C:\\F\\f.dll" />\n'
               '    </isapiFilters>\n    <handlers>\n      <ad name="H" />\n    </handlers>\n  </system.webServer>\n')
    img = make_image(tmp_path / "img", apphost('<add name="P" />', site("S", 1, "P", r"C:\s")),
                     {"s/web.config": web})
    assert [p.line for p in scan(img).refusals()] == [5, 8]


_DENY_FILTERS = ('<configuration>\n    <configSections>\n        <sectionGroup name="system.webServer">\n'
                 '            <section name="isapiFilters" allowDefinition="MachineToApplication" '
                 'overrideModeDefault="Deny" />\n        </sectionGroup>\n    </configSections>\n')


def test_a_locked_section_gives_one_refusal_not_two(tmp_path: Path) -> None:
    """On a server keeping the stock lock on isapiFilters, IIS shows one error for an <add> in it: the lock
    (0x80070021); the scan said both the lock and the unrecognized element."""
    web = _web('  <system.webServer>\n    <isapiFilters>\n      <add name="F" path="C:\\F\\f.dll" />\n'
               '    </isapiFilters>\n  </system.webServer>\n')
    config = apphost('<add name="P" />', site("S", 1, "P", r"C:\s")).replace("<configuration>\n", _DENY_FILTERS, 1).replace("<isapiFilters />", "")
    img = make_image(tmp_path / "img", config, {"s/web.config": web})
    [problem] = scan(img).refusals()
    assert "0x80070021" in problem.message and problem.line == 4


def _nordstrom() -> Path:
    return corpus_dir("iis-config") / "Nordstrom__epg-interview-sysadmin__iis__applicationHost.config"


@pytest.mark.parametrize(("after", "item", "says"), [
    ("<globalModules>", '<ad name="Misspelt" image="%windir%\\System32\\inetsrv\\m.dll" />', "HTTP 503"),
    ("<isapiFilters>", '<add name="F" path="C:\\F\\f.dll" />', "HTTP 500.19 to every request of every site"),
    ('<handlers accessPolicy="Read, Script">', '<ad name="H" />', "HTTP 500.19 to every request of every site"),
    # NOTE: read for its scheme DLLs; a misspelt <scheme> was dropped without a word (the real section's <scheme>,
    # <staticTypes> and <dynamicTypes> are not said)
    ('<httpCompression directory="%SystemDrive%\\inetpub\\temp\\IIS Temporary Compressed Files">',
     '<schem name="br" dll="%Windir%\\system32\\inetsrv\\iisbrotli.dll" />',
     ('(it takes <scheme>, <staticTypes> and <dynamicTypes>): IIS refuses this file there ("Unrecognized element", '
      "0x8007000D, KB 942055): IIS answers HTTP 500.19 to every request of every site")),
])
def test_an_unrecognized_element_in_a_real_apphost_is_refused(tmp_path: Path, after: str, item: str,
                                                              says: str) -> None:
    """A real applicationHost.config (corpus) with such an element added: "1 of 1 application checked", exit 0
    with --fail-on-incomplete before; now refused, exit 1, as a pool name IIS refuses is."""
    text = _nordstrom().read_text(encoding="utf-8-sig")
    lines = text.splitlines()
    [at] = [i + 1 for i, line in enumerate(lines) if line.strip() == after]
    lines.insert(at, "            " + item)
    img = make_image(tmp_path / "img", "\n".join(lines) + "\n")
    report = scan(img)
    [problem] = report.refusals()
    assert problem.line == at + 1 and problem.file.endswith("applicationHost.config") and not problem.unread
    assert says in problem.message and "0x8007000D" in problem.message
    res = CliRunner().invoke(main, ["scan", str(img), "--fail-on-incomplete"])
    assert res.exit_code == 1 and "IIS refuses (1)" in res.output, res.output


def test_a_web_config_setting_an_apphost_only_section_is_left_out(tmp_path: Path) -> None:
    """The same rule for a section IIS allows only in applicationHost.config (KB 942055): the handler on a later
    line of the refused file gave a finding beside "nothing configured there runs"."""
    web = _web('  <system.webServer>\n    <globalModules>\n      <add name="G" image="C:\\G\\g.dll" />\n'
               '    </globalModules>\n    <handlers>\n' + _X86_HANDLER + '    </handlers>\n  </system.webServer>\n')
    img = make_image(tmp_path / "img", apphost('<add name="P" />', site("S", 1, "P", r"C:\s"), _ISAPI),
                     {"s/web.config": web, "isapi/rpt.dll": "isapi_ext_x86.dll"})
    report = scan(img)
    [problem] = report.refusals()
    assert problem.line == 4 and problem.message.endswith("this web.config is left out")
    assert not [f for f in report.findings if "rpt.dll" in f.cause + f.symptom], report.findings


def test_check_app_exits_2_on_an_unrecognized_element_and_says_so_in_its_help(tmp_path: Path) -> None:
    """check-app exits 2 on an element a collection of the build's web.config does not take; its --help, docs/ci.md
    and --fail-on-incomplete's help (a binary a worker loads that could not be read) said neither."""
    build = tmp_path / "publish"
    build.mkdir()
    (build / "web.config").write_bytes(_web('  <system.webServer>\n    <handlers>\n      <ad name="H" />\n'
                                            '    </handlers>\n  </system.webServer>\n'))
    res = CliRunner().invoke(main, ["check-app", str(build), "--pool-arch", "x64"])
    assert res.exit_code == 2 and "<ad> in system.webServer/handlers" in res.output, res.output
    help_text = " ".join(CliRunner().invoke(main, ["check-app", "--help"]).output.split())
    assert "an element a collection does not take" in help_text
    assert "or a binary one of its workers loads, could not be read" in help_text
    ci = " ".join((Path(__file__).parents[2] / "docs" / "ci.md").read_text(encoding="utf-8").split())
    assert "holds an element a collection does not take" in ci and "a binary one of its workers loads" in ci


def test_a_server_that_does_not_declare_isapi_filters_locks_it_as_a_stock_iis(tmp_path: Path) -> None:
    """An applicationHost.config without the section's declaration (copied without its head) keeps the stock lock
    (SectionLocks.locked); before, only check-app's synthetic server had it, from XML injected into its file."""
    web = _web('  <system.webServer>\n    <isapiFilters>\n      <filter name="F" path="C:\\F\\f.dll" />\n'
               '    </isapiFilters>\n  </system.webServer>\n')
    config = apphost('<add name="P" />', site("S", 1, "P", r"C:\s")).replace("<isapiFilters />", "")
    img = make_image(tmp_path / "img", config, {"s/web.config": web, "F/f.dll": "filter_x86.dll"})
    [problem] = scan(img).refusals()
    assert "0x80070021" in problem.message
    assert 'overrideModeDefault="Deny" as in a stock IIS applicationHost.config' in problem.message


def test_an_unrecognized_element_in_a_location_of_the_apphost_names_its_path_as_written(tmp_path: Path) -> None:
    config = apphost('<add name="P" />', site("Shop Site", 1, "P", r"C:\s"), location="")
    config = config.replace("</configuration>", '    <location path="Shop Site/App">\n        <system.webServer>\n'
                            '            <handlers>\n                <ad name="H" />\n            </handlers>\n'
                            '        </system.webServer>\n    </location>\n</configuration>')
    img = make_image(tmp_path / "img", config)
    [problem] = scan(img).refusals()
    assert "HTTP 500.19 to every request at or below Shop Site/App" in problem.message, problem.message
