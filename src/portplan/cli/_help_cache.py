"""Write `portplan/data/help.txt`, the group's help click prints, for the console script to
print without importing click (portplan._startup).

    python -m portplan.cli._help_cache
"""

from __future__ import annotations

import contextlib
import io
import os

from portplan import _startup


def click_help() -> str:
    """The group's help exactly as `portplan --help` prints it through click, for a
    terminal of 80 columns."""
    from portplan.cli import main

    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(_startup.WIDTH + 2)
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            main(["--help"])
    finally:
        if saved is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = saved
    return out.getvalue()


def write() -> None:
    """Write the help and the fingerprint of what it was made from."""
    with open(_startup.HELP_FILE, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(f"{_startup.fingerprint()}\n{click_help()}")


if __name__ == "__main__":
    write()
