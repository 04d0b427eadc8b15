"""What IIS refuses for a key or a section given twice in one file (dupsection): two sites of one ``name`` or one
``id`` (each ``isUniqueKey`` on its own in IIS_schema.xml's ``system.applicationHost/sites``), two applications of one
``path`` in a site, two virtual directories of one ``path`` in an application ("Cannot add duplicate collection entry",
0x800700B7, KB 942055); a section element written twice at one configuration path of one file ("Config section
'system.webServer/modules' already defined. Sections must only appear once per config file", 0x800700B7, as IIS Web
Core shows it: github.com/elmah/Elmah/issues/259).

Real inputs: the IIS 8.5 applicationHost.config of the corpus (c1982/IIS-SharedGitConfig) and real web.config files of
the corpus (iischef's as ikinci.com's root web.config), each changed in one place in a temporary image.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import CORPUS
from tests.scan.test_refused import APPHOST, _image, _line, _refused, _scan

if not (CORPUS / "iis-config").is_dir():  # NOTE: before the imports below: those modules skip themselves there
    pytest.skip(f"no shared corpus at {CORPUS / 'iis-config'}", allow_module_level=True)
from tests.scan.test_refused_inherited import _coverage
from tests.scan.test_refused_sections import CHEF, RICK, ROOT, _root

DENEME = '<site name="deneme.com" id="6" serverAutoStart="true">'
IKINCI_ROOT = ('<application path="/" applicationPool="ikinci.com">\n'
               '                    <virtualDirectory path="/" physicalPath="C:\\vhosts\\ikinci.com\\http" '
               'logonMethod="ClearText" />')


@pytest.mark.parametrize(("edit", "needle", "says"), [
    ((DENEME, '<site name="IKINCI.com" id="6" serverAutoStart="true">'), '<site name="IKINCI.com"',
     "<site name=\"IKINCI.com\"> of <sites> repeats the name of the site at line"),
    ((DENEME, '<site name="deneme.com" id="05" serverAutoStart="true">'), '<site name="deneme.com" id="05"',
     "<site id=\"05\"> of <sites> repeats the id of the site at line"),
    ((IKINCI_ROOT, IKINCI_ROOT + '\n</application>\n'
      '<application path="/" applicationPool="DefaultAppPool">\n<virtualDirectory path="/" physicalPath="C:\\x" />'),
     '<application path="/" applicationPool="DefaultAppPool">',
     "<application path=\"/\"> of site 'ikinci.com' repeats the path of the application at line"),
    ((IKINCI_ROOT, IKINCI_ROOT + '\n<virtualDirectory path="/" physicalPath="C:\\elsewhere" />'),
     '<virtualDirectory path="/" physicalPath="C:\\elsewhere"',
     "<virtualDirectory path=\"/\"> of application ikinci.com/ repeats the path of the virtualDirectory at line"),
])
def test_a_key_of_the_sites_section_given_twice(tmp_path: Path, edit: tuple[str, str], needle: str,
                                                says: str) -> None:
    """The corpus server with a second site of one name (another case) or one id (``05`` is 5), a second root
    application in ikinci.com, a second ``/`` virtual directory in its root application: IIS fails reading
    ``system.applicationHost/sites`` (0x800700B7, KB 942055). The scan took the second entry as another site (or
    another application of one path, or a second root folder whose web.config files it read) and said nothing."""
    image, text = _image(tmp_path, edit)
    [problem] = _refused(image)
    assert (problem["file"], problem["line"]) == (APPHOST, _line(text, needle))
    message = problem["message"]
    assert message.startswith(says), message
    assert "Cannot add duplicate collection entry of type" in message and "0x800700B7" in message, message
    assert "IIS fails reading the system.applicationHost/sites section of this file" in message, message
    apps = [a["application"] for a in json.loads(_scan(image, "json")[1])["coverage"]["applications"]]
    assert len(apps) == len(set(apps)), apps


def test_sites_differing_in_name_and_id_are_not_refused(tmp_path: Path) -> None:
    """The look-alike that is legal: two sites whose names differ (not only in case) and whose ids differ, an
    application ``/a`` beside ``/ab``: nothing refused."""
    image, _ = _image(tmp_path, (IKINCI_ROOT, IKINCI_ROOT + '\n</application>\n<application path="/ab">\n'
                                 '<virtualDirectory path="/" physicalPath="C:\\ab" />\n</application>\n'
                                 '<application path="/a">\n<virtualDirectory path="/" physicalPath="C:\\a" />'))
    assert not [p for p in json.loads(_scan(image, "json")[1])["problems"] if p.get("refused")]


LOCATION = '    <location path="" overrideMode="Allow">'
"""The applicationHost.config's first ``<location>``, after its own ``<system.webServer>``."""
HANDLERS_END = "        </handlers>\n"
SECOND_HANDLERS = ('        <handlers>\n            <add name="Shim32" path="*.shim" verb="*" modules="IsapiModule" '
                   'scriptProcessor="C:\\shim\\shim32.dll" resourceType="Unspecified" />\n        </handlers>\n')


@pytest.mark.parametrize(("old", "new", "needle", "says"), [
    (HANDLERS_END, HANDLERS_END + SECOND_HANDLERS, HANDLERS_END + SECOND_HANDLERS.splitlines()[0],
     "<handlers> is written a second time at this file's own level"),
    ("    </system.webServer>\n</configuration>",
     f"    </system.webServer>\n    <system.webServer>\n{SECOND_HANDLERS}    </system.webServer>\n</configuration>",
     "    <system.webServer>\n" + SECOND_HANDLERS.splitlines()[0],
     "<handlers> is written a second time at this file's own level"),
    ("</configuration>", ('<location path="sub"><system.webServer><rewrite><rules><clear /></rules></rewrite>'
                          '</system.webServer></location>\n<location path="Sub/"><system.webServer><rewrite><rules>'
                          "<clear /></rules></rewrite></system.webServer></location>\n</configuration>"),
     '<location path="Sub/">',
     "<rules> is written a second time at <location path=\"Sub/\">"),
])
def test_a_section_written_twice_refuses_the_web_config(tmp_path: Path, old: str, new: str, needle: str,
                                                        says: str) -> None:
    """iischef's web.config with a second ``<handlers>`` in its ``<system.webServer>``, or in a second
    ``<system.webServer>``, or two ``<location>`` elements of one path (case and a trailing slash aside) each setting
    ``rewrite/rules`` (a section of the ``rewrite`` section group): IIS refuses the file ("Config section ... already defined",
    0x800700B7), so ikinci.com/ is not checked. The scan read the first ``<handlers>`` (or both) and said nothing."""
    image = _root(tmp_path, CHEF, old, new)
    [problem] = _refused(image)
    changed = CHEF.replace(old, new, 1)
    line = _line(changed, needle) + needle.count("\n")
    assert (problem["file"], problem["line"]) == (ROOT, line)
    message = problem["message"]
    assert says in message and "Sections must only appear once per config file" in message, message
    assert "0x800700B7" in message and "this web.config is left out" in message, message
    assert _coverage(image)["ikinci.com/"]["status"] == "not-checked"


def test_sections_of_one_group_written_apart_are_not_refused(tmp_path: Path) -> None:
    """The legal look-alikes: a second ``<system.webServer>`` holding another section (``<defaultDocument>``), a
    second ``<security>`` holding another section than the first's, a second ``<rewrite>`` holding another of its
    sections than the file's first (``rules``), a ``<location path="sub">`` setting a section the
    file's own level sets: nothing refused."""
    extra = ('    <system.webServer>\n        <defaultDocument enabled="false" />\n        <security><requestFiltering '
             'allowDoubleEscaping="true" /></security>\n        <security><authorization /></security>\n'
             '        <rewrite><rewriteMaps /></rewrite>\n'
             '    </system.webServer>\n    <location path="sub"><system.webServer>\n' + SECOND_HANDLERS +
             "    </system.webServer></location>\n</configuration>")
    image = _root(tmp_path, CHEF, "</configuration>", extra)
    assert _coverage(image)["ikinci.com/"]["status"] != "not-checked"
    assert not [p for p in json.loads(_scan(image, "json")[1])["problems"] if p.get("refused")]


@pytest.mark.parametrize(("old", "new", "needle", "says"), [
    ("        </sites>", "        </sites>\n        <sites />", "        <sites />",
     "<sites> is written a second time at this file's own level"),
    (LOCATION, "    <system.webServer>\n        <globalModules />\n    </system.webServer>\n" + LOCATION,
     "        <globalModules />", "<globalModules> is written a second time"),
])
def test_a_section_written_twice_in_applicationhost_config(tmp_path: Path, old: str, new: str, needle: str,
                                                           says: str) -> None:
    """The corpus server with a second ``<sites>`` in its ``<system.applicationHost>``, or a second
    ``<system.webServer>`` holding ``<globalModules>`` again: IIS fails reading that section (0x800700B7); the scan
    read the first and said nothing."""
    image, text = _image(tmp_path, (old, new))
    [problem] = _refused(image)
    assert (problem["file"], problem["line"]) == (APPHOST, _line(text, needle))
    message = problem["message"]
    assert message.startswith(says) and "Sections must only appear once per config file" in message, message


RICK_SECTIONS = "\t<configSections>\n"
EXTENSIONS = (
    '\t\t<sectionGroup name="system.web.extensions" type="System.Web.Configuration.SystemWebExtensionsSectionGroup, '
    'System.Web.Extensions, Version=3.5.0.0, Culture=neutral, PublicKeyToken=31BF3856AD364E35">\n'
    '\t\t\t<sectionGroup name="scripting" type="System.Web.Configuration.ScriptingSectionGroup, System.Web.Extensions, '
    'Version=3.5.0.0, Culture=neutral, PublicKeyToken=31BF3856AD364E35">\n'
    '\t\t\t\t<section name="scriptResourceHandler" type="System.Web.Configuration.ScriptingScriptResourceHandlerSection, '
    'System.Web.Extensions, Version=3.5.0.0, Culture=neutral, PublicKeyToken=31BF3856AD364E35" requirePermission="false" '
    'allowDefinition="MachineToApplication"/>\n'
    "\t\t\t</sectionGroup>\n\t\t</sectionGroup>\n")
"""The ``system.web.extensions`` declarations of an ASP.NET 3.5 web.config (Visual Studio 2008's, as
github.com/microsoft/aspnet-docker/issues/16 and github.com/h5bp/server-configs/issues/26 quote them), the first one."""
MACHINE32 = "Windows/Microsoft.NET/Framework/v4.0.30319/Config/machine.config"
IKINCI_POOL = '<add name="ikinci.com" autoStart="true" enable32BitAppOnWin64="true" managedRuntimeVersion="v4.0">'


def _rick_35(tmp_path: Path, edit: tuple[str, str] | None = None, machine: str | None = None) -> tuple[Path, str]:
    """ikinci.com (a 32-bit v4.0 pool) whose root web.config is RickStrahl's WebConnection-WebDemo web.config with the
    ASP.NET 3.5 declarations added to its ``<configSections>``; ``machine``: the 32-bit Framework 4 machine.config."""
    assert RICK_SECTIONS in RICK
    web = RICK.replace(RICK_SECTIONS, RICK_SECTIONS + EXTENSIONS, 1)
    files = {"vhosts/ikinci.com/http/web.config": web} | ({MACHINE32: machine} if machine is not None else {})
    image, _ = _image(tmp_path, edit, files)
    return image, web


def test_an_aspnet_35_web_config_in_a_v4_pool_is_refused(tmp_path: Path) -> None:
    """The most common real form of a section declared twice: an ASP.NET 3.5 web.config's ``system.web.extensions``
    declarations in a v4.0 pool, whose Framework 4 machine.config declares them (IIS: "There is a duplicate
    'system.web.extensions/scripting/scriptResourceHandler' section defined", HTTP 500.19). No machine.config in the
    image: assumed to be Framework 4's own, and said so. The scan read the file as IIS ran it."""
    image, web = _rick_35(tmp_path)
    [problem] = _refused(image)
    assert (problem["file"], problem["line"]) == (ROOT, _line(web, '<section name="scriptResourceHandler"'))
    message = problem["message"]
    assert "There is a duplicate 'system.web.extensions/scripting/scriptResourceHandler' section defined" in message
    assert "in application pool 'ikinci.com' (v4.0)" in message, message
    assert ("C:\\Windows\\Microsoft.NET\\Framework\\v4.0.30319\\Config\\machine.config (not in the image: taken to be "
            ".NET Framework 4's own") in message, message
    assert _coverage(image)["ikinci.com/"]["status"] == "not-checked"


def test_the_image_machine_config_decides(tmp_path: Path) -> None:
    """The image's 32-bit Framework 4 machine.config (the pool is 32-bit) is read: declaring the section, it is named
    as the parent (no assumption said); declaring no ``system.web.extensions`` section, nothing is refused."""
    declares = ("<configuration>\n<configSections>\n" + EXTENSIONS.replace("3.5.0.0", "4.0.0.0") +
                "</configSections>\n</configuration>\n")
    image, _ = _rick_35(tmp_path / "declares", machine=declares)
    [problem] = _refused(image)
    assert "which C:\\Windows\\Microsoft.NET\\Framework\\v4.0.30319\\Config\\machine.config declares already" in \
        problem["message"], problem["message"]
    image, _ = _rick_35(tmp_path / "bare", machine="<configuration>\n<configSections>\n</configSections>\n</configuration>\n")
    assert not [p for p in json.loads(_scan(image, "json")[1])["problems"] if p.get("refused")]


def test_an_aspnet_35_web_config_in_a_v2_pool_is_not_refused(tmp_path: Path) -> None:
    """The same web.config in a v2.0 pool (ASP.NET 3.5 runs on CLR 2.0): its machine.config does not declare the
    sections, so IIS takes the file: nothing refused."""
    image, _ = _rick_35(tmp_path, (IKINCI_POOL, IKINCI_POOL.replace("v4.0", "v2.0")))
    assert not [p for p in json.loads(_scan(image, "json")[1])["problems"] if p.get("refused")]
