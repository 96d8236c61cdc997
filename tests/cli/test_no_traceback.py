"""Every command with an unwritable output path and with a malformed URL: exit status 1, one line, no traceback.

The commands and their checked options are found by walking the CLI, so a new command or option
is covered (or this test fails, if it names an output or URL without the shared checks)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from exoresist.cli.main import app

#: Options that name an output or an address: each must be checked by exoresist.preflight.
CHECKED_NAMES = {"output", "out", "report", "figure", "db", "scheduler"}
#: What each command needs besides the option under test.
REQUIRED: dict[str, list[str]] = {
    "kb show": ["mech:circuhrf1-nk-tim3"],
    "graph explain": ["--cargo", "circCCAR1", "--therapy", "anti-PD-1"],
    "graph routes": ["--therapy", "sorafenib"],
    "graph targets": ["--therapy", "sorafenib"],
    "graph compare": ["--therapy", "sorafenib", "--therapy", "lenvatinib"],
    "graph export": ["--format", "graphml"],
    "trial run": ["--arm", "sorafenib", "--patients", "2"],
    "trial calibrate": ["--check"],
    "trial sensitivity": ["--arm", "sorafenib"],
}
BAD_FILES = {"unwritable": "/proc/exoresist-test/x.out", "a folder": "/tmp", "empty": "", "too long": "/tmp/" + "f" * 300}
BAD_DIRS = {"unwritable": "/proc/exoresist-test", "an existing file": "__FILE__", "empty": "", "too long": "/tmp/" + "d" * 300}
BAD_URLS = {
    "db": ["not a url", "kb.sqlite", "sqlite:///__FILE__", "nosuchdb://x/y"],
    "scheduler": ["", "not a url", "tcp://h:99999"],
}


def _commands() -> Iterator[tuple[str, Any]]:
    def walk(cmd: Any, path: tuple[str, ...]) -> Iterator[tuple[str, Any]]:
        if hasattr(cmd, "commands"):
            for name, sub in cmd.commands.items():
                yield from walk(sub, (*path, name))
        else:
            yield " ".join(path), cmd

    yield from walk(typer.main.get_command(app), ())


def _check(param: Any) -> str | None:
    info = getattr(getattr(param, "type_descriptor", None), "parameter_info", None)
    return getattr(getattr(info, "parser", None), "checked_by", None)


def _cases() -> list[tuple[str, str, str, str]]:
    """(command, option, value, what) for every checked option of every command."""
    cases = []
    for command, cmd in _commands():
        for p in cmd.params:
            check = _check(p)
            if check is None:
                continue
            opt = p.opts[-1]
            if check == "output_file":
                cases += [(command, opt, v, what) for what, v in BAD_FILES.items()]
            elif check == "output_dir":
                cases += [(command, opt, v, what) for what, v in BAD_DIRS.items()]
            elif check in ("_db_read", "_db_write"):
                cases += [(command, opt, v, "malformed URL") for v in BAD_URLS["db"]]
            elif check in ("scheduler_address", "serve_scheduler"):
                cases += [(command, opt, v, "malformed address") for v in BAD_URLS["scheduler"]]
    return cases


CASES = _cases()


def test_every_output_and_url_option_is_checked() -> None:
    unchecked = [
        f"{command} {p.opts[-1]}"
        for command, cmd in _commands()
        for p in cmd.params
        if p.name in CHECKED_NAMES and _check(p) is None
    ]
    assert unchecked == []
    covered = {c for c, _, _, _ in CASES}
    # the commands of the issue are all among them
    for command in ("trial run", "demo", "graph draw", "kb export", "kb build", "kb query", "graph explain", "trial calibrate"):
        assert command in covered
    assert len(covered) >= 20


@pytest.mark.parametrize(("command", "option", "value", "what"), CASES, ids=[f"{c} {o} {w} {v[:20]!r}" for c, o, v, w in CASES])
def test_bad_output_or_url_fails_in_one_line(command: str, option: str, value: str, what: str, tmp_path: Path) -> None:
    a_file = tmp_path / "existing.txt"
    a_file.write_text("not a store\n", encoding="utf-8")
    value = value.replace("__FILE__", str(a_file))
    args = [*command.split(), *REQUIRED.get(command, [])]
    if command in ("graph export", "graph draw", "model export-sbml") and option not in ("-o", "--output"):
        args += ["-o", str(tmp_path / ("g.png" if command == "graph draw" else "out.xml"))]
    result = CliRunner().invoke(app, [*args, option, value])
    out = result.output
    assert result.exit_code == 1, out
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in out
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), out
    assert option in lines[0] or value in lines[0], out  # it names what was wrong
    # nothing was created where the bad path pointed
    assert not Path("/proc/exoresist-test").exists()


def test_the_installed_command_prints_one_line_too(tmp_path: Path) -> None:
    """The real entry point (not the test runner): a trial whose report cannot be written fails before it runs."""
    out_dir = tmp_path / "trial"
    proc = subprocess.run(
        [sys.executable, "-m", "exoresist.cli.main", "trial", "run", "--arm", "sorafenib", "--patients", "2",
         "--scheduler", "serial", "--out", str(out_dir), "--report", "/proc/r.html"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "error: --report '/proc/r.html': cannot create files in '/proc' (No such file or directory): choose a writable folder"
    ]
    assert not out_dir.exists()  # failed before the trial ran
