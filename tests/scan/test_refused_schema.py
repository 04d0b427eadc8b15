"""Duplicates in every keyed collection IIS's schema declares (schemadup: ``config/schema_keys.py``), not only in the
sections coded one by one before: IIS refuses the configuration holding a second entry of one key (HTTP 500.19,
0x800700B7, KB 942055), the key as IIS_schema.xml and URL Rewrite's rewrite_schema.xml declare it (``isUniqueKey``, or
``isCombinedKey`` attributes together, defaults counted; ``caseSensitive`` attributes compared as written).

Real inputs: the IIS 8.5 applicationHost.config of the corpus (c1982/IIS-SharedGitConfig) and real web.config files
of the corpus as ikinci.com's root web.config (and its child application /api), each changed in one place (or, for the
inherited URL Rewrite rule, as they are).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import CORPUS, corpus_dir
from tests.scan.test_refused import APPHOST, _image, _line, _refused, _scan

if not (CORPUS / "iis-config").is_dir():  # NOTE: before the imports below: those modules skip themselves there
    pytest.skip(f"no shared corpus at {CORPUS / 'iis-config'}", allow_module_level=True)
from tests.scan.test_refused_inherited import _api_image, _coverage
from tests.scan.test_refused_sections import CHEF, ROOT, _refused_or_none, _root

PROXY = (corpus_dir("iis-config-2") / "webconfig--mattgillard__iis-reverse-proxy__web.config").read_text("utf-8")
END = "    </system.webServer>\n</configuration>"
"""The end of iischef's web.config, before which a section is added."""


@pytest.mark.parametrize(("section", "says"), [
    (('<httpRedirect enabled="true"><add wildcard="*.asp" destination="/a" /><add wildcard="*.ASP" destination="/b" />'
     "</httpRedirect>"), '<add wildcard="*.ASP"> in system.webServer/httpRedirect'),
    (('<applicationInitialization><add initializationPage="/warm" /><add initializationPage="/Warm" />'
     "</applicationInitialization>"), '<add initializationPage="/Warm"> in system.webServer/applicationInitialization'),
    (('<security><authorization><add accessType="Allow" users="*" /><add accessType="Deny" users="*" />'
     "</authorization></security>"),
     '<add users="*" roles="" verbs=""> in system.webServer/security/authorization'),
    (('<security><authorization><add accessType="Allow" users="Bob" verbs="GET" /><add accessType="Deny" users="bob" '
     'verbs="GET" /></authorization></security>'),
     '<add users="bob" roles="" verbs="GET"> in system.webServer/security/authorization'),
    ('<tracing><traceFailedRequests><add path="*.aspx" /><add path="*.ASPX" /></traceFailedRequests></tracing>',
     '<add path="*.ASPX"> in system.webServer/tracing/traceFailedRequests'),
])
def test_a_duplicate_in_a_section_judged_by_the_schema_refuses_the_web_config(tmp_path: Path, section: str,
                                                                               says: str) -> None:
    """iischef's web.config with one section added before its end, holding an entry twice (the key compared without
    case, as the schema declares no ``caseSensitive`` on it; ``security/authorization``'s key is ``users`` + ``roles``
    + ``verbs``, not ``accessType``, so an Allow and a Deny rule for the same users are one key): IIS refuses the
    web.config, so ikinci.com/ is not checked. It was reported as if IIS ran it."""
    image = _root(tmp_path, CHEF, END, f"        {section}\n{END}")
    [problem] = _refused(image)
    changed = CHEF.replace(END, f"        {section}\n{END}", 1)
    assert (problem["file"], problem["line"]) == (ROOT, _line(changed, section))
    message = problem["message"]
    assert says + " adds an entry the collection already holds there" in message, message
    assert "Cannot add duplicate collection entry" in message, message
    assert _coverage(image)["ikinci.com/"]["status"] == "not-checked"


RULES_END = "</rules>\n        </rewrite>"
"""The end of iischef's URL Rewrite rules, after which another rewrite collection is added."""
PROFILE = '<add extension="." kernelCachePolicy="DontCache" policy="DontCache" />'


@pytest.mark.parametrize(("edit", "says"), [
    ((PROFILE, f'{PROFILE}<add extension="." policy="CacheUntilChange" />'),
     '<add extension="."> in system.webServer/caching/profiles'),
    ((RULES_END, ('</rules><rewriteMaps><rewriteMap name="Old" /><rewriteMap name="old" /></rewriteMaps>\n'
                 "        </rewrite>")), '<rewriteMap name="old"> in system.webServer/rewrite/rewriteMaps'),
    ((RULES_END, ('</rules><providers><provider name="DB" type="T" /><provider name="DB" type="U" /></providers>\n'
                 "        </rewrite>")), '<provider name="DB"> in system.webServer/rewrite/providers'),
])
def test_a_duplicate_in_a_collection_the_web_config_has(tmp_path: Path, edit: tuple[str, str], says: str) -> None:
    """iischef's web.config with an entry added twice to its own ``caching`` (the cache profile of ``.``, which it
    adds already) and ``rewrite`` sections (a rewrite map or provider named twice, the map in another case): IIS
    refuses the web.config, so ikinci.com/ is not checked."""
    image = _root(tmp_path, CHEF, *edit)
    [problem] = _refused(image)
    assert (problem["file"], problem["line"]) == (ROOT, _line(CHEF, edit[0]))
    assert says + " adds an entry the collection already holds there" in problem["message"], problem["message"]
    assert _coverage(image)["ikinci.com/"]["status"] == "not-checked"


@pytest.mark.parametrize("section", [
    ('<security><authorization><add accessType="Allow" users="*" verbs="GET" /><add accessType="Deny" users="*" '
    'verbs="get" /></authorization></security>'),
    ('<security><authorization><add accessType="Allow" users="*" /><remove users="*" roles="" verbs="" />'
    '<add accessType="Deny" users="*" /></authorization></security>'),
    ('<security><authorization><add accessType="Allow" roles="Admins" /><add accessType="Allow" users="Admins" />'
    "</authorization></security>"),
])
def test_keys_that_differ_or_a_remove_first_are_legal(tmp_path: Path, section: str) -> None:
    """``verbs`` is the one case-sensitive part of ``security/authorization``'s key (``GET`` and ``get`` are two
    rules); a ``<remove>`` naming the key (with empty ``roles`` and ``verbs``) takes the first
    rule out; the same name as ``roles`` and as ``users`` is another key: nothing refused."""
    image = _root(tmp_path, CHEF, END, f"        {section}\n{END}")
    assert _refused_or_none(image) == []
    assert _coverage(image)["ikinci.com/"]["status"] != "not-checked"


def test_a_child_application_with_its_parents_rewrite_rules(tmp_path: Path) -> None:
    """The reverse proxy's web.config, as it is, at ikinci.com's root and again in its child application /api: the
    child inherits the parent's URL Rewrite rules, so its own ``ReverseProxyInboundRule1`` and outbound rules and
    preConditions are second entries (rewrite_schema.xml keys them on ``name``): IIS refuses the child's web.config
    (a known 500.19 of sub-applications), and /api is not checked; the root, which IIS takes, still is."""
    image, _ = _api_image(tmp_path, PROXY, root=PROXY)
    refused = _refused(image)
    assert {p["file"] for p in refused} == {"vhosts/ikinci.com/http/api/web.config"}
    said = [p["message"] for p in refused]
    assert [(p["line"]) for p in refused] == [_line(PROXY, n) for n in (
        '<rule name="ReverseProxyInboundRule1"', '<rule name="ReverseProxyOutboundRule1"',
        '<rule name="RestoreAcceptEncoding"', '<preCondition name="ResponseIsHtml1"',
        '<preCondition name="NeedsRestoringAcceptEncoding"')], said
    assert ('<rule name="ReverseProxyInboundRule1"> in system.webServer/rewrite/rules adds an entry the collection '
            "already holds there (added at vhosts/ikinci.com/http/web.config:6)") in said[0], said[0]
    assert "system.webServer/rewrite/outboundRules/preConditions" in said[3], said[3]
    apps = _coverage(image)
    assert apps["ikinci.com/api"]["status"] == "not-checked", apps
    assert apps["ikinci.com/"]["status"] != "not-checked", apps
    assert _refused_or_none(_api_image(tmp_path / "alone", "<configuration/>", root=PROXY)[0]) == []


def test_a_precondition_named_twice_in_one_web_config(tmp_path: Path) -> None:
    """The reverse proxy's second outbound preCondition renamed as its first: IIS refuses the web.config."""
    image = _root(tmp_path, PROXY, '<preCondition name="NeedsRestoringAcceptEncoding">',
                  '<preCondition name="ResponseIsHtml1">')
    [problem] = _refused(image)
    assert problem["line"] == _line(PROXY, '<preCondition name="NeedsRestoringAcceptEncoding">')
    assert '<preCondition name="ResponseIsHtml1"> in system.webServer/rewrite/outboundRules/preConditions' in \
        problem["message"]


C1982_FASTCGI = 'arguments="-d host=deneme.com"'
WINDOWS = "<windowsAuthentication />"


@pytest.mark.parametrize(("edit", "says"), [
    ((C1982_FASTCGI, 'arguments="-d host=ikinci.com"'),
     ('<application fullPath="C:\\Program Files\\MaestroPanel\\php\\v5.6\\php-cgi.exe" arguments="-d host=ikinci.com"> '
     "in system.webServer/fastCgi")),
    (('<add name="WWW Server" guid=', '<add name="aspnet" guid='),
     '<add name="aspnet"> in system.webServer/tracing/traceProviderDefinitions'),
    (('<application name="Active Server Pages" groupId="ASP" />',
      '<application name="Active Server Pages" groupId="ASP" /><application name="active server pages" />'),
     '<application name="active server pages"> in system.webServer/security/applicationDependencies'),
    (('<add path="%windir%\\system32\\inetsrv\\asp.dll" allowed="true"',
      ('<add path="%WINDIR%\\System32\\inetsrv\\asp.dll" allowed="false" /><add path="%windir%\\system32\\inetsrv\\'
      'asp.dll" allowed="true"')),
     '<add path="%windir%\\system32\\inetsrv\\asp.dll"> in system.webServer/security/isapiCgiRestriction'),
    ((WINDOWS, ('<windowsAuthentication><providers><add value="Negotiate" /><add value="NTLM" /><add value="ntlm" />'
               "</providers></windowsAuthentication>")),
     '<add value="ntlm"> in system.webServer/security/authentication/windowsAuthentication/providers'),
    ((WINDOWS, ('<windowsAuthentication><extendedProtection tokenChecking="Allow"><spn name="HTTP/web01" />'
               '<spn name="http/WEB01" /></extendedProtection></windowsAuthentication>')),
     '<spn name="http/WEB01"> in system.webServer/security/authentication/windowsAuthentication/extendedProtection'),
    (("<ipSecurity />", ('<ipSecurity allowUnlisted="false"><add ipAddress="10.0.0.1" allowed="true" />'
                        '<add ipAddress="10.0.0.1" subnetMask="255.255.255.255" allowed="true" /></ipSecurity>')),
     '<add ipAddress="10.0.0.1" subnetMask="255.255.255.255" domainName=""> in system.webServer/security/ipSecurity'),
])
def test_a_duplicate_in_application_host_config(tmp_path: Path, edit: tuple[str, str], says: str) -> None:
    """The server's applicationHost.config changed in one place to hold an entry twice: a fastCgi application of the
    same ``fullPath`` and ``arguments`` (the combined key; the same PHP with other arguments is another entry, as the
    file has it), a trace provider, application dependency, ISAPI/CGI restriction, Windows authentication provider or
    extended protection SPN in another case (keys without ``caseSensitive``), an IP rule whose ``subnetMask`` is the
    schema's default written out: IIS refuses the section for every site, which the report says (refused)."""
    image, text = _image(tmp_path, edit)
    [problem] = _refused(image)
    assert (problem["file"], problem["line"]) == (APPHOST, text[:text.rindex(edit[1])].count("\n") + 1), problem
    assert says + " adds an entry the collection already holds there" in problem["message"], problem["message"]


@pytest.mark.parametrize("edit", [
    ("<ipSecurity />", ('<ipSecurity><add ipAddress="10.0.0.1" /><add ipAddress="10.0.0.1" subnetMask="255.255.0.0" />'
                       "</ipSecurity>")),
    (WINDOWS, ('<windowsAuthentication><extendedProtection><spn name="HTTP/web01" /><removeSpn name="http/WEB01" />'
              '<spn name="HTTP/web01" /></extendedProtection></windowsAuthentication>')),
])
def test_other_keys_and_the_schemas_own_remove_are_legal(tmp_path: Path, edit: tuple[str, str]) -> None:
    """Another ``subnetMask`` is another IP rule; extended protection's remove directive is ``<removeSpn>`` (the
    schema's ``removeElement``), which takes the SPN out: nothing refused."""
    image, _ = _image(tmp_path, edit)
    assert _refused_or_none(image) == []


WEBDAV = (corpus_dir("iis-config") / "RedHatSE__windowcontainertest__config__applicationHost.config").read_text(
    "utf-8-sig")
STORE = ('<add name="webdav_simple_prop" image="%windir%\\system32\\inetsrv\\webdav_simple_prop.dll" '
         'image32="%windir%\\syswow64\\inetsrv\\webdav_simple_prop.dll" />')


@pytest.mark.parametrize(("added", "said"), [
    (STORE, True), (STORE.replace('name="webdav_simple_prop"', 'name="other"'), False),
    ('<clear />' + STORE, False), ('<remove name="webdav_simple_prop" />' + STORE, False),
    ('<remove name="other" />' + STORE, True)])
def test_a_repeated_entry_of_a_section_the_schema_does_not_declare(tmp_path: Path, added: str, said: bool) -> None:
    """A stock server's WebDAV section (WebDAV's own schema, not IIS_schema.xml's: its keys unknown) with its property
    store listed twice, attribute for attribute: whatever the key, IIS refuses it unless the list has none, which the
    scan cannot tell, so it says so and does not call the server checked. A second store of another name is not said
    (its key unknown: nothing to say), nor is the file as it is, nor a second entry after a ``<clear/>`` or a
    ``<remove>`` that names the first entry's attributes (legal whatever the key); a ``<remove>`` of another entry
    leaves the repeat said."""
    image = tmp_path / "img"
    (image / APPHOST).parent.mkdir(parents=True)
    (image / "Windows/SysWOW64").mkdir(parents=True)
    assert STORE in WEBDAV
    (image / APPHOST).write_text(WEBDAV.replace(STORE, STORE + added, 1), encoding="utf-8")
    doc = json.loads(_scan(image, "json")[1])
    notes = [p for p in doc["problems"] if "system.webServer/webdav" in p["message"]]
    if not said:
        assert notes == []
        return
    [note] = notes
    line = _line(WEBDAV, STORE)
    assert (note["file"], note["line"], note.get("refused")) == (APPHOST, line, None), note
    assert f"repeats the entry at line {line} attribute for attribute" in note["message"], note
    assert "was not checked" in note["message"], note
    statuses = {a["application"]: a["status"] for a in doc["coverage"]["applications"]}
    assert "checked" not in statuses.values(), statuses
