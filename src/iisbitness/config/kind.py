"""What kind of IIS configuration file a parsed file is, so that a file that is not an
applicationHost.config is named for what it is instead of scanned as an empty server.

A file given as applicationHost.config (``--config``, or the image's) that holds no
``<system.applicationHost>`` would otherwise read as a server with no pools, sites or modules
and report nothing: a silent miss (issue 12). The kinds and their marks (facts B1; iis-docs
"Introduction to ApplicationHost.config", "configurationRedirection"; the Web.config
Transformation Syntax (XDT) reference):

- applicationHost.config: ``<configuration>`` with ``<system.applicationHost>``, or with
  ``system.webServer/globalModules`` (a section only applicationHost.config may hold).
- XDT transform (``applicationHost.xdt`` of an Azure App Service site extension): any element or
  attribute in the ``http://schemas.microsoft.com/XML-Document-Transform`` namespace.
- redirection.config: ``<configurationRedirection>``.
- administration.config (IIS Manager): ``<moduleProviders>`` or ``system.webServer/management``.
- web.config: ``<system.webServer>``, ``<system.web>``, ``<appSettings>`` ... but no
  ``<system.applicationHost>``.
- a fragment: a root element other than ``<configuration>`` (e.g. a ``<site>`` copied out).
"""

from __future__ import annotations

from enum import Enum

from lxml import etree

from iisbitness.config.xml import attr, child, children, line_of, local_name
from iisbitness.errors import ConfigError

XDT_NS = "http://schemas.microsoft.com/XML-Document-Transform"

_WEB_SECTIONS = ("system.webServer", "system.web", "appSettings", "connectionStrings", "system.serviceModel",
                 "runtime", "system.codedom", "location", "configSections")


class ConfigKind(Enum):
    """The kinds of configuration file iisbitness tells apart."""

    APPHOST = "applicationHost.config"
    XDT = "XDT transform"
    REDIRECTION = "redirection.config"
    ADMINISTRATION = "administration.config"
    WEB_CONFIG = "web.config"
    FRAGMENT = "fragment"
    OTHER = "other"


def _xdt_element(root: etree._Element) -> etree._Element | None:
    mark = "{" + XDT_NS + "}"
    for el in root.iter():
        tag = el.tag
        if not isinstance(tag, str):
            continue
        if tag.startswith(mark) or any(str(k).startswith(mark) for k in el.attrib):
            return el
    return root if XDT_NS in (root.nsmap or {}).values() else None


def _has_global_modules(root: etree._Element) -> bool:
    groups = children(root, "system.webServer") + [g for loc in children(root, "location")
                                                   for g in children(loc, "system.webServer")]
    return any(children(g, "globalModules") for g in groups)


def classify(root: etree._Element) -> tuple[ConfigKind, etree._Element]:
    """The kind of file ``root`` is the root element of, and the element that shows it."""
    if local_name(root) != "configuration":
        return ConfigKind.FRAGMENT, root
    xdt = _xdt_element(root)
    if xdt is not None:
        return ConfigKind.XDT, xdt
    host = child(root, "system.applicationHost")
    if host is not None:
        return ConfigKind.APPHOST, host
    if _has_global_modules(root):
        return ConfigKind.APPHOST, root
    redir = child(root, "configurationRedirection")
    if redir is not None:
        return ConfigKind.REDIRECTION, redir
    admin = child(root, "moduleProviders")
    if admin is None:
        admin = child(root, "system.webServer", "management")
    if admin is not None:
        return ConfigKind.ADMINISTRATION, admin
    for name in _WEB_SECTIONS:
        found = child(root, name)
        if found is not None and name != "configSections":
            return ConfigKind.WEB_CONFIG, found
    return ConfigKind.OTHER, root


def _redirection_words(el: etree._Element) -> str:
    enabled = attr(el, "enabled").strip().lower() in ("true", "1")
    path = attr(el, "path")
    if enabled and path:
        return f"shared configuration is on: IIS reads applicationHost.config from '{path}'"
    return ("shared configuration is off: IIS reads the applicationHost.config in the same folder "
            "(%windir%\\System32\\inetsrv\\config)")


def require_apphost(root: etree._Element, shown: str) -> None:
    """Raise unless ``root`` is an applicationHost.config, naming what the file is instead.

    Raises:
        ConfigError: the file is a web.config, redirection.config, administration.config, an XDT
            transform, a fragment or another configuration file (file and line in the message).
    """
    kind, el = classify(root)
    if kind is ConfigKind.APPHOST:
        return
    line = line_of(el)
    fix = ("give the server image (the folder standing for C:\\) or its "
           "Windows\\System32\\inetsrv\\config\\applicationHost.config")
    if kind is ConfigKind.FRAGMENT:
        why = (f"a fragment, not an applicationHost.config: its root element is <{local_name(root)}>, not "
               "<configuration> (e.g. a <site> copied out of applicationHost.config); " + fix)
    elif kind is ConfigKind.XDT:
        why = ("an XML Document Transform (xdt:Transform; e.g. an Azure App Service site extension's "
               "applicationHost.xdt), not an applicationHost.config: it edits a configuration that is not here; "
               "apply it to that applicationHost.config and scan the result")
    elif kind is ConfigKind.REDIRECTION:
        why = (f"a redirection.config, not an applicationHost.config: it only says where applicationHost.config "
               f"lives ({_redirection_words(el)}); {fix} (iisbitness follows redirection.config inside an image)")
    elif kind is ConfigKind.ADMINISTRATION:
        why = ("an administration.config (IIS Manager's modules and providers), not an applicationHost.config: it "
               "names no application pool, site or binary a worker loads; " + fix)
    elif kind is ConfigKind.WEB_CONFIG:
        why = (f"a web.config (or a piece of one: <{local_name(el)}> and no <system.applicationHost>), not an "
               "applicationHost.config: it configures one application and names no application pool or site; put "
               "it in the site's folder inside a server image, where iisbitness reads it with the "
               "applicationHost.config that maps the site")
    else:
        why = "a <configuration> without <system.applicationHost>: not an applicationHost.config; " + fix
    raise ConfigError(shown, "this file is " + why, line)
