"""The command an error message suggests pastes as it is: a path with a space is quoted.

`iisbitness scan "my apphost.config"` (a configuration file given as the image) said "to read this file on its own:
iisbitness scan --config my apphost.config", which every shell splits into two arguments. Real input: the shared
corpus's coso-configuration applicationHost.config, copied under a name with a space."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from iisbitness.cli import main
from iisbitness.cli.options import pasted_arg
from tests.conftest import corpus_dir

COSO = "coso-configuration__supernova__applicationHost.config"


def test_a_config_given_as_the_image_is_named_quoted_in_the_suggested_command(tmp_path: Path) -> None:
    spaced = tmp_path / "my server" / "apphost copy.config"
    spaced.parent.mkdir()
    shutil.copy(corpus_dir("iis-config") / COSO, spaced)
    r = CliRunner().invoke(main, ["scan", str(spaced)])
    assert r.exit_code == 2
    assert f'to read this file on its own: iisbitness scan --config "{spaced}"' in r.stderr
    plain = tmp_path / "apphost.config"
    shutil.copy(corpus_dir("iis-config") / COSO, plain)
    r = CliRunner().invoke(main, ["fix", str(plain)])  # NOTE: fix reads no file alone: no hint, no quotes
    assert r.exit_code == 2 and "--config" not in r.stderr
    r = CliRunner().invoke(main, ["scan", str(plain)])
    assert r.stderr.rstrip().endswith(f"iisbitness scan --config {plain}")


def test_pasted_arg_quotes_what_a_shell_would_split() -> None:
    assert pasted_arg(r"C:\inetpub\app.config") == r"C:\inetpub\app.config"
    assert pasted_arg("/tmp/My Solution") == '"/tmp/My Solution"'
    assert pasted_arg(r"C:\Program Files (x86)\x.config") == r'"C:\Program Files (x86)\x.config"'
    assert pasted_arg("a&b.config") == '"a&b.config"'
