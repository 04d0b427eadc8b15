"""A small real server image in a temp folder: one pool + site per app, real fixture binaries."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from iisbitness.api import ScanOptions, scan
from iisbitness.arch import Arch
from iisbitness.report import Report

FX = Path(__file__).resolve().parents[1] / "fixtures" / "pe" / "bin"
CORPUS = Path("/work/shared/corpus/iis-config")
if not CORPUS.is_dir():  # NOTE: CI clones the repo with shared/ beside it
    CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "iis-config"

APPHOST = """<?xml version="1.0" encoding="UTF-8"?>
<configuration>
  <system.applicationHost>
    <applicationPools>
{pools}
      <applicationPoolDefaults managedRuntimeVersion="v4.0" />
    </applicationPools>
    <sites>
{sites}
    </sites>
  </system.applicationHost>
  <system.webServer>
    <globalModules>
      <add name="AspNetCoreModuleV2" image="%ProgramFiles%\\IIS\\Asp.Net Core Module\\V2\\aspnetcorev2.dll" />
    </globalModules>
  </system.webServer>
  <location path="" overrideMode="Allow">
    <system.webServer>
      <handlers>
        <add name="ASPClassic" path="*.asp" verb="GET,HEAD,POST" modules="IsapiModule" scriptProcessor="%windir%\\system32\\inetsrv\\asp.dll" resourceType="File" />
      </handlers>
    </system.webServer>
  </location>
</configuration>
"""


def put(root: Path, fixture: str, dest: str) -> None:
    """Copy a fixture binary to ``dest`` (relative to the image root)."""
    target = root / dest
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(FX / fixture, target)


def publish_folder(root: Path, files: dict[str, str]) -> Path:
    """``root/publish``, a ``dotnet publish`` output for ``check-app``, holding ``files`` (file name -> fixture)."""
    out = root / "publish"
    out.mkdir()
    for name, fixture in files.items():
        put(out, fixture, name)
    return out


def write(root: Path, dest: str, text: str) -> None:
    """Write a text file in the image."""
    target = root / dest
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")


def deps_json(root: Path, dest: str, stem: str, libraries: tuple[tuple[str, str, str], ...] = (),
              rid: str = "") -> None:
    """Write ``dest`` (relative to the image root) as ``dotnet publish`` writes ``<stem>.deps.json``: the app's project
    ``<stem>/1.0.0`` with ``<stem>.dll``, and each of ``libraries`` (``(key, type, asset path)``, e.g.
    ``("Contoso.Barcode/2.1.0", "package", "lib/net8.0/Contoso.Barcode.dll")``) with its runtime asset; with ``rid``
    (``win-x64``), a runtime-specific target whose runtime pack library lists the runtime's own files, as a
    self-contained publish writes it."""
    name = ".NETCoreApp,Version=v8.0" + (f"/{rid}" if rid else "")
    target: dict[str, object] = {f"{stem}/1.0.0": {
        "dependencies": {key.split("/")[0]: key.split("/")[1] for key, _, _ in libraries},
        "runtime": {f"{stem}.dll": {}}}}
    libs: dict[str, object] = {f"{stem}/1.0.0": {"type": "project", "serviceable": False, "sha512": ""}}
    for key, kind, asset in libraries:
        target[key] = {"runtime": {asset: {"assemblyVersion": key.split("/")[1] + ".0", "fileVersion": "1.0.0.0"}}}
        libs[key] = {"type": kind, "serviceable": kind == "package", "sha512": "sha512-AAAA" if kind == "package" else ""}
    if rid:
        pack = f"runtimepack.Microsoft.NETCore.App.Runtime.{rid}/8.0.11"
        target[pack] = {"runtime": {"System.Private.CoreLib.dll": {"assemblyVersion": "8.0.0.0"}},
                        "native": {"coreclr.dll": {}, "hostfxr.dll": {}, "hostpolicy.dll": {}}}
        libs[pack] = {"type": "runtimepack", "serviceable": False, "sha512": ""}
    targets = {".NETCoreApp,Version=v8.0": {}, name: target} if rid else {name: target}
    write(root, dest, json.dumps({"runtimeTarget": {"name": name, "signature": ""}, "compilationOptions": {},
                                  "targets": targets, "libraries": libs}, indent=2))


def make_image(root: Path, apps: list[tuple[str, str, str]]) -> None:
    """``apps``: (pool, pool attributes, folder under inetpub); each app is the root of its own site,
    unless several share a pool name (then they become applications /a1, /a2 of one site)."""
    pools: dict[str, str] = {}
    sites: list[str] = []
    for n, (pool, attrs, folder) in enumerate(apps, start=1):
        pools.setdefault(pool, f'      <add name="{pool}" {attrs} />')
        sites.append(f'      <site name="S{n}" id="{n}"><application path="/" applicationPool="{pool}">'
                     f'<virtualDirectory path="/" physicalPath="C:\\inetpub\\{folder}" /></application></site>')
    write(root, "Windows/System32/inetsrv/config/applicationHost.config",
          APPHOST.format(pools="\n".join(pools.values()), sites="\n".join(sites)))
    (root / "Windows" / "SysWOW64").mkdir(parents=True, exist_ok=True)
    put(root, "module_x64.dll", "Program Files/IIS/Asp.Net Core Module/V2/aspnetcorev2.dll")
    put(root, "module_x86.dll", "Program Files (x86)/IIS/Asp.Net Core Module/V2/aspnetcorev2.dll")
    put(root, "isapi_ext_x64.dll", "Windows/System32/inetsrv/asp.dll")
    put(root, "isapi_ext_x86.dll", "Windows/SysWOW64/inetsrv/asp.dll")


def run(root: Path) -> Report:
    """Scan the image as an x64 server."""
    return scan(root, ScanOptions(os_arch=Arch.X64))


def rules_of(report: Report) -> list[tuple[str, str | None]]:
    """``(rule, site)`` of every finding."""
    return [(f.rule, f.site) for f in report.findings]
