"""Exit codes shared by every command (see :mod:`iisbitness.cli`)."""

EXIT_OK = 0
"""Nothing at or above the failure threshold."""
EXIT_FINDINGS = 1
"""Findings at or above the threshold (or: nothing recognised / something cannot load)."""
EXIT_INPUT_ERROR = 2
"""The input could not be read or analysed."""
