"""``iisbitness inspect`` as a table (rich): one row per file, then notes and dependency chains.

Reads only :class:`iisbitness.pe.walk.InspectedFile` values. :func:`renderables` gives rich
objects for a live console; :func:`render` the same as text; :func:`plain` aligned columns, one
file a line, never folded or cut, for pipes and files (``inspect bin/ > out.txt``, ``| less``).
rich's console, table and text are imported where they are used: :func:`plain` into a pipe needs
none of them, nor any of rich (issue 25: a third of this module's import time, in every ``inspect`` run).
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from iisbitness.arch import format_arches
from iisbitness.formats.table import fit_table, plain_table, printable
from iisbitness.pe.clr import cor_flag_names
from iisbitness.pe.headers import machine_name
from iisbitness.pe.types import ImageKind, PlatformTarget
from iisbitness.pe.walk import InspectedFile

if TYPE_CHECKING:
    from rich.console import RenderableType

KIND_LABELS = {
    ImageKind.NATIVE: "native",
    ImageKind.IL_ONLY: ".NET IL-only",
    ImageKind.MIXED: ".NET mixed-mode",
    ImageKind.READY_TO_RUN: "ReadyToRun",
    ImageKind.NOT_PE: "not a PE",
}

PREFERRED_EXPLAINED = (
    "32BITPREF (\"AnyCPU 32-bit preferred\", CorFlags 0x20003) means different things by file type. "
    "On an EXE it picks the process: it starts as a 32-bit process wherever Windows can run one. "
    "On a DLL it is not meant to be set, and a 64-bit process cannot load such a DLL (CorFlags.exe "
    "documentation), so iisbitness counts it as x86 only."
)


def renderables(files: Sequence[InspectedFile], *, show_deps: bool = False) -> list[RenderableType]:
    """The table, then notes (reasons, CorFlags explanations) and, with ``show_deps``, chains.

    Paths in the table are relative to the folder all files share, named in the table title.
    """
    from rich.table import Table

    base = _common_folder(files)
    table = Table(header_style="bold", title=f"in {base}" if base else None, title_justify="left")
    longest = max((len(_relative(f, base)) for f in files), default=4)
    table.add_column("File", overflow="fold", min_width=min(longest, 44))
    for col in COLUMNS[1:]:
        table.add_column(col, overflow="fold")
    shown = [_relative(f, base) for f in files]
    for name, item in zip(shown, files, strict=True):
        table.add_row(name, *_row(item))
    return [table, *_after(files, shown, show_deps)]


def _after(files: Sequence[InspectedFile], shown: Sequence[str], show_deps: bool) -> list[RenderableType]:
    """What follows the table: notes (reasons, CorFlags explanations) and, with ``show_deps``, chains."""
    from rich.text import Text

    notes, preferred = _notes(files, shown)
    out: list[RenderableType] = []
    if notes:
        out.append(Text("Notes:", style="bold"))
        out.extend(Text(f"  {name}: {note}") for name, note in notes)
    if preferred:
        out.append(Text(PREFERRED_EXPLAINED))
    if show_deps:
        out.extend(_deps(files))
    return out


def _notes(files: Sequence[InspectedFile], shown: Sequence[str]) -> tuple[list[tuple[str, str]], bool]:
    """``(file as shown, note)`` for every file, and whether any is AnyCPU 32-bit preferred."""
    notes: list[tuple[str, str]] = []
    preferred = False
    for name, item in zip(shown, files, strict=True):
        img = item.image
        if img is None:
            notes.append((name, item.error or "unreadable"))
            continue
        if img.reason:
            notes.append((name, img.reason))
        notes.extend((name, note) for note in img.notes)
        if _is_reference(item):
            notes.append((name, "reference assembly (ReferenceAssemblyAttribute): never loaded for execution"))
        preferred = preferred or img.platform_target is PlatformTarget.ANYCPU_32BIT_PREFERRED
    return notes, preferred


def render(files: Sequence[InspectedFile], *, show_deps: bool = False, width: int = 160) -> str:
    """Plain text (no colour) of :func:`renderables`."""
    from rich.console import Console

    buf = io.StringIO()
    console = Console(file=buf, width=width, color_system=None, force_terminal=False, highlight=False)
    for item in renderables(files, show_deps=show_deps):
        console.print(item)
    return buf.getvalue()


COLUMNS = ("File", "Kind", "Target", "Loads in", "Machine", "PE", "CLR", "CorFlags")


def plain(files: Sequence[InspectedFile], *, show_deps: bool = False, width: int | None = None) -> str:
    """The table as aligned columns, then notes and chains. ``width`` None: one file a line, whatever its length
    (for grep and cut); else the table fits ``width`` (:func:`iisbitness.formats.table.fit_table`: the CorFlags
    column below its row, or one block per file; never a cell cut) and notes wrap between words.

    Paths are relative to the folder all files share, named on the first line.
    """
    base = _common_folder(files)
    lines = [f"in {base}"] if base else []
    shown = _relative_all(files, base)
    rows = _rows(files, shown)
    lines += plain_table(COLUMNS, rows) if width is None else fit_table(COLUMNS, rows, width, items="\n")
    notes, preferred = _notes(files, shown)
    texts = [f"  {name}: {note}" for name, note in notes] + ([PREFERRED_EXPLAINED] if preferred else [])
    if width is None and not show_deps and not any("\t" in t for t in texts):
        # NOTE: what rich prints for these plain texts (soft-wrapped, no style): each line with its control codes
        # stripped (rich.text.Text does; :data:`STRIP_CONTROL`, none of them a newline, so once over the whole
        # tail); 8,000 notes through rich took a second (issue 25)
        tail = (["Notes:"] if notes else []) + texts
        return "\n".join(lines) + "\n" + "".join(t + "\n" for t in tail).translate(STRIP_CONTROL)
    from rich.console import Console

    rest = _after(files, shown, show_deps)
    buf = io.StringIO()
    console = Console(file=buf, width=width or 100_000, color_system=None, force_terminal=False, highlight=False,
                      soft_wrap=width is None)
    for item in rest:
        console.print(item)
    return "\n".join(lines) + "\n" + buf.getvalue()


STRIP_CONTROL: dict[int, None] = dict.fromkeys((7, 8, 11, 12, 13))
"""The control codes rich's ``Text`` drops from what it prints (BEL, BS, VT, FF, CR: ``rich.control``'s
``STRIP_CONTROL_CODES``; a test checks it against the rich installed), as a :meth:`str.translate` table: so that
:func:`plain` into a pipe imports nothing of rich (issue 25)."""


def _rows(files: Sequence[InspectedFile], shown: Sequence[str]) -> list[tuple[str, ...]]:
    """``(file as shown, *`` :func:`_row` ``)`` of every file; :func:`_row` once per distinct set of the image's fields
    it reads (a folder's thousands of assemblies show a few dozen: issue 25)."""
    done: dict[tuple[object, ...], tuple[str, ...]] = {}
    rows = []
    for name, item in zip(shown, files, strict=True):
        img = item.image
        if img is None:
            rows.append((name, *_row(item)))
            continue
        # NOTE: what _row reads of the image, by identity where it is an enumeration (Enum's __hash__ is Python code)
        key = (id(img.kind), img.machine, img.pe32_plus, img.is_dll, img.cor_flags, id(img.platform_target),
               img.ready_to_run_os, img.loadable_by, img.clr_version, _is_reference(item))
        row = done.get(key)
        if row is None:
            row = done[key] = _row(item)
        rows.append((name, *row))
    return rows


def _row(item: InspectedFile) -> tuple[str, ...]:
    img = item.image
    if img is None:
        return ("not read" if item.skipped else "unreadable", "", "", "", "", "", "")
    if not img.is_pe:
        return (KIND_LABELS[img.kind], "", "none", "", "", "", "")
    machine = f"{machine_name(img.machine)} {img.machine:#x}" if img.machine is not None else ""
    pe = ("PE32+" if img.pe32_plus else "PE32") + (" DLL" if img.is_dll else " EXE")
    flags = "" if img.cor_flags is None else f"{img.cor_flags:#x} " + " ".join(cor_flag_names(img.cor_flags))
    target = img.platform_target.value + (f" ({img.ready_to_run_os})" if img.ready_to_run_os else "")
    loads = REFERENCE_LOADS if _is_reference(item) else format_arches(img.loadable_by)
    return (KIND_LABELS[img.kind], target, loads, machine, pe, img.clr_version or "", flags)


REFERENCE_LOADS = "none at run time (reference assembly)"
"""The Loads in cell of a reference assembly: whatever its header says, the CLR refuses to load it for execution
(COR_E_LOADING_REFERENCE_ASSEMBLY 0x80131058, a BadImageFormatException; explain's ``reference-assembly``)."""


def _is_reference(item: InspectedFile) -> bool:
    return item.assembly is not None and item.assembly.is_reference_assembly


def _common_folder(files: Sequence[InspectedFile]) -> str:
    # NOTE: os.path.dirname of the path's text, not Path.parent (a new Path per file), and each folder once to
    # commonpath (it splits every path it is given): a third of plain's time (issue 25); the same text, "." for a
    # bare name (dirname gives "")
    dirname = os.path.dirname
    parents = list(dict.fromkeys([dirname(str(f.path)) or "." for f in files]))
    if not parents:
        return ""
    try:
        common = os.path.commonpath(parents)
    except ValueError:  # NOTE: mixed absolute/relative paths or drives
        return ""
    return "" if common in ("", ".") else printable(common)


def _relative(item: InspectedFile, base: str) -> str:
    return printable(os.path.relpath(item.path, base) if base else str(item.path))


def _relative_all(files: Sequence[InspectedFile], base: str) -> list[str]:
    """:func:`_relative` of every file; a path under ``base`` (as given, no ``..``) by cutting its prefix
    instead of ``os.path.relpath`` (which makes both paths absolute each time)."""
    prefix = base.rstrip(os.sep) + os.sep if base and printable(base) == base else None
    out = []
    for f in files:
        text = str(f.path)
        if prefix is not None and text.startswith(prefix) and os.path.normpath(text) == text:
            out.append(printable(text[len(prefix):]))
        else:
            out.append(_relative(f, base))
    return out


def _deps(files: Sequence[InspectedFile]) -> list[RenderableType]:
    from rich.text import Text

    lines: list[RenderableType] = [Text("Dependencies:", style="bold")]
    for item in files:
        for arch, result in item.deps:
            if result.mismatch is not None:
                lines.append(Text(printable(f"  [{arch}] {result.mismatch}"), style="red"))
            for u in result.unresolved:
                lines.append(Text(printable(f"  [{arch}] {item.path.name}: {u.name} ({u.via}) not found")))
            if result.truncated:
                lines.append(Text(printable(f"  [{arch}] {item.path.name}: search stopped at its depth/file limit")))
    if len(lines) == 1:
        lines.append(Text("  no dependency problems found"))
    return lines
