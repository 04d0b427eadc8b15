"""iisbitness: find and fix 32-bit / 64-bit / ARM64 mismatches on Microsoft IIS servers."""

__version__ = "0.1.0"
