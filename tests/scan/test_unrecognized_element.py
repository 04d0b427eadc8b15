"""An element a collection does not take (``<add>`` in ``<isapiFilters>``, whose items are ``<filter>``) in a
web.config: IIS refuses the file (HTTP 500.19 "Unrecognized element", 0x8007000D, KB 942055); the merge skipped it
without a word, so a filter written so was neither analysed nor said."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from iisbitness.api import scan
from iisbitness.cli import main
from tests.conftest import apphost, make_image, site


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
    assert problem.message.startswith("HTTP 500.19 (0x8007000D, KB 942055) for every request at or below this "
                                      "folder: <add> in system.webServer/isapiFilters is not an element IIS knows")
    assert problem.unread and [c.status.value for c in report.coverage] == ["partly-checked"]
    res = CliRunner().invoke(main, ["scan", str(img), "--fail-on-incomplete"])
    assert res.exit_code == 1 and "IIS refuses (1)" in res.output, res.output
