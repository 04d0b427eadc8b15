"""Shared test helpers: real PE fixtures and server images built in temporary folders."""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
PE_BIN = REPO / "tests" / "fixtures" / "pe" / "bin"
CORPUS = Path(os.environ.get("IISBITNESS_CORPUS", REPO.parent / "shared" / "corpus"))  # NOTE: a worktree sets it
DEMO = REPO / "src" / "iisbitness" / "demo"


def corpus_dir(kind: str) -> Path:
    """A folder of ../shared/corpus, or skip when this checkout has no shared/ beside it."""
    d = CORPUS / kind
    if not d.is_dir():
        pytest.skip(f"no shared corpus at {d}")
    return d


def fixes_of(doc: dict[str, Any], finding: dict[str, Any]) -> list[dict[str, Any]]:
    """A finding's fixes, ranked, from its ``iisbitness/scan/2`` document's ``fixes`` table (``fix_numbers``)."""
    return [doc["fixes"][n - 1] for n in finding["fix_numbers"]]


def fixture(name: str) -> Path:
    """A real binary from tests/fixtures/pe/bin (built by tests/fixtures/pe/build.sh)."""
    p = PE_BIN / name
    assert p.is_file(), f"missing fixture {p}"
    return p


def rewrite_manifest(src: Path, out: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    """A copy at ``out`` of the collected zip ``src`` whose manifest.json ``edit`` changed in place (every other member
    as it is): a zip as a hand or another tool may have changed it."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "manifest.json":
                manifest = json.loads(data)
                edit(manifest)
                data = json.dumps(manifest).encode()
            zout.writestr(info, data)
    return out


def make_image(root: Path, apphost: str | bytes | Path, files: dict[str, str | Path | bytes] | None = None,
               wow64: bool = True) -> Path:
    """Lay out a server image under ``root``.

    Args:
        apphost: applicationHost.config text, bytes, or a file to copy.
        files: image-relative path (forward slashes) -> fixture name, a real file, or bytes/str content.
        wow64: create Windows/SysWOW64 so that the OS is detected as 64-bit.
    """
    cfg = root / "Windows" / "System32" / "inetsrv" / "config"
    cfg.mkdir(parents=True, exist_ok=True)
    target = cfg / "applicationHost.config"
    if isinstance(apphost, Path):
        shutil.copy(apphost, target)
    elif isinstance(apphost, bytes):
        target.write_bytes(apphost)
    else:
        target.write_text(apphost, encoding="utf-8")
    if wow64:
        (root / "Windows" / "SysWOW64").mkdir(parents=True, exist_ok=True)
    for rel, src in (files or {}).items():
        dest = root / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(src, Path):
            shutil.copy(src, dest)
        elif isinstance(src, bytes):
            dest.write_bytes(src)
        elif src.endswith((".dll", ".exe", ".bin", ".txt")) and "\n" not in src:
            shutil.copy(fixture(src), dest)
        else:
            dest.write_text(src, encoding="utf-8")
    return root


def apphost(pools: str, sites: str, webserver: str = "", location: str = "") -> str:
    """A minimal but real-format applicationHost.config, of a server that unlocked ``isapiFilters`` (a stock IIS locks
    it, ``iisbitness.config.locks.STOCK_DENY``; the tests' web.config files set it): an empty ``<isapiFilters />`` in
    its ``<location path="" overrideMode="Allow">``, unless ``location`` holds the section, on the line of that
    ``<system.webServer>`` so that every line keeps its number."""
    unlock = "" if "<isapiFilters" in location else "<isapiFilters />"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<configuration>
    <system.applicationHost>
        <applicationPools>
{pools}
        </applicationPools>
        <sites>
{sites}
        </sites>
    </system.applicationHost>
    <system.webServer>
{webserver}
    </system.webServer>
    <location path="" overrideMode="Allow">
        <system.webServer>{unlock}
{location}
        </system.webServer>
    </location>
</configuration>
"""


def site(name: str, sid: int, pool: str, physical: str, extra_apps: str = "") -> str:
    """A ``<site>`` with a root application in ``pool``."""
    return f"""            <site name="{name}" id="{sid}">
                <application path="/" applicationPool="{pool}">
                    <virtualDirectory path="/" physicalPath="{physical}" />
                </application>
{extra_apps}
            </site>"""


def bin_image(root: Path, pools: str, sites: dict[str, tuple[str, str]], files: dict[str, str]) -> Path:
    """An image under ``root`` whose sites (name -> (pool, folder below ``C:\\sites``), ids in order from 1) each hold
    ``files`` (name in ``bin`` -> fixture) in their ``bin``; ``pools``: the ``<add>`` elements."""
    text = "".join(site(name, i, pool, f"C:\\sites\\{folder}") for i, (name, (pool, folder)) in enumerate(sites.items(), 1))
    return make_image(root, apphost(pools, text),
                      {f"sites/{folder}/bin/{name}": f for _, folder in sites.values() for name, f in files.items()})
