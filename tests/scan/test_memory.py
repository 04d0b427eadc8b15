"""What a scan keeps per binary (issue 25: 100,000 assemblies under 300 MB, benchmarks/bench_scan.py): one
listing dict per ``bin`` folder, one reference per binary shared by every process that resolves it alike."""

from __future__ import annotations

import gc
import shutil
from pathlib import Path

from iisbitness.arch import Arch
from iisbitness.config.apphost import read_server
from iisbitness.image.folders import Folders
from iisbitness.image.server_image import ServerImage
from iisbitness.loadplan.build import build
from iisbitness.loadplan.context import PlanContext
from iisbitness.loadplan.plan import BinaryRef, LoadKind, LoadPlan
from iisbitness.pe.classify import read_image
from tests.conftest import apphost, fixture, make_image, site


def _bin(tmp_path: Path, *names: str) -> Path:
    folder = tmp_path / "bin"
    folder.mkdir()
    for name in names:
        shutil.copy(fixture("managed_anycpu.dll"), folder / name)
    return folder


def test_a_bin_folder_listing_is_one_dict_of_files(tmp_path: Path) -> None:
    """Every entry a file: ``files`` is ``names`` (one dict, not two), each lower-case name is one string."""
    listing = Folders().listing(_bin(tmp_path, "App.dll", "lib.dll"))
    assert listing.names == {"app.dll": "App.dll", "lib.dll": "lib.dll"}
    assert listing.files is listing.names
    assert next(k for k in listing.names if k == "lib.dll") is listing.names["lib.dll"]
    assert listing.links == listing.folders == frozenset()


def test_a_folder_with_a_subfolder_keeps_its_files_apart(tmp_path: Path) -> None:
    folder = _bin(tmp_path, "App.dll")
    (folder / "x86").mkdir()
    listing = Folders().listing(folder)
    assert listing.names == {"app.dll": "App.dll", "x86": "x86"}
    assert listing.files == {"app.dll": "App.dll"}
    assert listing.folders == frozenset({"x86"})


def test_a_folder_and_a_file_whose_names_differ_in_case_only(tmp_path: Path) -> None:
    """``names`` keeps the first in sorted order (the folder ``Lib``), ``files`` the file ``lib``: as many entries
    each, not the same."""
    folder = tmp_path / "bin"
    (folder / "Lib").mkdir(parents=True)
    (folder / "lib").write_bytes(b"MZ")
    listing = Folders().listing(folder)
    assert listing.names == {"lib": "Lib"}
    assert listing.files == {"lib": "lib"}


def _plan(tmp_path: Path) -> LoadPlan:
    pools = '<add name="P32" managedRuntimeVersion="v4.0" enable32BitAppOnWin64="true" />'
    image = make_image(tmp_path / "img", apphost(pools, site("S", 1, "P32", r"C:\sites\s")), {
        "sites/s/bin/Plain.dll": "managed_anycpu.dll",
        "sites/s/bin/ManagedApp.dll": "ManagedApp.dll",
        "sites/s/bin/managed_x86.dll": "managed_x86.dll",
    })
    img = ServerImage.offline(image)
    return build(read_server(img, Arch.X64, "test"), PlanContext(img))


def test_the_worker_and_iis_manager_share_a_bin_assembly_they_see_alike(tmp_path: Path) -> None:
    """A 32-bit worker and IIS Manager (64-bit) load the same ``bin`` files: one reference (and one set of path
    strings) per binary, unless what they see differs (a dependency that fits one architecture only)."""
    loads = [ld for ld in _plan(tmp_path).loads if ld.kind is LoadKind.BIN_ASSEMBLY]
    by_name: dict[str, dict[Arch, BinaryRef]] = {}
    for ld in loads:
        by_name.setdefault(ld.name, {})[ld.process.arch] = ld.binary
    assert by_name["Plain.dll"][Arch.X86] is by_name["Plain.dll"][Arch.X64]
    assert by_name["managed_x86.dll"][Arch.X86] is by_name["managed_x86.dll"][Arch.X64]
    worker, manager = by_name["ManagedApp.dll"][Arch.X86], by_name["ManagedApp.dll"][Arch.X64]
    assert worker is not manager
    assert worker.chain == ()
    assert manager.chain == ("ManagedApp.dll", "managed_x86.dll (x86)")


def test_images_of_one_machine_share_its_value() -> None:
    """The COFF Machine of every image is one int object per value (0x14C is not one of CPython's small ints)."""
    first, second = read_image(fixture("managed_x86.dll")), read_image(fixture("managed_anycpu.dll"))
    assert first.machine == second.machine == 0x14C
    assert first.machine is second.machine


def test_after_planning_a_bin_file_is_one_string_not_a_path(tmp_path: Path) -> None:
    """The facts read keep a bin file as the string of its host path, one string shared by their memo and its
    headers, and the image keeps no lookup of it (a ``Path`` is that string plus an object, a list of its parts and
    a hash)."""
    pools = '<add name="P" managedRuntimeVersion="v4.0" />'
    image = make_image(tmp_path / "img", apphost(pools, site("S", 1, "P", r"C:\sites\s")),
                       {"sites/s/bin/Plain.dll": "managed_anycpu.dll"})
    img = ServerImage.offline(image)
    ctx = PlanContext(img)
    plan = build(read_server(img, Arch.X64, "test"), ctx)
    assert any(ld.name == "Plain.dll" for ld in plan.loads)
    gc.collect()
    assert not [o for o in gc.get_objects() if isinstance(o, Path) and o.name == "Plain.dll"]
    host = str(image / "sites/s/bin/Plain.dll")
    # NOTE: a bin folder's files are resolved with their folder (PlanContext.resolve_files): the image keeps no
    # lookup of its own per file, and the facts keep one string, their key and the headers' path (issue 25)
    assert r"C:\sites\s\bin\Plain.dll" not in img._located
    (key,) = [k for k in ctx.facts._memo["image"] if k == host]
    assert ctx.facts.image(host).path is key
    found = img.locate(r"C:\sites\s\bin\Plain.dll")
    assert found.host == host and found.host_path == image / "sites/s/bin/Plain.dll"
