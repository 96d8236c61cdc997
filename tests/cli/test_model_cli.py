"""`exoresist simulate`, `exoresist model ...` and `exoresist experiments run` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from exoresist.cli.main import app

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_simulate_json_culture() -> None:
    code, out, err = run(
        "simulate", "--context", "culture", "--therapy", "sorafenib", "--days", "3", "--every", "1", "--format", "json"
    )
    assert code == 0, err
    data = json.loads(out)
    rows = data["rows"]
    assert [r["day"] for r in rows] == [0.0, 1.0, 2.0, 3.0]
    assert {"tumour_Mcells", "S", "R_total", "C", "tumour_volume_mm3", "tumour_diameter_mm", "conc_sorafenib"} <= set(rows[0])
    for r in rows:
        assert abs(r["S"] + r["R_total"] + r["C"] - r["tumour_Mcells"]) < 1e-9 * r["tumour_Mcells"]


def test_simulate_csv_and_table() -> None:
    code, out, _ = run("simulate", "--context", "culture", "--days", "2", "--every", "1", "--format", "csv")
    assert code == 0 and out.splitlines()[0].startswith("day,tumour_Mcells")
    code, out, _ = run("simulate", "--context", "culture", "--days", "1", "--every", "1")
    assert code == 0 and "exoresist-culture" in out


def test_simulate_bad_input() -> None:
    code, _, err = run("simulate", "--context", "culture", "--therapy", "sorafinib", "--days", "2")
    assert code == 1 and "unknown therapy 'sorafinib'" in err
    code, _, err = run("simulate", "--context", "culture", "--days", "2", "--param", "k_growth_culture_per_dy=0.3")
    assert code == 1 and "did you mean 'k_growth_culture_per_day'" in err
    code, _, err = run("simulate", "--context", "culture", "--days", "2", "--param", "k_growth_culture_per_day=fast")
    assert code == 1 and "not a number" in err
    code, _, err = run("simulate", "--context", "culture", "--days", "2", "--knockout", "mech:nope")
    assert code == 1 and "mech:nope" in err
    code, _, err = run("simulate", "--context", "culture", "--therapy", "camptothecin", "--days", "2")
    assert code == 1 and "no pharmacological model" in err


def test_model_show_lists_records() -> None:
    code, out, _ = run("model", "show", "--therapy", "sorafenib", "--format", "json")
    assert code == 0
    data = json.loads(out)
    records = {r for p in data["processes"] for r in p["records"]}
    assert "mech:circrna-sore-ybx1-sorafenib" in records and "ther:sorafenib" in records
    assert all({"name", "default", "low", "high", "unit", "source"} <= set(p) for p in data["parameters"])


def test_export_sbml_is_consistent(tmp_path: Path) -> None:
    import libsbml

    target = tmp_path / "model.xml"
    code, _, err = run("model", "export-sbml", "--therapy", "atezolizumab+bevacizumab", "--days", "63", "-o", str(target))
    assert code == 0, err
    doc = libsbml.readSBMLFromFile(str(target))
    assert doc.getNumErrors(libsbml.LIBSBML_SEV_ERROR) == 0
    doc.checkConsistency()
    assert doc.getNumErrors(libsbml.LIBSBML_SEV_ERROR) == 0
    assert doc.getModel().getNumEvents() > 0


def test_parameters_doc_is_current() -> None:
    doc = Path(__file__).resolve().parents[2] / "docs" / "parameters.md"
    code, out, _ = run("model", "parameters")
    assert code == 0 and out == doc.read_text(encoding="utf-8")


def test_experiments_run_subset() -> None:
    code, out, err = run("experiments", "run", "--record", "mech:mir494-3p-huvec-angiogenesis", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["total"] == 1 and data["passed"] == 1
    code, _, err = run("experiments", "run", "--record", "mech:nope")
    assert code == 1 and "unknown record id" in err
