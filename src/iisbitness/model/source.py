"""Where configuration objects come from, and problems met reading them: shared by IIS 7+ and IIS 6 models."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from iisbitness.slots import direct_init


@direct_init  # NOTE: one per bin file and worker (issue 25)
@dataclass(frozen=True, slots=True)
class ConfigSource:
    """Where a configuration object was read.

    Attributes:
        file: the file as a user names it: a path relative to the server image root with
            forward slashes (``Windows/System32/inetsrv/config/applicationHost.config``), or the
            path given on the command line.
        line: 1-based line number of the element, or None when unknown.
    """

    file: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


class ServerKind(str, Enum):
    """Which configuration system the server uses."""

    IIS7 = "iis7+"
    IIS6 = "iis6"


@dataclass(frozen=True, slots=True)
class DuplicateEntry:
    """A collection entry added where the collection already holds its key (HTTP 500.19, 0x800700B7, KB 942055).

    Attributes:
        collection: the section holding the collection, e.g. ``system.webServer/handlers``.
        element: the add element's name (``add``; ``filter`` in ``isapiFilters``).
        key: the key attribute (``name``); a combined key's attributes joined by ``", "`` (``statusCode,
            subStatusCode`` in ``httpErrors``).
        value: the key's value as written in the refused element; a combined key's parts joined by ``", "``
            (``404, -1``: a part the element leaves out is the schema's default).
    """

    collection: str
    element: str
    key: str
    value: str

    @property
    def tag(self) -> str:
        """The refused element by its key: ``<add name="X">``, ``<error statusCode="404" subStatusCode="-1">``."""
        pairs = zip(self.key.split(", "), self.value.split(", "), strict=False) if ", " in self.key else [
            (self.key, self.value)]
        attrs = " ".join(f'{k}="{v}"' for k, v in pairs)
        return f"<{self.element} {attrs}>"

    def __str__(self) -> str:
        return f"{self.tag} in {self.collection}"


@dataclass(frozen=True, slots=True)
class Problem:
    """A problem met while reading the server, reported instead of crashing.

    Attributes:
        file: file as the user names it.
        line: 1-based line or None.
        message: what is wrong and what was done about it.
        fatal: True when the file could not be used at all.
        unread: True when a file or folder of an application (a web.config, a folder to list, ``bin``) could not
            be read, so that what it holds was not checked: the report's coverage counts it against the
            application whose folder holds ``file`` (issue 20).
        refused: True when IIS itself refuses what ``file`` holds there, so that it does not run as configured: a
            web.config that is not well-formed XML, sets a section IIS allows only in applicationHost.config or one
            locked there or by a parent web.config, adds a collection entry it already holds (0x800700B7), or
            removes, clears or sets what a parent locks (``lockItem``, ``lockElements``, ``lockAttributes``), writes a
            section twice at one path or declares a section its pool's Framework machine.config declares (HTTP
            500.19 for every request at or below its folder, KB 942055); in applicationHost.config
            a pool, a site (``name`` or ``id``), an application or virtual directory (``path``), a collection entry or
            a section defined twice (0x800700B7) or a value IIS's schema validation rejects (a pool name with a
            character the ``applicationPoolName`` validator refuses, an ``<application>`` without ``path``: IIS fails
            reading that section). ``message`` says what IIS does and what the scan could therefore not check;
            ``check-app`` exits 2 on one in the build's own files.
        pool: the application pool name (as written) a ``refused`` problem is about, where it is one: a pool's name,
            or an application's ``applicationPool``, that IIS's ``applicationPoolName`` validator refuses; the HTML
            server map says so on that pool's card. None otherwise.
        remedy: what to give a new scan so that it reads what this problem says was not read (``--share
            //server/share=/path/to/copy`` for redirection.config's shared configuration on a share the image does not
            hold), set where the problem is made; "" when no option does. Coverage gives it as the remedy of the
            applications the problem leaves unread.
        search_gap: True for a folder the web.config search could not list or stopped in (``unread``): the
            web.config files below it were not read, and they reach the applications below it (coverage counts it
            against those too).
        duplicate: for a ``refused`` problem that is a collection entry added a second time (0x800700B7), which entry
            in which collection; None otherwise. Coverage names the entry from it.
        scope: for a ``refused`` problem of applicationHost.config at a ``<location path>`` naming a folder of one
            application (no application at or below it), that config path (lower case, site first): IIS answers
            HTTP 500.19 to the requests at or below it only, so that application is partly checked (coverage) and
            the rest of the server can be fixed; ``()`` otherwise.
    """

    file: str
    line: int | None
    message: str
    fatal: bool = False
    unread: bool = False
    refused: bool = False
    pool: str | None = None
    remedy: str = ""
    search_gap: bool = False
    duplicate: DuplicateEntry | None = None
    scope: tuple[str, ...] = ()

    @property
    def where(self) -> str:
        """``file:line``, or ``file`` when the line is unknown (as :class:`ConfigSource` prints)."""
        return f"{self.file}:{self.line}" if self.line else self.file
