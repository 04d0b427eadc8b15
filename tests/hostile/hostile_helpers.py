"""Helpers for the hostile-input suite: build small server images, run the CLI, fingerprint trees."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from click.testing import CliRunner, Result

from iisbitness.cli import main

REPO = Path(__file__).resolve().parents[2]
PE_BIN = REPO / "tests" / "fixtures" / "pe" / "bin"
CORPUS = Path("/work/shared/corpus")
CONFIG_CORPUS = CORPUS / "iis-config"
FIXTURES = Path(__file__).parent / "fixtures"
APPHOST_REL = Path("Windows/System32/inetsrv/config/applicationHost.config")

APPHOST = """<?xml version="1.0" encoding="UTF-8"?>
<configuration>
  <system.applicationHost>
    <applicationPools>
      <add name="Pool64" managedRuntimeVersion="v4.0" />
      <add name="Pool32" managedRuntimeVersion="v4.0" enable32BitAppOnWin64="true" />
    </applicationPools>
    <sites>
      <site name="Main" id="1">
        <application path="/" applicationPool="Pool64">
          <virtualDirectory path="/" physicalPath="C:\\inetpub\\main" />
        </application>
      </site>
{extra_sites}
    </sites>
  </system.applicationHost>
  <system.webServer>
    <globalModules>
      <add name="Legacy32Module" image="%windir%\\System32\\inetsrv\\legacy32.dll" />
{extra_modules}
    </globalModules>
  </system.webServer>
{extra}
</configuration>
"""
"""A small server: two pools, one site, one 32-bit global module without a bitness preCondition
(so a healthy analysis always yields a ``global-module-arch`` finding for the 64-bit pool)."""


def apphost(extra_sites: str = "", extra_modules: str = "", extra: str = "") -> str:
    """The base applicationHost.config with extra sites, global modules or top-level XML."""
    return APPHOST.format(extra_sites=extra_sites, extra_modules=extra_modules, extra=extra)


def make_image(root: Path, config: str | bytes | None = None) -> Path:
    """Write a server image at ``root``: the config, a 32-bit module, a site folder with a bin."""
    cfg = root / APPHOST_REL
    cfg.parent.mkdir(parents=True, exist_ok=True)
    data = apphost() if config is None else config
    cfg.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    shutil.copy(PE_BIN / "module_x86.dll", root / "Windows/System32/inetsrv/legacy32.dll")
    site = root / "inetpub" / "main"
    (site / "bin").mkdir(parents=True, exist_ok=True)
    shutil.copy(PE_BIN / "managed_x86.dll", site / "bin" / "Legacy.Reports.dll")
    return root


def run(*args: str | os.PathLike[str], input: str | None = None) -> Result:
    """Run the ``iisbitness`` command line in-process."""
    return CliRunner().invoke(main, [os.fspath(a) for a in args], input=input, catch_exceptions=True)


def healthy(report_json: dict) -> bool:  # type: ignore[type-arg]
    """True when the rest of the server was analysed: the 32-bit module was found for Pool64."""
    return any(f["rule"] == "global-module-arch" for f in report_json["findings"])


def fingerprint(root: Path) -> str:
    """A hash of a tree: every entry's path, type, mode, size, mtime, link target and file bytes.

    Symlinks are recorded, never followed; unreadable files are recorded as such.
    """
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(os.fsencode(root), followlinks=False):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            h.update(p + b"\0" + repr((st.st_mode, st.st_size, st.st_mtime_ns)).encode())
            if os.path.islink(p):
                h.update(os.readlink(p))
            elif os.path.isfile(p):
                try:
                    with open(p, "rb") as f:
                        h.update(hashlib.sha256(f.read()).digest())
                except OSError as e:
                    h.update(repr(e.errno).encode())
    return h.hexdigest()


IIS_EXPRESS_CONFIG = (APPHOST.split("<applicationPools>")[0] + """<applicationPools>
      <add name="Clr4IntegratedAppPool" managedRuntimeVersion="v4.0" managedPipelineMode="Integrated" />
    </applicationPools>
    <sites>
      <site name="App" id="2">
        <application path="/" applicationPool="Clr4IntegratedAppPool">
          <virtualDirectory path="/" physicalPath="C:\\Users\\me\\source\\repos\\Sol\\App" />
        </application>
        <bindings><binding protocol="http" bindingInformation="*:5000:localhost" /></bindings>
      </site>
    </sites>
  </system.applicationHost>
</configuration>
""")
"""An IIS Express applicationhost.config as Visual Studio writes it: one site for the project App, on port 5000."""
CSPROJ = """<?xml version="1.0" encoding="utf-8"?>
<Project ToolsVersion="12.0" xmlns="http://schemas.microsoft.com/developer/msbuild/2003">
  <PropertyGroup>
    <ProjectTypeGuids>{349c5851-65df-11da-9384-00065b846f21};{fae04ec0-301f-11d3-bf4b-00c04f79efbc}</ProjectTypeGuids>
    <AssemblyName>App</AssemblyName>
    <UseIISExpress>true</UseIISExpress>
    <Use64BitIISExpress />
    <IISUrl>http://localhost:5000/</IISUrl>
  </PropertyGroup>
</Project>
"""


def solution(root: Path) -> Path:
    """A Visual Studio solution folder run by IIS Express: .vs config, one web project with a bin."""
    (root / ".vs" / "Sol" / "config").mkdir(parents=True)
    (root / ".vs" / "Sol" / "config" / "applicationhost.config").write_text(IIS_EXPRESS_CONFIG)
    (root / "Sol.sln").write_text("")
    (root / "App" / "Properties").mkdir(parents=True)
    (root / "App" / "bin").mkdir()
    (root / "App" / "App.csproj").write_text(CSPROJ)
    shutil.copy(PE_BIN / "managed_x86.dll", root / "App" / "bin" / "App.dll")
    return root
