"""Exit codes shared by every command (see :mod:`iisbitness.cli`)."""

EXIT_OK = 0
"""Nothing at or above the failure threshold."""
EXIT_FINDINGS = 1
"""Findings at or above the threshold (or: nothing recognised / something cannot load)."""
EXIT_INPUT_ERROR = 2
"""The input could not be read or analysed (``check-app``: also a web.config of the build IIS itself refuses, HTTP
500.19: the build cannot be served, whatever its binaries; with ``--server``, the server's own configuration IIS refuses
over the application, which is then not checked)."""
EXIT_FIX_REFUSED = 3
"""``fix --apply`` wrote nothing: a file changed since it was read, an element is no longer where the
scan read it, or a file cannot be written (the message names the file)."""
EXIT_INTERRUPTED = 130
"""Interrupted (Ctrl-C, SIGINT): the shells' 128 + SIGINT, not 1 ("findings"); whatever the command was to write
may be missing or partial."""
