"""``iisbitness check-app``: would this build output load in such a pool?

The same pipeline and rules as ``scan``, run on a server around one application whose root folder
is the publish folder (``P:\\<folder name>``: its parent folder is mapped as drive ``P:`` of the
image, so nothing is copied or written there; a drive root as the application folder would make
``.\\App.exe`` the drive-relative ``P:App.exe``):

- Alone (``--pool-arch``, ``--runtime``, ``--pipeline``): a synthetic applicationHost.config with
  one pool and one site, in a temporary folder standing for ``C:``. The folder holds nothing else,
  so the rules that judge the server rather than the build are not run: ``aspnetcore-runtime-missing``
  (which .NET runtimes the server has) and ``com-inproc-arch`` (what its registry holds).
- Against a server (``--server IMAGE --site S/app``): that image's own applicationHost.config with
  the application's root virtual directory pointed at the publish folder (one attribute changed, in
  a temporary copy); the application keeps its real pool, global modules, handlers and runtimes.
  Findings about the application are reported, and findings about its pool that the real
  application does not already cause (a pool conflict the new build would bring). Problems and coverage are
  the application's: another application's (its ``<application>`` element's lines, what its coverage counts) are
  left out.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from lxml import etree

from iisbitness.arch import Arch
from iisbitness.config.apphost import find_apphost
from iisbitness.config.xml import attr, local_name
from iisbitness.errors import ServerImageError
from iisbitness.findings import Finding
from iisbitness.fixes.text import Document, Edits, xml_attr_value
from iisbitness.image.server_image import ServerImage
from iisbitness.loadplan.coverage import GAC_REMEDY
from iisbitness.model.source import ConfigSource, Problem
from iisbitness.report import Report
from iisbitness.rules import RULES
from iisbitness.scan.pipeline import ScanOptions, scan

PUBLISH_DRIVE = "P"
SERVER_ONLY_RULES = frozenset({"aspnetcore-runtime-missing", "com-inproc-arch"})
"""Rules that judge what the server has installed; not run without ``--server``."""
POOL = "check-app"


@dataclass(frozen=True, slots=True)
class PoolSpec:
    """The pool to check against: worker architecture, CLR version (``""`` for none), pipeline."""

    arch: Arch
    runtime: str = "v4.0"
    pipeline: str = "Integrated"


def _publish(publish: Path) -> tuple[dict[str, Path], str]:
    """The drive mapping and the Windows path of the publish folder."""
    folder = publish.resolve()
    return {PUBLISH_DRIVE: folder.parent}, f"{PUBLISH_DRIVE}:\\{folder.name}"


def _synthetic_apphost(pool: PoolSpec, physical: str) -> str:
    e32 = "true" if pool.arch is Arch.X86 else "false"
    emu = "false" if pool.arch is Arch.ARM64 else "true"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<configuration>\n  <system.applicationHost>\n'
        f'    <applicationPools>\n      <add name="{POOL}" enable32BitAppOnWin64="{e32}" '
        f'enableEmulationOnWinArm64="{emu}" managedRuntimeVersion="{xml_attr_value(pool.runtime)}" '
        f'managedPipelineMode="{xml_attr_value(pool.pipeline)}" />\n    </applicationPools>\n'
        f'    <sites>\n      <site name="{POOL}" id="1">\n        <application path="/" applicationPool="{POOL}">\n'
        f'          <virtualDirectory path="/" physicalPath="{xml_attr_value(physical)}" />\n        </application>\n'
        '      </site>\n    </sites>\n  </system.applicationHost>\n</configuration>\n')


def check_alone(publish: Path, pool: PoolSpec) -> Report:
    """Check ``publish`` in a pool of ``pool`` on a server that holds nothing else.

    Raises:
        ConfigError: a web.config of the publish folder cannot be parsed.
    """
    os_arch = Arch.ARM64 if pool.arch is Arch.ARM64 else Arch.X64
    with tempfile.TemporaryDirectory(prefix="iisbitness-check-app-") as tmp:
        root = Path(tmp)
        config = root / "applicationHost.config"
        drives, physical = _publish(publish)
        config.write_text(_synthetic_apphost(pool, physical), encoding="utf-8")
        options = ScanOptions(os_arch=os_arch, drives=drives, config=config,
                              rules=tuple(r for r in RULES if r.id not in SERVER_ONLY_RULES))
        report = scan(root, options)
    # NOTE: alone there is no GAC at all: what to give is the server the build goes to, not folders to copy
    server = f"the server's GAC: iisbitness check-app \"{publish}\" --server IMAGE --site SITE/APP"
    coverage = tuple(replace(c, remedy=c.remedy.replace(GAC_REMEDY, server)) for c in report.coverage)
    return replace(report, coverage=coverage,
                   server=replace(report.server, image=str(publish), config_file="(check-app pool)"))


def _split(site_app: str) -> tuple[str, str]:
    site, sep, app = site_app.partition("/")
    return site, "/" + app.strip("/") if sep else "/"


def _url(path: str) -> str:
    return ("/" + path.strip().replace("\\", "/").strip("/")).lower()


def _named(el: etree._Element, tag: str) -> bool:
    return isinstance(el.tag, str) and local_name(el) == tag


def _lines(el: etree._Element) -> range:
    """The lines of applicationHost.config that ``el`` and its children span."""
    lines: list[int] = []
    for e in el.iter():
        line = e.sourceline
        if isinstance(e.tag, str) and isinstance(line, int):
            lines.append(line)
    return range(min(lines), max(lines) + 1) if lines else range(0)


def _apphost_with(image: Path, site: str, app: str, drives: dict[str, Path], physical: str
                  ) -> tuple[bytes, str, frozenset[int]]:
    """The image's applicationHost.config with ``site``/``app``'s root folder on the publish drive, and the lines of
    every other ``<application>`` element (their virtual directories' problems are not the check's)."""
    path, shown, _ = find_apphost(ServerImage.offline(image, drives))
    doc = Document.read(path.read_bytes(), shown)
    for s in (s for s in doc.root.iter() if _named(s, "site") and attr(s, "name").lower() == site.lower()):
        for a in (a for a in s if _named(a, "application") and _url(attr(a, "path", "/")) == _url(app)):
            for v in (v for v in a if _named(v, "virtualDirectory") and _url(attr(v, "path", "/")) == "/"):
                edits = Edits.of(doc)
                edits.set(v, "physicalPath", physical)
                others = frozenset(n for o in doc.root.iter() if _named(o, "application") and o is not a
                                   for n in _lines(o))
                return edits.result(), shown, others
    raise ServerImageError(f"{shown}: no application {site}{app} with a root virtual directory")


def check_on_server(publish: Path, image: Path, site_app: str, options: ScanOptions | None = None) -> Report:
    """Check ``publish`` as application ``site_app`` (``Site/app``) of the server image ``image``.

    Raises:
        ServerImageError: no such application. ConfigError: a configuration file cannot be parsed.
    """
    options = options or ScanOptions()
    site, app = _split(site_app)
    before = scan(image, options)
    publish_drive, physical = _publish(publish)
    data, shown, others = _apphost_with(image, site, app, dict(options.drives), physical)
    with tempfile.TemporaryDirectory(prefix="iisbitness-check-app-") as tmp:
        config = Path(tmp) / "applicationHost.config"
        config.write_bytes(data)
        drives = dict(options.drives) | publish_drive
        after = scan(image, replace(options, drives=drives, config=config))
    label = f"{site}{app}".lower()
    pools = {p.name for p in after.pools if any(a.lower() == label for a in p.applications)}
    known = {f.key for f in before.findings}

    def about_app(f: Finding) -> bool:
        if f.site is not None:
            return f"{f.site}{f.application or ''}".lower() == label
        return f.pool in pools and f.key not in known

    findings = tuple(f for f in after.findings if about_app(f))
    coverage = tuple(c for c in after.coverage if c.application.lower() == label)  # NOTE: the application checked
    # NOTE: another application's problems are not the check's: those of its <application> element (a folder on a
    # drive not mapped) and those its coverage counts (a file in its folder that could not be read)
    elsewhere = {r for c in after.coverage if c.application.lower() != label for r in c.reasons}
    elsewhere -= {r for c in coverage for r in c.reasons}

    def about_others(p: Problem) -> bool:
        return ((p.file == str(config) and p.line in others) or f"{p.file}: {p.message}" in elsewhere)

    problems = tuple(p for p in after.problems if not about_others(p))
    return _named_as(replace(after, findings=findings, coverage=coverage, problems=problems,
                             server=replace(after.server, image=f"{publish} as {site}{app} of {image}",
                                            config_file=shown)), str(config), shown)


def _named_as(report: Report, temporary: str, shown: str) -> Report:
    """``report`` with the temporary applicationHost.config (``temporary``, gone once the check ends) named as the
    server's own file (``shown``) in findings, problems and coverage: the lines are the same, one attribute aside."""
    def source(s: ConfigSource | None) -> ConfigSource | None:
        return replace(s, file=shown) if s is not None and s.file == temporary else s

    return replace(report,
                   findings=tuple(replace(f, config=source(f.config)) for f in report.findings),
                   problems=tuple(replace(p, file=shown) if p.file == temporary else p for p in report.problems),
                   coverage=tuple(replace(c, config=source(c.config)) for c in report.coverage))

