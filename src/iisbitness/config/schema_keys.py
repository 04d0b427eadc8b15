"""The keyed collections of IIS configuration, as IIS's schema files declare them: one table, so that every section is
judged for entries IIS refuses as duplicates (HTTP 500.19, 0x800700B7) the same way.

How IIS decides, and where each rule comes from:

- the key: the attribute of an entry that IIS_schema.xml's ``<collection>`` marks ``isUniqueKey="true"``, or the
  attributes it marks ``isCombinedKey="true"`` taken together (the schema's own legend: "isUniqueKey ... Serves as the
  collection key", "isCombinedKey ... Part of a multi-attribute key"; "IAppHostPropertySchema::IsCombinedKey Property",
  learn.microsoft.com/previous-versions/iis/dev/aa965036: "the bindings element cannot contain more than one binding
  element that has the same protocol and bindingInformation attributes"). An attribute left out counts with its
  ``defaultValue`` (``httpErrors``' ``subStatusCode``: ``-1``; ``ipSecurity``'s ``subnetMask``:
  ``255.255.255.255``), an optional one without a default as empty (INFERENCE: the value IIS's configuration API
  returns for it); a required one missing is another error, not judged here;
- a second entry of one key is refused unless the collection says ``allowDuplicates="true"`` (legend: "Indicates if
  multiple elements may have the same key"; "IAppHostCollectionSchema::DoesAllowDuplicates Property",
  learn.microsoft.com/previous-versions/iis/dev/aa965188). No collection of the schema files below says so;
- ``caseSensitive="true"`` on a key attribute: values differing in case are two keys (legend: "Indicates if attribute
  value is case-sensitive"); every other key attribute compares without case (its default, false:
  ``IAppHostPropertySchema::IsCaseSensitive``); ``uint``/``int`` attributes compare as numbers;
- the directives: ``addElement``, ``removeElement``, ``clearElement`` of the ``<collection>`` (``removeSpn`` and
  ``clearSpns`` in ``windowsAuthentication``'s ``extendedProtection``); a collection that declares none of the last two
  takes neither. ``<remove>`` takes out the entry of its key; ``<clear/>`` every inherited one (KB 942055 and the
  blog cited at :func:`~iisbitness.config.merge.collection_breaches`).

Sources, read as text (github.com/lextm/iis_schema, copies of the files Windows installs in
``%windir%\\System32\\inetsrv\\config\\schema``): IIS_schema.xml (commit 08376915d3bc2d01713c58ec2bed2ea8d71b6877) and
rewrite_schema.xml, URL Rewrite's (commit de17a9591a9c614d10d836eace7666a693db75d6). Left out on purpose:

- collections inside a collection's entries (a rewrite rule's ``conditions`` and ``serverVariables``, a
  ``filteringRule``'s ``scanHeaders``, a fastCgi application's ``environmentVariables``, a site's ``bindings``): each
  entry's own list, not merged over the hierarchy; not judged;
- collections without a key: ``aspNetCore``'s ``environmentVariables`` and ``handlerSettings`` (aspnetcore_schema_v2.xml
  declares no key attribute for them), ``rewrite/rules``' conditions, ``management/trustedProviders``;
- ``system.webServer/management/*`` (IIS Manager's administration.config, which the scan does not read) and
  ``system.applicationHost``'s collections (pools are judged by :meth:`iisbitness.config.apphost._Reader.pools`);
- ``system.web``: ASP.NET's configuration system reads it, not IIS's schema; whether and how a duplicate there fails
  (ASP.NET's own configuration error, for managed requests) is not judged (UNSOURCED here).
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from iisbitness.config.merge import CombinedKey
from iisbitness.config.xml import local_name

IIS_SCHEMA = "IIS_schema.xml"
REWRITE_SCHEMA = "rewrite_schema.xml"


@dataclass(frozen=True, slots=True)
class KeyedCollection:
    """One keyed collection of a ``system.webServer`` section.

    Attributes:
        path: the collection element's path below ``system.webServer`` (``security/authorization``,
            ``httpProtocol/customHeaders``): the section element itself where the section holds the entries.
        add: the add directive's element name (``add``, ``mimeMap``, ``error``, ``rule``).
        key: the unique key attribute, or the combined key (:class:`~iisbitness.config.merge.CombinedKey`).
        case_sensitive: the unique key is ``caseSensitive="true"`` (a combined key says it per attribute).
        remove: the remove directive's element name, None where the collection declares none.
        clear: the clear directive's element name, None where the collection declares none.
        schema: the schema file that declares it.
        server_only: judged at the server's level alone (applicationHost.config's own ``system.webServer`` and
            ``<location path="">``), not merged at a site's path: ``globalModules`` (read when a worker starts, facts
            C7) and ``httpCompression``'s, which the scan reads at that level only (its scheme DLLs) and of which no
            Microsoft page says whether IIS merges it at a site's path. A Visual Studio IIS Express
            applicationhost.config of the corpus (MarkKharitonov/wcf-to-corewcf) adds ``text/event-stream`` to
            ``dynamicTypes`` both at the file's level and in each site's ``<location>``, a setup Visual Studio writes
            for its developers; taken to work (INFERENCE), it is not said refused.
    """

    path: str
    add: str
    key: str | CombinedKey
    case_sensitive: bool = False
    remove: str | None = "remove"
    clear: str | None = "clear"
    schema: str = IIS_SCHEMA
    server_only: bool = False

    @property
    def section(self) -> str:
        """The collection as problems name it: ``system.webServer/<path>``."""
        return f"system.webServer/{self.path}"


_RF = "security/requestFiltering/"
_WA = "security/authentication/windowsAuthentication/"
_CERT = "security/authentication/iisClientCertificateMappingAuthentication/"
_RW = "rewrite/"

COLLECTIONS: tuple[KeyedCollection, ...] = (
    KeyedCollection("globalModules", "add", "name", case_sensitive=True, server_only=True),
    KeyedCollection("handlers", "add", "name", case_sensitive=True),
    KeyedCollection("modules", "add", "name", case_sensitive=True),
    KeyedCollection("isapiFilters", "filter", "name", case_sensitive=True),
    KeyedCollection("applicationInitialization", "add", "initializationPage"),
    KeyedCollection("caching/profiles", "add", "extension"),
    KeyedCollection("defaultDocument/files", "add", "value"),
    KeyedCollection("fastCgi", "application", CombinedKey(("fullPath", "arguments"), (None, "")),
                    remove=None, clear=None),
    KeyedCollection("httpCompression", "scheme", "name", server_only=True),
    KeyedCollection("httpCompression/staticTypes", "add", "mimeType", server_only=True),
    KeyedCollection("httpCompression/dynamicTypes", "add", "mimeType", server_only=True),
    KeyedCollection("httpErrors", "error", CombinedKey(("statusCode", "subStatusCode"), (None, "-1"), integer=True)),
    KeyedCollection("httpProtocol/customHeaders", "add", "name"),
    KeyedCollection("httpProtocol/redirectHeaders", "add", "name"),
    KeyedCollection("httpRedirect", "add", "wildcard"),
    KeyedCollection("httpTracing/traceUrls", "add", "value"),
    KeyedCollection("security/applicationDependencies", "application", "name", remove=None),
    KeyedCollection(f"{_CERT}manyToOneMappings", "add", "name", remove=None),
    KeyedCollection(f"{_CERT}oneToOneMappings", "add", "certificate", case_sensitive=True, remove=None),
    KeyedCollection(f"{_WA}providers", "add", "value"),
    KeyedCollection(f"{_WA}extendedProtection", "spn", "name", remove="removeSpn", clear="clearSpns"),
    KeyedCollection("security/authorization", "add",
                    CombinedKey(("users", "roles", "verbs"), ("", "", ""), cased=(False, False, True))),
    KeyedCollection("security/ipSecurity", "add",
                    CombinedKey(("ipAddress", "subnetMask", "domainName"), ("", "255.255.255.255", ""))),
    KeyedCollection("security/isapiCgiRestriction", "add", "path"),
    KeyedCollection(f"{_RF}fileExtensions", "add", "fileExtension"),
    KeyedCollection(f"{_RF}verbs", "add", "verb", case_sensitive=True),
    KeyedCollection(f"{_RF}hiddenSegments", "add", "segment"),
    KeyedCollection(f"{_RF}denyUrlSequences", "add", "sequence"),
    KeyedCollection(f"{_RF}denyQueryStringSequences", "add", "sequence"),
    KeyedCollection(f"{_RF}alwaysAllowedUrls", "add", "url"),
    KeyedCollection(f"{_RF}alwaysAllowedQueryStrings", "add", "queryString"),
    KeyedCollection(f"{_RF}requestLimits/headerLimits", "add", "header"),
    KeyedCollection(f"{_RF}filteringRules", "filteringRule", "name"),
    KeyedCollection("staticContent", "mimeMap", "fileExtension"),
    KeyedCollection("tracing/traceFailedRequests", "add", "path"),
    KeyedCollection("tracing/traceProviderDefinitions", "add", "name"),
    KeyedCollection(f"{_RW}globalRules", "rule", "name", schema=REWRITE_SCHEMA),
    KeyedCollection(f"{_RW}rules", "rule", "name", schema=REWRITE_SCHEMA),
    KeyedCollection(f"{_RW}outboundRules", "rule", "name", schema=REWRITE_SCHEMA),
    KeyedCollection(f"{_RW}outboundRules/customTags", "tags", "name", schema=REWRITE_SCHEMA),
    KeyedCollection(f"{_RW}outboundRules/preConditions", "preCondition", "name", schema=REWRITE_SCHEMA),
    KeyedCollection(f"{_RW}allowedServerVariables", "add", "name", schema=REWRITE_SCHEMA),
    KeyedCollection(f"{_RW}providers", "provider", "name", schema=REWRITE_SCHEMA),
    KeyedCollection(f"{_RW}rewriteMaps", "rewriteMap", "name", schema=REWRITE_SCHEMA),
)
"""Every keyed collection of a ``system.webServer`` section that IIS_schema.xml and rewrite_schema.xml declare
(module docstring: sources, and what is left out), in schema order within each file. ``fastCgi``'s combined key
``fullPath`` + ``arguments`` (``arguments`` defaulting to empty); ``security/authorization``'s ``users`` + ``roles`` +
``verbs``, of which only ``verbs`` is ``caseSensitive`` (``accessType`` is no part of it: an Allow and a Deny rule for
the same users are one key); ``security/ipSecurity``'s ``ipAddress`` + ``subnetMask`` + ``domainName``."""

DECLARED: frozenset[str] = frozenset({
    *(c.path for c in COLLECTIONS),
    "asp", "caching", "cgi", "defaultDocument", "directoryBrowse", "httpCompression", "httpErrors", "httpLogging",
    "httpProtocol", "httpRedirect", "httpTracing", "applicationInitialization", "odbcLogging", "serverRuntime",
    "serverSideInclude", "staticContent", "urlCompression", "validation", "webSocket", "management",
    "security/access", "security/dynamicIpSecurity", "security/requestFiltering", "security/authentication",
    "tracing", "rewrite", "aspNetCore",
})
"""The ``system.webServer`` sections (paths below the group, as :func:`iisbitness.config.locks.section_elements` gives
them; ``security/authentication``, ``tracing``, ``rewrite`` and ``management`` are groups whose sections the schema files
all declare) that IIS_schema.xml, rewrite_schema.xml and aspnetcore_schema_v2.xml declare: a section elsewhere is a
module's own (WebDAV, ARR's ``proxy``, ``httpPlatform``, ``iisnode``...), whose keys the scan does not know
(:func:`repeated_entries`)."""


def declared(path: str) -> bool:
    """Whether the ``system.webServer`` section at ``path`` (``webdav``, ``security/authorization``) is one the schema
    files of :data:`DECLARED` declare."""
    return path in DECLARED or path.split("/", 1)[0] in {"rewrite", "tracing", "management"}


def repeated_entries(section: etree._Element) -> list[tuple[etree._Element, etree._Element]]:
    """Each element below ``section`` (at any depth) that repeats an earlier sibling attribute for attribute (the same
    element name, the same attribute names, values equal without case or surrounding white space), with that earlier
    one, in document order; elements without attributes left out. A directive between the two makes the second
    legal, as in every collection of IIS_schema.xml: an element named ``clear...`` (``<clear/>``, ``<clearSpns/>``)
    forgets every earlier sibling, one named ``remove...`` (``<remove>``, ``<removeSpn>``) each earlier sibling whose
    attributes include all of its own with equal values (whatever the key, a ``<remove>`` names the key's attributes
    only: INFERENCE that a module's schema names its directives as IIS_schema.xml's do).

    For a section whose schema the scan does not know: whatever attributes its collection is keyed on, two such
    entries hold the same key, which IIS refuses ("Cannot add duplicate collection entry", HTTP 500.19, 0x800700B7)
    unless the collection declares no key or ``allowDuplicates="true"``: the scan cannot tell, and says so. Entries
    that differ in any attribute are not said (their key is unknown; saying each would flood the report)."""
    out: list[tuple[etree._Element, etree._Element]] = []
    for parent in section.iter():
        seen: dict[tuple[str, frozenset[tuple[str, str]]], etree._Element] = {}
        for el in parent:
            name = local_name(el)
            if not name:
                continue
            attributes = frozenset((str(n), str(v).strip().lower()) for n, v in el.attrib.items())
            if name.startswith("clear"):
                seen.clear()
                continue
            if name.startswith("remove"):
                seen = {k: first for k, first in seen.items() if not attributes <= k[1]}
                continue
            if not attributes:
                continue
            key = (name, attributes)
            first = seen.get(key)
            if first is None:
                seen[key] = el
            else:
                out.append((first, el))
    return out
