"""docs/curation.md: every command of the worked example runs, with the exit status and output it shows."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from exoresist.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "curation.md"
BLOCK = re.compile(r"```console(?: exit=(\d+))?\n(.*?)```", re.S)


def _steps() -> list[tuple[str, int, list[str]]]:
    """(command, expected exit status, output lines the doc shows) for every ``$ exoresist`` line."""
    steps = []
    for match in BLOCK.finditer(DOC.read_text(encoding="utf-8")):
        code = int(match.group(1) or 0)
        current: tuple[str, int, list[str]] | None = None
        for line in match.group(2).splitlines():
            if line.startswith("$ "):
                current = (line[2:], code, [])
                steps.append(current)
            elif current is not None and line.strip() and line.strip() != "...":
                current[2].append(line.strip())
    return steps


STEPS = _steps()
HASH = re.compile(r"\bhash [0-9a-f]{12}\b")


def _no_hash(line: str) -> str:
    """The KB content hash changes with every curated record, so the doc's hash is not compared."""
    return HASH.sub("hash <content hash>", line)


def test_the_doc_has_every_step() -> None:
    commands = " ".join(c for c, _, _ in STEPS)
    for needed in ("kb validate", "kb query", "graph explain", "simulate", "--knockout", "trial run", "--knockouts", "kb build"):
        assert needed in commands
    assert all((c.startswith("exoresist ") and "--records" in c) or "validate" in c for c, _, _ in STEPS)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the example records where they are in the repository (the trial writes in out/)."""
    here = tmp_path_factory.mktemp("curation")
    shutil.copytree(ROOT / "docs" / "examples", here / "docs" / "examples")
    return here


@pytest.mark.slow
@pytest.mark.parametrize(("command", "code", "shown"), STEPS, ids=[c[:60] for c, _, _ in STEPS])
def test_step(command: str, code: int, shown: list[str], workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(workdir)
    args = shlex.split(command)[1:]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    output = [_no_hash(line.strip()) for line in result.output.splitlines()]
    for line in map(_no_hash, shown):
        assert line in output, f"{line!r} is not in the output of: {command}\n{result.output}"
