"""``iisbitness explain``: from an error message, code or event log to the likely bitness causes.

Wiring only: read the inputs, call :func:`iisbitness.explain.report.build_report`, print a format, exit
0 when something was recognised, 1 when nothing was, 2 when an event log cannot be read at all (the
message names the file). A damaged .evtx whose chunks partly parse is data (problems in the report).
"""

from __future__ import annotations

import sys

import click

from iisbitness.cli.exitcodes import EXIT_FINDINGS, EXIT_INPUT_ERROR, EXIT_OK
from iisbitness.cli.options import json_option, text_width
from iisbitness.explain.events import EventLogError, EventLogRead, decode_bytes, read_events
from iisbitness.explain.kb import load_kb
from iisbitness.explain.report import build_report
from iisbitness.formats import explain_json, explain_text

MAX_STDIN_BYTES = 8 * 1024 * 1024
"""Most text read from stdin: a pasted error is a few KB; matching is linear in the text's size
(:mod:`iisbitness.explain.spans`), about 1.5 s per MB of a paste full of errors, less for a log."""


@click.command("explain")
@click.argument("text", nargs=-1)
@click.option("--event-log", "event_logs", multiple=True, type=click.Path(dir_okay=False),
              help="A .evtx file or exported event XML (wevtutil /f:xml, Event Viewer, Azure). Repeatable.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@json_option
def explain_command(text: tuple[str, ...], event_logs: tuple[str, ...], fmt: str) -> None:
    """Explain an error message, code or event log in terms of bitness causes.

    \b
    Examples:
      iisbitness explain "HRESULT 8007041d"
      iisbitness explain < aspnet_regiis.log
      type error.txt | iisbitness explain -
      iisbitness explain --event-log Application.evtx --event-log System.xml

    TEXT "-" (or no TEXT) reads the text from stdin.
    """
    kb = load_kb()
    texts: list[tuple[str, str]] = []
    if text and text != ("-",):
        texts.append(("argument", " ".join(text)))
    elif text or not event_logs or not sys.stdin.isatty():
        if sys.stdin.isatty():  # NOTE: a bare `explain` at a prompt would wait without a word
            click.echo("iisbitness explain: paste the error text, then Ctrl-D (Ctrl-Z and Enter on Windows)",
                       err=True)
        # NOTE: bytes, so a UTF-16 file (Notepad "Unicode", PowerShell 5 redirection) or an ANSI one reads too
        buffer = getattr(sys.stdin, "buffer", None)
        raw = buffer.read(MAX_STDIN_BYTES + 1) if buffer is not None else sys.stdin.read(MAX_STDIN_BYTES + 1)
        if len(raw) > MAX_STDIN_BYTES:  # NOTE: explain < /dev/zero, or a whole day's log (issue 26)
            click.echo(f"iisbitness explain: stdin: more than {MAX_STDIN_BYTES:,} bytes; not read. Give the part "
                       "around the error (or the event log with --event-log)", err=True)
            sys.exit(EXIT_INPUT_ERROR)
        data = decode_bytes(raw) if isinstance(raw, bytes) else raw
        if data.strip() or not event_logs:
            texts.append(("stdin", data))
    logs: list[EventLogRead] = []
    for path in event_logs:
        try:
            logs.append(read_events(path, kb))
        except EventLogError as e:
            click.echo(f"iisbitness explain: {e}", err=True)
            sys.exit(EXIT_INPUT_ERROR)
    report = build_report(texts, logs, kb)
    if fmt == "json":
        click.echo(explain_json.render(report), nl=False)
    else:
        terminal = sys.stdout.isatty()
        click.echo(explain_text.render(report, width=text_width(terminal), color=terminal), nl=False)
    sys.exit(EXIT_OK if report.recognised else EXIT_FINDINGS)
