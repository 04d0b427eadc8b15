"""Visual Studio solution folders built in temporary folders: real IIS Express configs from the shared corpus,
real-format project files and launch settings, and the committed PE fixtures (tests/fixtures/pe/bin)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from click.testing import CliRunner, Result

from iisbitness.cli import main
from tests.aspnetcore.image import deps_json
from tests.conftest import corpus_dir, fixture

GANESH = "iisexpress--Ganesh2506__OCRPython__IISExpress__config__applicationhost.config"
"""IIS Express 8.x per-user config (VS 2013); site SampleKVApp at c:\\users\\ganeshkumbhar\\...\\SampleKVApp\\SampleKVApp."""
GANESH_WEB = "webconfig--Ganesh2506__OCRPython__Visual Studio 2013__Projects__SampleKVApp__SampleKVApp__Web.config"
"""That project's own MVC 4 Web.config."""
WALDO = "Waldovdb__WFS-Banktech-API-Latest__applicationhost.config"
"""VS-generated config: site BankTech_API_V1 (ASP.NET Core, aspNetCore %LAUNCHER_PATH% InProcess, own pool)."""
X64_PUBLISH_WEB = "webconfig--Trannie47__TestSommee__bin__Release__net6.0__win-x64__publish__web.config"
"""A real win-x64 publish web.config (.\\TestSommee.exe InProcess)."""

CLASSIC = "SampleKVApp"
CORE = "BankTech_API_V1"


def corpus_file(name: str) -> Path:
    """A corpus file from iis-config or iis-config-2 (skips when the corpus is absent)."""
    for kind in ("iis-config-2", "iis-config"):
        d = corpus_dir(kind)
        if (d / name).is_file():
            return d / name
    raise FileNotFoundError(name)


def csproj_classic(use64: str | None = "", extra: str = "") -> str:
    """A .NET Framework web application project as Visual Studio writes it (first PropertyGroup)."""
    prop = "" if use64 is None else ("    <Use64BitIISExpress />\n" if use64 == "" else
                                     f"    <Use64BitIISExpress>{use64}</Use64BitIISExpress>\n")
    return f"""<?xml version="1.0" encoding="utf-8"?>
<Project ToolsVersion="12.0" DefaultTargets="Build" xmlns="http://schemas.microsoft.com/developer/msbuild/2003">
  <PropertyGroup>
    <Configuration Condition=" '$(Configuration)' == '' ">Debug</Configuration>
    <ProjectTypeGuids>{{E3E379DF-F4C6-4180-9B81-6769533ABE47}};{{349c5851-65df-11da-9384-00065b846f21}};{{fae04ec0-301f-11d3-bf4b-00c04f79efbc}}</ProjectTypeGuids>
    <OutputType>Library</OutputType>
    <AssemblyName>SampleKVApp</AssemblyName>
    <TargetFrameworkVersion>v4.5</TargetFrameworkVersion>
    <UseIISExpress>true</UseIISExpress>
{prop}    <IISExpressSSLPort />
    <IISExpressAnonymousAuthentication />
    <IISExpressWindowsAuthentication />
    <IISExpressUseClassicPipelineMode />
{extra}  </PropertyGroup>
  <ItemGroup>
    <Reference Include="System.Web" />
  </ItemGroup>
</Project>
"""


def csproj_user(use64: str) -> str:
    """A .csproj.user as Visual Studio 2015 writes it."""
    return f"""<?xml version="1.0" encoding="utf-8"?>
<Project ToolsVersion="14.0" xmlns="http://schemas.microsoft.com/developer/msbuild/2003">
  <PropertyGroup>
    <UseIISExpress>true</UseIISExpress>
    <Use64BitIISExpress>{use64}</Use64BitIISExpress>
    <IISExpressSSLPort />
  </PropertyGroup>
</Project>
"""


def launch_settings(use64: bool | None, hosting: str | None = None) -> str:
    """Properties/launchSettings.json with a Kestrel profile and an IISExpress profile."""
    iis: dict[str, object] = {"commandName": "IISExpress", "launchBrowser": True}
    if use64 is not None:
        iis["use64Bit"] = use64
    if hosting is not None:
        iis["ancmHostingModel"] = hosting
    iis["environmentVariables"] = {"ASPNETCORE_ENVIRONMENT": "Development"}
    doc = {"$schema": "http://json.schemastore.org/launchsettings.json",
           "iisSettings": {"windowsAuthentication": False, "anonymousAuthentication": True,
                           "iisExpress": {"applicationUrl": "http://localhost:25123", "sslPort": 44321}},
           "profiles": {CORE: {"commandName": "Project", "launchBrowser": True,
                               "applicationUrl": "https://localhost:7001;http://localhost:5001"},
                        "IIS Express": iis}}
    return json.dumps(doc, indent=2) + "\n"


def classic_solution(root: Path, use64: str | None = "", bin_files: dict[str, str] | None = None,
                     layout: str = "sln", user: str | None = None) -> Path:
    """A solution folder with the SampleKVApp web project: ``layout`` is ``sln`` (.vs/<sln>/config),
    ``vs2015`` (.vs/config) or ``none`` (no .vs folder)."""
    proj = root / CLASSIC
    (proj / "bin").mkdir(parents=True)
    (root / f"{CLASSIC}.sln").write_text("Microsoft Visual Studio Solution File, Format Version 12.00\n", encoding="utf-8")
    (proj / f"{CLASSIC}.csproj").write_text(csproj_classic(use64), encoding="utf-8")
    if user is not None:
        (proj / f"{CLASSIC}.csproj.user").write_text(csproj_user(user), encoding="utf-8")
    shutil.copyfile(corpus_file(GANESH_WEB), proj / "Web.config")
    for name, fx in {f"{CLASSIC}.dll": "managed_anycpu.dll", **(bin_files or {})}.items():
        shutil.copyfile(fixture(fx), proj / "bin" / name)
    if layout != "none":
        cfg = root / ".vs" / (CLASSIC if layout == "sln" else "") / "config"
        cfg.mkdir(parents=True)
        shutil.copyfile(corpus_file(GANESH), cfg / "applicationhost.config")
    return root


def second_project(root: Path, name: str, use64: str | None, bin_files: dict[str, str] | None = None) -> Path:
    """Add web project ``name`` to the solution at ``root`` (made by :func:`classic_solution`): another site of the same
    real config whose folder ends ``\\name\\name`` (KeyVaultDemo, GorillaExpense.Web, ...), in the same pool as
    SampleKVApp (Clr4IntegratedAppPool), with its own ``Use64BitIISExpress`` and ``bin``."""
    proj = root / name
    (proj / "bin").mkdir(parents=True)
    (proj / f"{name}.csproj").write_text(csproj_classic(use64), encoding="utf-8")
    shutil.copyfile(corpus_file(GANESH_WEB), proj / "Web.config")
    for file, fx in {f"{name}.dll": "managed_anycpu.dll", **(bin_files or {})}.items():
        shutil.copyfile(fixture(fx), proj / "bin" / file)
    return proj


def core_solution(root: Path, use64: bool | None, arch: str = "x64", hosting: str | None = None) -> Path:
    """A solution folder with the BankTech_API_V1 ASP.NET Core project and a self-contained ``arch`` publish."""
    proj = root / CORE
    (proj / "Properties").mkdir(parents=True)
    (root / f"{CORE}.sln").write_text("Microsoft Visual Studio Solution File, Format Version 12.00\n", encoding="utf-8")
    (proj / f"{CORE}.csproj").write_text(
        '<Project Sdk="Microsoft.NET.Sdk.Web">\n  <PropertyGroup>\n    <TargetFramework>net8.0</TargetFramework>\n'
        "  </PropertyGroup>\n</Project>\n", encoding="utf-8")
    (proj / "Properties" / "launchSettings.json").write_text(launch_settings(use64, hosting), encoding="utf-8")
    out = proj / "bin" / "Release" / "net8.0" / f"win-{arch}" / "publish"
    out.mkdir(parents=True)
    for name, fx in {f"{CORE}.exe": f"apphost_{arch}.exe", "hostfxr.dll": f"hostfxr_{arch}.dll",
                     "coreclr.dll": f"coreclr_{arch}.dll", "aspnetcorev2_inprocess.dll": f"aspnetcorev2_inprocess_{arch}.dll",
                     "hostpolicy.dll": f"hostpolicy_{arch}.dll", f"{CORE}.dll": "managed_anycpu.dll"}.items():
        shutil.copyfile(fixture(fx), out / name)
    deps_json(out, f"{CORE}.deps.json", CORE, rid=f"win-{arch}")
    shutil.copyfile(corpus_file(X64_PUBLISH_WEB), out / "web.config")
    (out / f"{CORE}.runtimeconfig.json").write_text(
        '{"runtimeOptions": {"tfm": "net8.0", "includedFrameworks": [{"name": "Microsoft.NETCore.App", "version": "8.0.0"}]}}\n',
        encoding="utf-8")
    cfg = root / ".vs" / CORE / "config"
    cfg.mkdir(parents=True)
    shutil.copyfile(corpus_file(WALDO), cfg / "applicationhost.config")
    return root


def scan_json(folder: Path, *args: str) -> tuple[int, dict[str, object]]:
    """``iisbitness scan FOLDER --format json ARGS``: exit code and document."""
    res = run(folder, "--format", "json", *args)
    return res.exit_code, json.loads(res.stdout)


def run(folder: Path, *args: str) -> Result:
    """``iisbitness scan FOLDER ARGS``."""
    return CliRunner().invoke(main, ["scan", str(folder), "--quiet", *args])


def tree_digest(root: Path) -> dict[str, str]:
    """Every file below ``root`` with its SHA-256 (to show a scan wrote nothing)."""
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def second_core_project(sol: Path, name: str) -> Path:
    """Add ASP.NET Core project ``name`` to the solution made by :func:`core_solution`: a copy of BankTech_API_V1 (its
    files renamed), and a site of its own in the real config, with its own ``aspNetCore`` ``<location>``, in the same
    pool ("BankTech_API_V1 AppPool"), as Visual Studio adds a project of the solution."""
    shutil.copytree(sol / CORE, sol / name)
    for p in sorted((sol / name).rglob(f"{CORE}*"), key=lambda p: -len(p.parts)):
        p.rename(p.with_name(p.name.replace(CORE, name)))
    cfg = sol / ".vs" / CORE / "config" / "applicationhost.config"
    text = cfg.read_text(encoding="utf-8")
    s0 = text.index(f'<site name="{CORE}"')
    s1 = text.index("</site>", s0) + len("</site>")
    site = (text[s0:s1].replace(f'"{CORE}"', f'"{name}"').replace(f"\\{CORE}\\{CORE}", f"\\{name}\\{name}")
            .replace('id="2"', 'id="3"').replace(":39905:", ":39906:").replace(":8081:", ":8082:"))
    l0 = text.index(f'<location path="{CORE}"')
    l1 = text.index("</location>", l0) + len("</location>")
    location = text[l0:l1].replace(f'path="{CORE}"', f'path="{name}"')
    cfg.write_text(text[:s1] + "\n      " + site + text[s1:l0] + location + "\n  " + text[l0:], encoding="utf-8")
    return sol / name


def debug_build(root: Path, use64: bool, app_dll: str = "managed_anycpu.dll") -> Path:
    """:func:`core_solution` as Visual Studio's F5 leaves it: the framework-dependent ``bin/Debug/net8.0`` output (app
    host, ``<app>.dll`` built from ``app_dll``, its deps.json and runtimeconfig.json, no hostfxr), which needs the
    machine's .NET runtime, and no publish folder."""
    sol = core_solution(root, use64, "x64")
    shutil.rmtree(sol / CORE / "bin" / "Release")
    out = sol / CORE / "bin" / "Debug" / "net8.0"
    out.mkdir(parents=True)
    shutil.copyfile(fixture("apphost_x64.exe"), out / f"{CORE}.exe")
    shutil.copyfile(fixture(app_dll), out / f"{CORE}.dll")
    deps_json(out, f"{CORE}.deps.json", CORE)
    (out / f"{CORE}.runtimeconfig.json").write_text(
        '{"runtimeOptions": {"tfm": "net8.0", "framework": {"name": "Microsoft.AspNetCore.App", "version": "8.0.0"}}}\n',
        encoding="utf-8")
    return sol
