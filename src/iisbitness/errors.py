"""The error hierarchy: one base, one subclass per layer.

Only :mod:`iisbitness.cli` turns these into messages and exit codes. Parsers raise their
own error ``from`` the low-level one, naming the file and what failed.
"""

from __future__ import annotations


class IisBitnessError(Exception):
    """Base of every error this package raises on purpose."""


class ImageReadError(IisBitnessError):
    """A binary could not be read at all (permission denied, vanished, a folder).

    Content problems are not errors: they come back as a ``NOT_PE`` classification.
    """


class ConfigError(IisBitnessError):
    """A configuration file could not be parsed.

    Attributes:
        path: the file as the user would name it.
        line: 1-based line of the problem, or None when unknown.
    """

    def __init__(self, path: str, message: str, line: int | None = None) -> None:
        self.path = path
        self.line = line
        self.message = message
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {message}")


class ServerImageError(IisBitnessError):
    """The server image as a whole cannot be analysed (no configuration found, not a folder)."""


class CacheError(IisBitnessError):
    """The scan cache (``--cache FILE``) cannot be created, opened or written."""


class FixError(IisBitnessError):
    """A fix cannot be planned or written (a file changed since it was read, an element not found,
    the result not well-formed); the message names the file. Nothing was replaced."""
