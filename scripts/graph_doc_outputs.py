"""Regenerate the real command outputs and figures that docs/graph.md shows.

Every ``<!-- output: exoresist graph ... -->`` marker is followed by a fenced block; the block is
replaced by what the command prints on the shipped KB. Every ``<!-- figure: exoresist graph draw
... -->`` marker is run (it writes the figure the text shows). Run from the repository root:

    .venv/bin/python scripts/graph_doc_outputs.py            # rewrite docs/graph.md and the figures
    .venv/bin/python scripts/graph_doc_outputs.py --check    # exit 1 if an output block is stale
"""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

from typer.testing import CliRunner

from exoresist.atomic import write_text
from exoresist.cli.main import app

DOC = Path("docs/graph.md")
_MARKER = re.compile(r"<!-- (output|figure): (exoresist graph [^>]*?) -->\n(```\w*\n.*?^```\n)?", re.S | re.M)


def _run(command: str) -> str:
    args = shlex.split(command)[1:]
    result = CliRunner().invoke(app, args)
    if result.exit_code != 0:
        raise SystemExit(f"'{command}' failed ({result.exit_code}): {result.stderr or result.stdout}")
    return str(result.stdout).rstrip("\n")


def regenerate(text: str, *, figures: bool) -> str:
    def replace(m: re.Match[str]) -> str:
        kind, command = m.group(1), m.group(2)
        if kind == "figure":
            if figures:
                _run(command)
            return m.group(0)
        lang = "json" if "--format json" in command else "text"
        return f"<!-- output: {command} -->\n```{lang}\n{_run(command)}\n```\n"

    return _MARKER.sub(replace, text)


def main(argv: list[str]) -> int:
    check = "--check" in argv
    old = DOC.read_text(encoding="utf-8")
    new = regenerate(old, figures=not check)
    if check:
        if new != old:
            print(f"{DOC} is out of date: run scripts/graph_doc_outputs.py")
            return 1
        return 0
    write_text(DOC, new)
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
