"""Follow a binary's dependencies and find the first one a process cannot load.

Public API::

    find_mismatch(binary: str | Path, arch: Arch, search_dirs: Sequence[Path], *,
                  max_depth: int = 8, max_files: int = 256) -> DependencyResult

``binary`` is a file a process of architecture ``arch`` loads (a global module, an ISAPI DLL, an
assembly in ``bin``). ``search_dirs`` are real folders on this machine, in the order the process
would search them (e.g. the DLL's own folder or the app's ``bin``, then the process's view of
System32: ``SysWOW64`` for an x86 worker). The caller resolves them (WOW64 redirection, drive
letters); this module only looks inside them, case-insensitively, since a server image is a copy
of an NTFS disk on a case-sensitive file system.

What is followed:
- native images (and mixed-mode): the import table and the delay-load import table;
- .NET images: AssemblyRefs that are files in ``search_dirs`` (``<name>.dll`` / ``<name>.exe``), and
  ``[DllImport]`` modules (``nativelib`` -> ``nativelib.dll``).

What is not looked for: Windows' own DLLs (:func:`is_os_dll`: kernel32, ntdll, user32, msvcrt,
``api-ms-win-*``, ``ext-ms-*``, ...: the process's System32 always has the right ones) and .NET
Framework assemblies (``mscorlib``, ``System.*``, ...: the GAC/shared framework has them). A name
that is found nowhere is reported in ``unresolved`` (Windows would fail with 0x8007007E, "module
not found", not with a bitness error). Side-by-side manifests, ``.local`` redirection, KnownDLLs
beyond the list here and the GAC are not modelled.

The search is breadth-first, so the chain returned is a shortest one; it is bounded by
``max_depth`` links and ``max_files`` binaries read, and cycle-safe (each file is read once).

Returns a :class:`DependencyResult`; ``str(result.mismatch)`` renders the chain, e.g.
``ManagedApp.dll → managed_x86.dll (x86)``. If ``binary`` itself does not fit, the chain is just it.

Raises:
    ImageReadError: only for ``binary`` itself when it cannot be read. Unreadable dependencies are
        reported in ``unresolved`` with the reason.
"""

from __future__ import annotations

import functools
import os
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from iisbitness.arch import Arch, format_arches
from iisbitness.errors import ImageReadError
from iisbitness.pe.classify import on_os
from iisbitness.pe.facts import BinaryFacts
from iisbitness.pe.metadata import AssemblyRef
from iisbitness.pe.types import ImageKind, PeImage

_OS_DLL_STEMS = (
    "kernel32", "kernelbase", "ntdll", "user32", "gdi32", "gdi32full", "advapi32", "shell32", "shlwapi",
    "ole32", "oleaut32", "combase", "rpcrt4", "sechost", "ws2_32", "wsock32", "mswsock", "msvcrt",
    "ucrtbase", "msvcp_win", "crypt32", "bcrypt", "bcryptprimitives", "ncrypt", "secur32", "sspicli",
    "winhttp", "wininet", "httpapi", "iphlpapi", "dnsapi", "netapi32", "userenv", "version", "winmm",
    "comctl32", "comdlg32", "imm32", "psapi", "dbghelp", "setupapi", "cfgmgr32", "wintrust", "mscoree",
    "normaliz", "urlmon", "wtsapi32", "activeds", "odbc32", "clbcatq", "authz", "mpr", "wldap32",
    "powrprof", "uxtheme", "dwmapi", "msimg32", "wevtapi", "pdh", "cabinet", "propsys",
)
OS_DLLS: frozenset[str] = frozenset({*(f"{n}.dll" for n in _OS_DLL_STEMS), "winspool.drv"})
"""DLLs every Windows process finds in its own System32 view (lower case)."""

OS_DLL_PREFIXES = ("api-ms-win-", "ext-ms-")
"""API-set names: virtual DLLs resolved by the loader's API-set schema."""

FRAMEWORK_ASSEMBLIES = frozenset({"mscorlib", "netstandard", "system", "microsoft.csharp", "microsoft.visualbasic",
                                  "windowsbase", "presentationcore", "presentationframework", "accessibility"})
FRAMEWORK_PREFIXES = ("system.", "microsoft.win32.", "microsoft.extensions.", "microsoft.aspnetcore.")


@dataclass(frozen=True, slots=True)
class Link:
    """One binary in a chain.

    Attributes:
        name: the name as referenced (import name, assembly name, DllImport name) or, for the
            first link, the file name.
        path: the file found.
        image: its classification.
        via: "root", "import", "delay-import", "assembly-ref" or "pinvoke".
    """

    name: str
    path: Path
    image: PeImage
    via: str


@dataclass(frozen=True, slots=True)
class Chain:
    """Links from the binary to the first one that does not fit ``arch``; the last link is the culprit."""

    links: tuple[Link, ...]
    arch: Arch

    @property
    def culprit(self) -> Link:
        """The link that cannot load in the process."""
        return self.links[-1]

    def __str__(self) -> str:
        names = [link.path.name for link in self.links]
        last = self.culprit.image
        why = format_arches(last.loadable_by) if last.is_pe else "not a valid PE"
        return " → ".join(names) + f" ({why})"


@dataclass(frozen=True, slots=True)
class Unresolved:
    """A dependency that was not found (or not readable): ``name``, who asked (``needed_by``), ``reason``;
    ``unchecked``: the search could not tell whether and where it is, as a folder it looked in proves nothing of what
    it holds (:attr:`BinaryFacts.unproven <iisbitness.pe.facts.BinaryFacts.unproven>`, ``reason`` says why): not
    checked, never "not found"."""

    name: str
    needed_by: Path
    via: str
    reason: str
    unchecked: bool = False


@dataclass(frozen=True, slots=True)
class DependencyResult:
    """Outcome of :func:`find_mismatch`.

    Attributes:
        mismatch: the first chain whose last link cannot load in ``arch``, or None.
        unresolved: dependencies found in no search folder, in discovery order.
        visited: binaries read (including ``binary``).
        truncated: True when ``max_depth`` or ``max_files`` stopped the search early.
    """

    mismatch: Chain | None
    unresolved: tuple[Unresolved, ...] = field(default=())
    visited: int = 0
    truncated: bool = False

    @property
    def unchecked(self) -> tuple[Unresolved, ...]:
        """The dependencies of :attr:`unresolved` the search could not check (:attr:`Unresolved.unchecked`): with no
        :attr:`mismatch`, the chain is not known to be clean."""
        return tuple(u for u in self.unresolved if u.unchecked)


def is_os_dll(name: str) -> bool:
    """True for Windows' own DLLs, which the process's System32 view always provides."""
    low = name.lower()
    return low in OS_DLLS or low.startswith(OS_DLL_PREFIXES)


@functools.lru_cache(maxsize=4096)
def is_framework_assembly(name: str) -> bool:
    """True for .NET Framework / shared-framework assembly names (resolved from the GAC/runtime). NOTE: cached: a
    server's assemblies reference a few hundred names between them, asked for once per reference (issue 25)."""
    low = name.lower()
    return low in FRAMEWORK_ASSEMBLIES or low.startswith(FRAMEWORK_PREFIXES)


def find_mismatch(binary: str | Path, arch: Arch, search_dirs: Sequence[Path], *,
                  max_depth: int = 8, max_files: int = 256, facts: BinaryFacts | None = None,
                  os_arch: Arch | None = None) -> DependencyResult:
    """Breadth-first search for the first dependency ``arch`` cannot load (see module docstring).

    ``os_arch``: the architecture of the server's Windows, when known: each file is then taken as that Windows sees
    it (:func:`~iisbitness.pe.classify.on_os`: an ARM64X or ARM64EC file loads nowhere outside Windows on Arm, so an
    ARM64 Visual C++ runtime copied beside an x64 module is the link that does not fit). None: as the headers say
    (``inspect``, which knows no OS). NOTE: a run's searches share :attr:`BinaryFacts.searched`, keyed by
    ``os_arch`` too.

    ``binary``: a path, or its string (no ``Path`` made for it then unless a chain is returned). ``facts``: a
    :class:`~iisbitness.pe.facts.BinaryFacts` shared by every call of a run (architectures, files of one folder,
    re-plans) so that each file is read, each folder listed, and each file's dependencies looked up in a search
    path, once; a fresh one when None.

    NOTE: the search walks strings: a step is ``(name, path string, image, via)`` and each file's dependencies
    found in ``search_dirs`` are remembered with the files' cycle-check keys (:attr:`BinaryFacts.resolved`); a
    :class:`Link` (and its ``Path``) is made only for a chain returned (issue 25: 780 files of a 10,000-assembly
    server searched at two architectures).
    """
    facts = facts if facts is not None else BinaryFacts()
    root_path = os.fspath(binary)
    root: _Step = (os.path.basename(root_path), root_path, on_os(facts.image(root_path), os_arch), "root")
    if arch not in root[2].loadable_by:
        return DependencyResult(_chain((root,), arch), visited=1)
    dirs = tuple(search_dirs)
    searched = (root_path, dirs[0] if dirs else None, max_depth, max_files, os_arch)
    before = facts.searched.get(searched)
    if before is not None and arch in before[1] and all(_find(n, v, dirs, facts) is None for n, v in before[2]):
        return before[0]
    found = facts.resolved.get(dirs)
    if found is None:
        found = facts.resolved[dirs] = {}
    queue: deque[tuple[_Step, ...]] = deque([(root,)])
    seen: set[str] = set()  # NOTE: filled at the first dependency found: most files have none here
    unresolved: list[Unresolved] = []
    truncated = False
    arches = root[2].loadable_by  # NOTE: the architectures every file searched loads in
    misses: list[tuple[str, str]] | None = []  # NOTE: the names found in no search folder; None once a name is found
    # beyond the first search folder
    while queue:
        chain = queue.popleft()
        _, path, image, _ = chain[-1]
        deps = found.get(path)
        if deps is None:
            deps = _resolved(path, image, dirs, facts)
            if deps:
                found[path] = deps  # NOTE: most files need nothing beyond Windows and .NET: nothing to remember
        for name, via, dep, key, missing, first in deps:
            if missing is not None:
                unresolved.append(missing)
                if misses is not None:
                    misses.append((name, via))
                continue
            assert dep is not None and key is not None
            if not first:
                misses = None
            if not seen:
                seen.add(_key(root, dirs, facts))
            if key in seen:
                continue
            if len(seen) >= max_files or len(chain) > max_depth:
                truncated = True
                continue
            seen.add(key)
            try:
                step: _Step = (name, dep, on_os(facts.image(dep), os_arch), via)
            except ImageReadError as e:
                unresolved.append(Unresolved(name, Path(path), via, str(e)))
                continue
            if arch not in step[2].loadable_by:
                return DependencyResult(_chain((*chain, step), arch), tuple(unresolved), len(seen), truncated)
            arches = arches & step[2].loadable_by
            queue.append((*chain, step))
    result = DependencyResult(None, tuple(unresolved), max(len(seen), 1), truncated)
    if misses is not None and (seen or unresolved) and len(arches) > 1:
        # NOTE: every file searched loads at each of ``arches`` and every name was found in the first search folder
        # (the binary's own) or in none: a search at another of them, with the same first folder, walks the same
        # files and finds the same, as long as the names found nowhere are still found nowhere (the second worker
        # architecture of a pool's outlook, an AnyCPU chain; issue 25)
        facts.searched[searched] = (result, arches, tuple(misses))
    return result


_Step = tuple[str, str, PeImage, str]
"""One binary of a chain being searched: ``(name, path string, image, via)``, a :class:`Link` once returned."""


def _key(step: _Step, dirs: tuple[Path, ...], facts: BinaryFacts) -> str:
    """The cycle-check key of ``step``'s file (:meth:`BinaryFacts.key`), from the first search folder when that is
    its folder (no ``Path`` made)."""
    name, path, _, _ = step
    if dirs and os.path.dirname(path) == os.fspath(dirs[0]):
        return facts.folders.key_in(dirs[0], name, path)
    return facts.key(path)


def _chain(steps: tuple[_Step, ...], arch: Arch) -> Chain:
    return Chain(tuple(Link(name, Path(path), image, via) for name, path, image, via in steps), arch)


FoundDependencies = tuple[tuple[str, str, str | None, str | None, "Unresolved | None", bool], ...]
"""Per dependency of a file: ``(name, via, file found or None, its cycle-check key or None, Unresolved when not
found, whether found in the first search folder)``; the file found as a string (its folder's path and its name as on
disk)."""

NOT_FOUND = "not found in the search folders"
"""The :attr:`Unresolved.reason` of a dependency in none of the search folders (each listed)."""

SharedSearch = tuple[DependencyResult, frozenset[Arch], tuple[tuple[str, str], ...]]
"""A search result that holds at other architectures (:attr:`BinaryFacts.searched`): the result, the architectures
every file searched loads in, and the ``(name, via)`` found in no search folder, to look for again."""


def _resolved(path: str, image: PeImage, dirs: tuple[Path, ...], facts: BinaryFacts) -> FoundDependencies:
    """(name, via, file found or None, its key or None, Unresolved when not found) per dependency of the file at
    ``path``, in the search folders ``dirs``; once per file and search path (:func:`find_mismatch` remembers it: the
    same for every architecture searched)."""
    names = dependency_names(path, image, facts)
    if not names:
        return ()
    out: list[tuple[str, str, str | None, str | None, Unresolved | None, bool]] = []
    needed_by: Path | None = None  # NOTE: one Path per file, for its dependencies not found
    for name, via in names:
        where = _find(name, via, dirs, facts)
        if where is None or isinstance(where, str):
            needed_by = Path(path) if needed_by is None else needed_by
            missing = (Unresolved(name, needed_by, via, NOT_FOUND) if where is None
                       else Unresolved(name, needed_by, via, where, unchecked=True))
            out.append((name, via, None, None, missing, False))
        else:
            folder, real = where
            dep = os.path.join(folder, real)
            out.append((name, via, dep, facts.folders.key_in(folder, real, dep), None, folder is dirs[0]))
    return tuple(out)


def dependency_names(binary: str | Path, image: PeImage, facts: BinaryFacts) -> tuple[tuple[str, str], ...]:
    """(name, via) of each dependency the image at ``binary`` (read as ``image``) has beyond what Windows and .NET
    provide, in the order :func:`find_mismatch` follows them; read once per file (:attr:`BinaryFacts.deps`).
    Empty for most files: then :func:`find_mismatch` of a process that loads ``binary`` finds nothing, which a
    caller may know without searching (issue 25)."""
    return facts.dependencies(binary, lambda: tuple(_read_dependencies(binary, image, facts)))


_WITH_IMPORTS = frozenset({ImageKind.NATIVE, ImageKind.MIXED})
"""The images whose native imports are dependencies (NOTE: a constant: an Enum member read through its class costs
about four times as much in Python 3.11, and this is asked per file)."""


def _read_dependencies(path: str | Path, image: PeImage, facts: BinaryFacts) -> Iterator[tuple[str, str]]:
    if image.kind in _WITH_IMPORTS:
        try:
            imports = facts.imports(path)
        except ImageReadError:
            return
        for name in imports.dlls:
            if not is_os_dll(name):
                yield name, "import"
        for name in imports.delay_dlls:
            if not is_os_dll(name):
                yield name, "delay-import"
    if image.is_managed:
        try:
            info = facts.references(path)
        except ImageReadError:
            facts.unread_metadata.add(os.fspath(path))
            return
        if info.reason is not None:
            facts.unread_metadata.add(os.fspath(path))
        yield from _assembly_dependencies(info.assembly_refs, info.pinvoke_modules)


def assembly_dependencies(image: PeImage, refs: Iterable[AssemblyRef],
                          modules: Iterable[str]) -> tuple[tuple[str, str], ...] | None:
    """:func:`dependency_names` of the .NET image ``image`` whose metadata holds the AssemblyRef rows ``refs`` and the
    P/Invoke modules ``modules`` (read whole), when they are all its dependencies; None for an image whose native
    imports are dependencies too (mixed-mode: they are read from the file). What a caller that has the references
    already (:mod:`iisbitness.pe.prefetch`'s answers) seeds :attr:`BinaryFacts.deps <iisbitness.pe.facts.BinaryFacts.deps>`
    with."""
    if image.kind in _WITH_IMPORTS:
        return None
    return tuple(_assembly_dependencies(refs, modules))


def _assembly_dependencies(refs: Iterable[AssemblyRef], modules: Iterable[str]) -> Iterator[tuple[str, str]]:
    """``(name, via)`` of the AssemblyRefs and P/Invoke modules that name neither .NET's assemblies nor Windows' DLLs."""
    for ref in refs:
        if not is_framework_assembly(ref.name):
            yield ref.name, "assembly-ref"
    for module in modules:
        if not is_os_dll(module) and not is_os_dll(f"{module}.dll"):
            yield module, "pinvoke"


def pinvoke_targets(binary: Path, facts: BinaryFacts) -> tuple[str, ...] | None:
    """The lower-case file names the ``[DllImport]`` declarations of the assembly at ``binary`` name: its ImplMap
    rows' ModuleRef names (ECMA-335 II.22.22, II.22.31), with ``.dll`` added to a name without an extension
    (``nativelib`` -> ``nativelib.dll``, as LoadLibrary does: "LoadLibraryW", learn.microsoft.com); Windows'
    own DLLs are left out. Empty for a native image; None when the file or its metadata cannot be read. Read
    once per file (the dependency search's memo, :attr:`BinaryFacts.deps`)."""
    try:
        image = facts.image(binary)
    except ImageReadError:
        return None
    if not image.is_managed:
        return ()
    names = dependency_names(binary, image, facts)
    if os.fspath(binary) in facts.unread_metadata:
        return None
    return tuple(dict.fromkeys(_dll_name(n) for n, via in names if via == "pinvoke"))


def _dll_name(module: str) -> str:
    low = module.lower()
    return low if "." in low.rsplit("\\", 1)[-1].rsplit("/", 1)[-1] else low + ".dll"


def _find(name: str, via: str, dirs: tuple[Path, ...], facts: BinaryFacts) -> tuple[Path, str] | str | None:
    """The first search folder of ``dirs`` holding a file ``name`` stands for (case-insensitively: each folder
    listed once per run) and the file's name as on disk; None when none does; why not, when the search reaches a
    folder whose listing proves nothing (:attr:`BinaryFacts.unproven`: the loader would look there, and the file
    found there, or found later, or found nowhere, is not known)."""
    if via == "assembly-ref":
        candidates = [f"{name}.dll", f"{name}.exe"]
    elif via == "pinvoke" and not name.lower().endswith((".dll", ".exe")):
        candidates = [f"{name}.dll", name]
    else:
        candidates = [name]
    if any(sep in name for sep in "/\\") or name in ("", ".", ".."):
        return None  # NOTE: a path in an import name is never resolved outside the folders
    unproven = facts.unproven
    for folder in dirs:
        names = facts.listing(folder)
        for cand in candidates:
            real = names.get(cand.lower())
            if real is not None:
                why = unproven(folder, real) if unproven is not None else None
                return (folder, real) if why is None else why
        why = unproven(folder, None) if unproven is not None else None
        if why is not None:
            return why
    return None
