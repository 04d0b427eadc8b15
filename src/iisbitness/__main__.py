"""``python -m iisbitness``: the same command line as the ``iisbitness`` script (:mod:`iisbitness.cli`),
under the same name in its usage and help texts."""

from iisbitness.cli import main

if __name__ == "__main__":
    main(prog_name="iisbitness")
