"""PE/COFF and CLR header reading: the part of iisbitness that decides a binary's architecture.

Public API (everything else is internal):
    classify.read_image(path) -> PeImage              a file; ImageReadError if unreadable
    classify.classify_bytes(data, path) -> PeImage    bytes; never raises
    imports.read_imports(path) -> Imports             imported / delay-loaded DLL names
    metadata.read_assembly_info(path) -> AssemblyInfo .NET metadata (own ECMA-335 reader); never raises for content
    metadata.read_assembly_references(path) -> AssemblyReferences   only what it references (what a scan needs)
    deps.find_mismatch(binary, arch, search_dirs) -> DependencyResult   first dependency that does not fit
    clr.cor_flag_names(flags), clr.corflags_view(flags)                 CorFlags.exe-style names

Modules by concern: source (bounded reads), headers (DOS/COFF/optional/sections), clr (COR20,
CorFlags), hybrid (ARM64EC/ARM64X via CHPE), readytorun (R2R header, OS/arch from Machine),
imports, metadata, deps, classify (composes them), types (PeImage, the contract).
"""
