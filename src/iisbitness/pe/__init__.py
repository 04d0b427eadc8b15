"""PE/COFF and CLR header reading: the part of iisbitness that decides a binary's architecture.

Public entry points: :func:`iisbitness.pe.classify.read_image` (a file) and
:func:`iisbitness.pe.classify.classify_bytes` (bytes already in memory).
"""
