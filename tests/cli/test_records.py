"""The user's own records: --records in every command that reads the KB, validated at load, seen by Dask workers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import typer.main
from typer.testing import CliRunner

from exoresist.cli.main import app
from exoresist.cohort.calibration import calibrated_cohort
from exoresist.cohort.config import TrialConfig
from exoresist.cohort.runner import kb_payload, run_key, run_trial
from exoresist.kb import KnowledgeBase, load_kb

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "curation" / "my-records.yaml"
RECORD = "mech:circexample-pten-sorafenib"

#: Every command that reads the KB, as the issue lists them (plus names and demo).
READERS = {
    "kb build",
    "kb query",
    "kb show",
    "kb stats",
    "kb export",
    "graph explain",
    "graph routes",
    "graph targets",
    "graph compare",
    "graph export",
    "graph draw",
    "simulate",
    "model show",
    "model export-sbml",
    "model parameters",
    "experiments run",
    "trial run",
    "trial calibrate",
    "trial validate",
    "trial sensitivity",
    "demo",
    "names",
    "biomarker evaluate",
    "biomarker score",
    "biomarker design",
}


def _commands() -> dict[str, Any]:
    out: dict[str, Any] = {}

    def walk(cmd: Any, path: tuple[str, ...]) -> None:
        if hasattr(cmd, "commands"):
            for name, sub in cmd.commands.items():
                walk(sub, (*path, name))
        else:
            out[" ".join(path)] = cmd

    walk(typer.main.get_command(app), ())
    return out


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_every_command_that_reads_the_kb_takes_records() -> None:
    with_records = {name for name, cmd in _commands().items() if any(p.name == "records" for p in cmd.params)}
    assert with_records == READERS


@pytest.mark.parametrize(
    "args",
    [
        ["kb", "query", "--cargo", "circEXAMPLE"],
        ["kb", "show", RECORD],
        ["kb", "stats", "--format", "json"],
        ["kb", "export", "--format", "jsonl"],
        ["graph", "explain", "--cargo", "circEXAMPLE", "--therapy", "sorafenib"],
        ["graph", "routes", "--therapy", "sorafenib"],
        ["graph", "targets", "--therapy", "sorafenib", "--format", "json"],
        ["graph", "compare", "--therapy", "sorafenib", "--therapy", "lenvatinib"],
        ["model", "show", "--therapy", "sorafenib", "--format", "json"],
        ["model", "parameters"],
        ["names", "--kind", "cargo"],
    ],
    ids=lambda a: " ".join(a[:2]),
)
def test_the_added_record_is_seen(args: list[str]) -> None:
    code, out = run(*args, "--records", str(EXAMPLE))
    assert code == 0, out
    assert "circexample" in out.casefold()


def test_exports_and_simulation_include_the_record(tmp_path: Path) -> None:
    code, out = run("graph", "export", "--format", "graphml", "-o", str(tmp_path / "g.graphml"), "--records", str(EXAMPLE))
    assert code == 0, out
    assert RECORD in (tmp_path / "g.graphml").read_text(encoding="utf-8")
    code, out = run("model", "export-sbml", "-o", str(tmp_path / "m.xml"), "--therapy", "sorafenib", "--records", str(EXAMPLE))
    assert code == 0, out
    assert "strength_circexample_pten_sorafenib" in (tmp_path / "m.xml").read_text(encoding="utf-8")
    code, out = run("graph", "draw", "--cargo", "circEXAMPLE", "-o", str(tmp_path / "g.png"), "--records", str(EXAMPLE))
    assert code == 0, out
    assert (tmp_path / "g.png").stat().st_size > 1000
    base = run("simulate", "--context", "culture", "--therapy", "sorafenib", "--days", "6", "--format", "json")[1]
    mine = run(
        "simulate", "--context", "culture", "--therapy", "sorafenib", "--days", "6", "--format", "json", "--records", str(EXAMPLE)
    )[1]
    assert json.loads(mine)["rows"][-1]["tumour_Mcells"] > json.loads(base)["rows"][-1]["tumour_Mcells"]


def test_build_with_records(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kb.sqlite'}"
    code, out = run("kb", "build", "--db", url, "--records", str(EXAMPLE))
    assert code == 0 and f"{len(load_kb()) + 2} records" in out
    code, out = run("kb", "show", RECORD, "--db", url)
    assert code == 0 and RECORD in out


def test_invalid_records_are_reported_at_load(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(EXAMPLE.read_text(encoding="utf-8").replace("ther:sorafenib", "ther:sorafinib"), encoding="utf-8")
    for args in (["kb", "query"], ["graph", "routes", "--therapy", "sorafenib"], ["simulate", "--days", "1"]):
        code, out = run(*args, "--records", str(bad))
        assert code == 1 and "unknown therapy 'ther:sorafinib'" in out and "bad.yaml" in out
    empty = tmp_path / "empty.yaml"
    empty.write_text("", encoding="utf-8")
    code, out = run("kb", "query", "--records", str(empty))
    assert code == 1 and "holds no records" in out
    code, out = run("kb", "query", "--records", str(tmp_path / "missing.yaml"))
    assert code == 1 and "no such file or folder" in out
    # a shipped id repeated is a duplicate, with the shipped file named
    dup = tmp_path / "dup.yaml"
    dup.write_text((ROOT / "src/exoresist/kb/records/therapies.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    code, out = run("kb", "validate", str(dup))
    assert code == 1 and "duplicate id (first defined in" in out


def test_validate_checks_against_the_shipped_kb_or_standalone(tmp_path: Path) -> None:
    code, out = run("kb", "validate", str(EXAMPLE))
    assert code == 0 and "ok: 2 record(s) in 1 file(s) are valid, checked against the shipped KB" in out
    assert "nothing was written" not in out
    code, out = run("kb", "validate", "--standalone", str(EXAMPLE))
    assert code == 1 and "unknown entity 'PTEN'" in out  # alone it names what it lacks
    code, out = run("kb", "query", "--standalone")
    assert code == 1 and "--standalone needs --records" in out


# --- trials ---------------------------------------------------------------------------------------
def _config(**kw: Any) -> TrialConfig:
    base: dict[str, Any] = {"arms": ("sorafenib",), "patients": 4, "months": 3.0, "seed": 5, "chunk_size": 2}
    base["cohort"] = calibrated_cohort()
    base.update(kw)
    return TrialConfig(**base)


@pytest.fixture(scope="module")
def mine() -> KnowledgeBase:
    return load_kb(extra=[EXAMPLE])


def test_the_run_key_includes_the_records(kb: KnowledgeBase, mine: KnowledgeBase, tmp_path: Path) -> None:
    assert run_key(kb, _config()) != run_key(mine, _config())
    changed = tmp_path / "changed.yaml"
    changed.write_text(EXAMPLE.read_text(encoding="utf-8").replace("evidence_grade: B", "evidence_grade: C"), encoding="utf-8")
    assert run_key(load_kb(extra=[changed]), _config()) != run_key(mine, _config())


def test_workers_get_only_the_added_records(mine: KnowledgeBase) -> None:
    p = kb_payload(mine)
    assert p.base == "shipped" and {d["id"] for d in json.loads(p.records)} == {"ent:circexample", RECORD}
    alone = load_kb([ROOT / "src/exoresist/kb/records/therapies.yaml"])
    assert kb_payload(alone).base == "none"


@pytest.mark.slow
def test_dask_workers_simulate_the_added_records(mine: KnowledgeBase, tmp_path: Path) -> None:
    """The local cluster (separate worker processes) gives what a serial run gives with the user's records."""
    serial = run_trial(mine, _config(), tmp_path / "serial", scheduler="serial", progress=False)
    dask = run_trial(mine, _config(), tmp_path / "dask", scheduler=None, progress=False)
    pd.testing.assert_frame_equal(serial.patients, dask.patients)
    assert serial.meta["run_key"] == dask.meta["run_key"] == run_key(mine, _config())
    assert RECORD in set(serial.attribution["record_id"])
