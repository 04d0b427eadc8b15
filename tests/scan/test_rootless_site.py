"""A site without an application at "/" (audit11 K6): IIS requires one of every site ("each site must have at least
one application, called the root or default application", the IIS configuration reference's <application> page), and
Microsoft's Azure Migrate troubleshooting calls such a site "non-functional"; what WAS does with it is in no Microsoft
text found. Its applications were "checked" with nothing said; now each is partly checked, the reason saying the site
lacks its root application, with those sources, and that what WAS does is not documented.

A real configuration (jaimeparramilic/PROYECTO1-INGRESOS) with one site added, as an administrator's script may leave
it: site NoRoot with only /only, in a temporary image holding its folder.
"""

from __future__ import annotations

import pytest

from iisbitness.api import scan
from iisbitness.loadplan.plan import CoverageStatus
from iisbitness.report import Report
from tests.conftest import CORPUS, make_image

CONFIG = CORPUS / "iis-config-2" / "applicationhost--jaimeparramilic__PROYECTO1-INGRESOS__applicationHost.config"
NOROOT = """<site name="NoRoot" id="7">
                <application path="/only">
                    <virtualDirectory path="/" physicalPath="C:\\inetpub\\only" />
                </application>
                <bindings>
                    <binding protocol="http" bindingInformation="*:8087:" />
                </bindings>
            </site>
            """


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    if not CONFIG.is_file():
        pytest.skip("no shared corpus")
    text = CONFIG.read_text(encoding="utf-8-sig")
    assert text.count("<siteDefaults>") == 1
    text = text.replace("<siteDefaults>", NOROOT + "<siteDefaults>", 1)
    image = make_image(tmp_path_factory.mktemp("noroot"), text,
                       {"inetpub/only/index.htm": "<p>only</p>", "inetpub/wwwroot/index.htm": "<p>root</p>"})
    return scan(image)


def test_an_application_of_a_site_without_root_is_partly_checked_and_says_why(report: Report) -> None:
    [only] = [c for c in report.coverage if c.site == "NoRoot"]
    assert only.path == "/only" and only.status is CoverageStatus.PARTLY
    [why] = [r for r in only.reasons if "root application" in r]
    assert why.startswith("site 'NoRoot' has no root application (path '/'): IIS requires one of every site")
    assert "each site must have at least one application, called the root or default application" in why
    assert "non-functional" in why and "no Microsoft text found says whether WAS starts such a site" in why
    assert only.remedy == ""  # NOTE: nothing a new scan could be given: the configuration is the server's


def test_a_site_with_its_root_application_is_not_said_to_lack_it(report: Report) -> None:
    assert not [r for c in report.coverage if c.site != "NoRoot" for r in c.reasons if "root application" in r]
    [root] = [c for c in report.coverage if c.site == "Default Web Site" and c.path == "/"]
    assert root.status is CoverageStatus.CHECKED
