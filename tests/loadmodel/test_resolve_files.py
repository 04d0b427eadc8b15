"""A ``bin`` folder's files resolved as a batch (``PlanContext.resolve_files``, issue 25) are what resolving each
file on its own gives (``PlanContext.resolve``), on the cases where the two ways differ: names matched
case-insensitively (and two names differing only in case), links inside and out of the image, dangling links and
loops, FIFOs, a folder named like a DLL, names that are no plain Windows file name (``%``, a leading dot, a
backslash), a folder below ``%windir%`` (WOW64 redirection) or named through ``%SystemDrive%``, a ``bin`` that links
elsewhere, mounts at and below the folder, the live machine's links followed; then a whole scan with and without the
batch, with the ``MAX_BIN_FILES`` cut and an unreadable folder."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iisbitness.api import ScanOptions, scan
from iisbitness.arch import Arch
from iisbitness.formats import loads_json, scan_json
from iisbitness.image import folders
from iisbitness.image.server_image import ServerImage
from iisbitness.loadplan import context
from iisbitness.loadplan.context import PlanContext
from iisbitness.loadplan.plan import BinaryRef
from tests.conftest import apphost, fixture, make_image, site

_NAMES = ("a.dll", "A.dll", "Lib.DLL", "%WINDIR%.dll", ".hidden.dll", "back\\slash.dll", "x .dll", "ManagedApp.dll",
          "managed_x86.dll", "deep.dll")
_FILES = {"anycpu": "managed_anycpu.dll", "x86": "managed_x86.dll", "app": "ManagedApp.dll",
          "native": "isapi_ext_x64.dll", "corrupt": "corrupt_truncated.dll", "text": "not_pe.txt"}
_KINDS = (*_FILES, "link-in", "link-out", "dangling", "loop", "fifo", "folder", "link-folder")
_WHERE = {  # NOTE: the bin folder's Windows path, where its entries are, and what the folder itself is
    "plain": ("C:\\sites\\a\\bin", "sites/a/bin", None),
    "case": ("C:\\SITES\\A\\Bin", "sites/a/bin", None),
    "wow64": ("C:\\Windows\\System32\\inetsrv\\bin", "Windows/System32/inetsrv/bin", None),
    "variable": ("%SystemDrive%\\sites\\a\\bin", "sites/a/bin", None),
    "bin-out": ("C:\\sites\\out\\bin", "../outside-bin", "sites/out/bin"),
    "bin-in": ("C:\\sites\\in\\bin", "sites/a/bin", "sites/in/bin"),
}


def _entry(folder: Path, name: str, kind: str, root: Path) -> None:
    path = folder / name
    if kind in _FILES:
        shutil.copy(fixture(_FILES[kind]), path)
    elif kind == "link-in":
        target = root / "elsewhere" / name
        target.parent.mkdir(exist_ok=True)
        shutil.copy(fixture("managed_x86.dll"), target)
        path.symlink_to(target)
    elif kind == "link-out":
        target = root.parent / "outside-file.dll"
        shutil.copy(fixture("managed_anycpu.dll"), target)
        path.symlink_to(target)
    elif kind == "dangling":
        path.symlink_to(folder / "nothing-here")
    elif kind == "loop":
        path.symlink_to(path)
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    else:
        path.symlink_to(root / "sites", target_is_directory=True)


def _layout(top: Path, where: str, entries: dict[str, str]) -> tuple[Path, str, Path]:
    """An image below ``top`` with a bin folder at ``where`` holding ``entries``: ``(image root, the folder's Windows
    path, its host path as the bin collector finds it)``."""
    root = make_image(top / "img", apphost("", ""))
    win, rel, linked = _WHERE[where]
    folder = (root / rel).resolve() if rel.startswith("..") else root / rel
    folder.mkdir(parents=True, exist_ok=True)
    for name, kind in entries.items():
        _entry(folder, name, kind, root)
        if where == "wow64" and kind in _FILES:  # NOTE: the x86 worker's view of the folder holds a copy
            twin = root / "Windows/SysWOW64/inetsrv/bin"
            twin.mkdir(parents=True, exist_ok=True)
            shutil.copy(fixture(_FILES[kind]), twin / name)
    if linked is not None:
        (root / linked).parent.mkdir(parents=True, exist_ok=True)
        (root / linked).symlink_to(folder, target_is_directory=True)
        return root, win, root / linked
    return root, win, folder


def _image(root: Path, how: str) -> ServerImage:
    if how == "machine":
        return ServerImage.machine({"C": root})
    img = ServerImage.offline(root)
    if how == "mount-at":
        img.mounts["C:\\sites\\a\\bin"] = root / "sites/a/bin"
    elif how == "mount-below":
        img.mounts["C:\\sites\\a\\bin\\deep.dll"] = root / "elsewhere"
    return img


def _one_by_one(ctx: PlanContext, win: str, host: Path, os_arch: Arch, arch: Arch) -> tuple[BinaryRef, ...]:
    """What the bin collector did before the batch: each file resolved on its own."""
    names, _, unread = ctx.bin_files(host)
    return tuple(ctx.resolve(win + "\\" + n, os_arch, arch) if n not in unread else
                 BinaryRef(win + "\\" + n, win + "\\" + n, ctx.image.display(host / n), None, problem=unread[n])
                 for n in names)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(_NAMES), st.sampled_from(_KINDS), max_size=7),
       st.sampled_from(sorted(_WHERE)), st.sampled_from(["offline", "machine", "mount-at", "mount-below"]),
       st.sampled_from([Arch.X64, Arch.ARM64]), st.lists(st.sampled_from(list(Arch)), min_size=1, max_size=4),
       st.booleans())
def test_a_folder_resolved_as_a_batch_is_each_file_resolved(entries: dict[str, str], where: str, how: str,
                                                            os_arch: Arch, arches: list[Arch], follow: bool) -> None:
    with tempfile.TemporaryDirectory() as top:
        root, win, host = _layout(Path(top), where, entries)
        batch = PlanContext(_image(root, how), follow_dependencies=follow)
        alone = PlanContext(_image(root, how), follow_dependencies=follow)
        expanded = win.replace("%SystemDrive%", "C:")
        for arch in arches:  # NOTE: a later architecture shares what an earlier one read (the outlook, re-plans)
            names, _, unread = batch.bin_files(host)
            got = batch.resolve_files(expanded, host, names, unread, os_arch, arch)
            assert got == _one_by_one(alone, expanded, host, os_arch, arch), (where, how, arch)
        assert batch.facts.reads == alone.facts.reads
        assert sorted(map(str, batch.image.folders._listings)) == sorted(map(str, alone.image.folders._listings)), \
            "the same folders are listed (what collect records)"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(_NAMES), st.sampled_from(_KINDS), max_size=7),
       st.sampled_from(sorted(_WHERE)), st.sampled_from(["offline", "machine", "mount-at", "mount-below"]))
def test_a_file_of_a_folder_is_where_locate_finds_it(entries: dict[str, str], where: str, how: str) -> None:
    """``FilesOf.locate`` of any entry (a folder, a link too): None, or the host path and name ``locate`` gives."""
    with tempfile.TemporaryDirectory() as top:
        root, win, _ = _layout(Path(top), where, entries)
        img = _image(root, how)
        files = img.files_of(win)
        if files is None:
            return
        for name in [*entries, "absent.dll"]:
            fast = files.locate(name)
            if fast is not None:
                found = img.locate(win + "\\" + name)
                assert found.problem is None and not found.is_dir and found.folder == files.folder, name
                assert fast == (found.host, found.shown), name


def test_the_batch_is_taken_and_left(tmp_path: Path) -> None:
    """The property above compares two ways only if the batch answers most files itself: a plain folder's files are
    never located one by one; a link, a ``%`` in a name or a folder below ``%windir%`` is."""
    entries = {"a.dll": "anycpu", "Lib.DLL": "x86", "%WINDIR%.dll": "anycpu", "deep.dll": "link-in"}
    root, win, host = _layout(tmp_path, "plain", entries)
    ctx = PlanContext(ServerImage.offline(root))
    names, _, unread = ctx.bin_files(host)
    refs = dict(zip(names, ctx.resolve_files(win, host, names, unread, Arch.X64, Arch.X64), strict=True))
    assert refs["a.dll"].image is not None and refs["Lib.DLL"].resolved == "sites/a/bin/Lib.DLL"
    located = set(ctx.image._located)
    assert win + "\\a.dll" not in located and win + "\\Lib.DLL" not in located, "a plain file: from the batch"
    assert win + "\\deep.dll" in located, "a link: located (and checked) on its own"
    assert win + "\\C:\\Windows.dll" in located, "a %NAME%: expanded, then located on its own"
    assert ctx.image.files_of("C:\\Windows\\System32\\inetsrv") is not None
    mounted = ServerImage.offline(root)  # NOTE: a new image: what files_of finds is kept for the image's life
    mounted.mounts["C:\\sites\\a\\bin\\sub"] = tmp_path
    assert mounted.files_of(win) is None, "a mount below the folder: its files are located one by one"


def _scan_image(tmp_path: Path) -> Path:
    """Sites whose bins hold what the batch leaves to the long way, a bin cut at MAX_BIN_FILES, and one unreadable."""
    pools = ('<add name="P64" managedRuntimeVersion="v4.0" />'
             '<add name="P32" managedRuntimeVersion="v4.0" enable32BitAppOnWin64="true" />'
             '<add name="N" managedRuntimeVersion="" />')
    sites = (site("A", 1, "P64", "C:\\sites\\a") + site("B", 2, "P32", "%SystemDrive%\\SITES\\B")
             + site("C", 3, "P32", "C:\\sites\\c") + site("D", 4, "N", "C:\\sites\\a")
             + site("E", 5, "P64", "C:\\sites\\unreadable") + site("F", 6, "P32", "C:\\sites\\out"))
    root = make_image(tmp_path / "img", apphost(pools, sites), {
        "sites/a/bin/ManagedApp.dll": "ManagedApp.dll", "sites/a/bin/managed_x86.dll": "managed_x86.dll",
        "sites/a/bin/Native.DLL": "isapi_ext_x64.dll", "sites/a/bin/x64/Native.dll": "isapi_ext_x64.dll",
        "sites/a/bin/x86/Native.dll": "isapi_ext_x86.dll", "sites/a/bin/.hidden.dll": "managed_x86.dll",
        "sites/a/bin/%TEMP%.dll": "managed_x86.dll", "sites/a/bin/bad.dll": "corrupt_truncated.dll",
        "sites/b/bin/ManagedApp.dll": "ManagedApp.dll", "sites/b/bin/lib.dll": "managed_anycpu.dll",
        "sites/unreadable/bin/a.dll": "managed_x86.dll",
        **{f"sites/c/bin/m{i}.dll": "managed_x86.dll" for i in range(15)}})
    bin_a = root / "sites/a/bin"
    os.mkfifo(bin_a / "pipe.dll")
    (bin_a / "folder.dll").mkdir()
    (bin_a / "dangling.dll").symlink_to(bin_a / "nothing")
    (bin_a / "loop.dll").symlink_to(bin_a / "loop.dll")
    (bin_a / "inside.dll").symlink_to(root / "sites/b/bin/lib.dll")
    shutil.copy(fixture("managed_anycpu.dll"), tmp_path / "outside.dll")
    (bin_a / "outside.dll").symlink_to(tmp_path / "outside.dll")
    (tmp_path / "outside-bin").mkdir()
    shutil.copy(fixture("managed_x86.dll"), tmp_path / "outside-bin" / "o.dll")
    (root / "sites/out").mkdir()
    (root / "sites/out/bin").symlink_to(tmp_path / "outside-bin", target_is_directory=True)
    return root


def test_a_scan_with_the_batch_is_the_scan_without(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    image = _scan_image(tmp_path)
    monkeypatch.setattr(context, "MAX_BIN_FILES", 12)  # NOTE: site C's bin holds 15 DLLs, A's 11
    read = folders._read_listing

    def unreadable(folder: Path) -> folders.Listing:
        return (folders.Listing({}, frozenset(), frozenset(), {}, "cannot list: Permission denied")
                if folder.parent.name == "unreadable" and folder.name == "bin" else read(folder))

    monkeypatch.setattr(folders, "_read_listing", unreadable)

    def documents() -> tuple[str, str]:
        report = scan(image, ScanOptions())
        loads = scan(image, ScanOptions(load_map=True))
        return scan_json.render(report), loads_json.render([loads])

    batch = documents()
    monkeypatch.setattr(PlanContext, "resolve_files",
                        lambda self, win, host, names, unread, os_arch, arch:
                        _one_by_one(self, win, host, os_arch, arch))
    assert batch == documents()
    for said in ("a FIFO", "a symbolic link to nothing", "resolves outside the server image", "more than 12 DLLs",
                 "cannot list", "chain"):
        assert said in batch[0] + batch[1], said


def test_a_folder_takes_its_search_path_once_per_architecture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The dependency search path of a folder's files is looked up once per folder and architecture, not per file
    (issue 25); a file without dependencies takes the other architecture's reference whole, and one whose dependency
    fails at one architecture only (ManagedApp.dll, AnyCPU, references the x86-only managed_x86.dll) has its chain
    at each, as resolving it on its own gives."""
    entries = {f"m{i}.dll": "anycpu" for i in range(12)} | {"ManagedApp.dll": "app", "managed_x86.dll": "x86"}
    root, win, host = _layout(tmp_path, "plain", entries)
    ctx = PlanContext(ServerImage.offline(root))
    alone = PlanContext(ServerImage.offline(root))
    asked: list[tuple[Path, Arch]] = []
    search = PlanContext._search_folders

    def counted(self: PlanContext, folder: Path, os_arch: Arch, arch: Arch) -> tuple[Path, ...]:
        asked.append((folder, arch))
        return search(self, folder, os_arch, arch)

    monkeypatch.setattr(PlanContext, "_search_folders", counted)
    names, _, unread = ctx.bin_files(host)
    x86 = ctx.resolve_files(win, host, names, unread, Arch.X64, Arch.X86)
    x64 = ctx.resolve_files(win, host, names, unread, Arch.X64, Arch.X64)
    assert asked == [(host, Arch.X86), (host, Arch.X64)]
    monkeypatch.setattr(PlanContext, "_search_folders", search)
    assert x86 == _one_by_one(alone, win, host, Arch.X64, Arch.X86)
    assert x64 == _one_by_one(alone, win, host, Arch.X64, Arch.X64)
    chains = {n: (a.chain, b.chain) for n, a, b in zip(names, x86, x64, strict=True) if a.chain or b.chain}
    assert chains == {"ManagedApp.dll": ((), ("ManagedApp.dll", "managed_x86.dll (x86)"))}
    assert all(a is b for n, a, b in zip(names, x86, x64, strict=True) if n != "ManagedApp.dll")


@pytest.mark.parametrize("first", [Arch.X64, Arch.X86])
def test_a_file_another_worker_took_with_a_chain_has_none_where_it_does_not_load(tmp_path: Path, first: Arch) -> None:
    """A native x64 DLL whose dependency is x86 (chain_top_x64.dll -> chain_dep_x86.dll): the x64 worker fails on the
    dependency; the x86 worker cannot load the DLL itself, so it has no chain, whichever worker's bin was resolved
    first (a reference taken from the other worker keeps no chain that worker found: a review of plancpu2)."""
    root, win, host = _layout(tmp_path, "plain", {})
    shutil.copy(fixture("chain_top_x64.dll"), host / "top.dll")
    shutil.copy(fixture("chain_dep_x86.dll"), host / "chain_dep.dll")
    ctx = PlanContext(ServerImage.offline(root))
    alone = PlanContext(ServerImage.offline(root))
    names, _, unread = ctx.bin_files(host)
    second = Arch.X86 if first is Arch.X64 else Arch.X64
    got = {arch: ctx.resolve_files(win, host, names, unread, Arch.X64, arch) for arch in (first, second)}
    for arch in (first, second):
        assert got[arch] == _one_by_one(alone, win, host, Arch.X64, arch), arch
    top = dict(zip(names, got[Arch.X86], strict=True))["top.dll"]
    assert top.chain == ()
    assert dict(zip(names, got[Arch.X64], strict=True))["top.dll"].chain
