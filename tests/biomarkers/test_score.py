"""``biomarker score``: a user's CSV, every bad input named by row and column, the KB-derived score."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from exoresist.biomarkers import BiomarkerError
from exoresist.biomarkers.score import MAX_TABLE_BYTES, score_table
from exoresist.cli.main import app
from exoresist.kb import KnowledgeBase

GOOD = """patient_id,hsa-miR-4669 [copies/uL],pIgR [pg/mL],miR-122,os_month,death,response
P1,120,3.5,2.0,10.2,1,PD
P2,15,1.2,8.0,20.0,0,PR
P3,300,6.0,1.0,4.1,1,SD
P4,40,0.0,4.0,15.5,0,CR
"""


def _write(tmp_path: Path, text: str, name: str = "cohort.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_good_table_scores_with_drivers(kb: KnowledgeBase, tmp_path: Path) -> None:
    res = score_table(kb, _write(tmp_path, GOOD), outcome_columns=["os_month", "death", "response"], bootstrap=10)
    assert res.patients == ["P1", "P2", "P3", "P4"]
    mapping = {c.header: (c.cargo, c.scale) for c in res.columns}
    assert mapping["hsa-miR-4669 [copies/uL]"] == ("miR-4669", "linear")
    assert any("zero value" in n for n in res.notes)  # pIgR 0.0 on a linear scale is stated
    w = {(x["therapy"], x["cargo"]): x["weight"] for x in res.weights}
    assert w[("sorafenib", "miR-4669")] > 0  # promotes sorafenib resistance (grade B)
    sensitising = [v for (t, c), v in w.items() if c == "miR-122"]
    assert sensitising and all(v < 0 for v in sensitising)  # miR-122 records sensitise
    s = res.scores[res.scores["therapy"] == "sorafenib"].set_index("patient")["score"]
    assert s["P3"] > s["P2"]  # P3: high miR-4669 and pIgR, low miR-122 -> more resistance
    sor = res.scores[res.scores["therapy"] == "sorafenib"].set_index("patient")
    assert "miR-4669" in sor.loc["P3", "drivers"]
    assert res.metrics and {"marker", "c_index", "auc_t"} <= set(res.metrics[0])


def test_a_cargo_that_goes_with_outcome_is_found(kb: KnowledgeBase, tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal(150)
    t = rng.exponential(10 * np.exp(-x))
    frame = pd.DataFrame(
        {"patient_id": [f"p{i}" for i in range(150)], "pIgR": 10 ** (2 + x), "t": np.minimum(t, 24), "e": (t < 24).astype(int)}
    )
    frame.to_csv(tmp_path / "c.csv", index=False)
    res = score_table(kb, tmp_path / "c.csv", outcome_columns=["t", "e"], bootstrap=10)
    (pigr,) = [m for m in res.metrics if m["marker"] == "pIgR"]
    assert pigr["c_index"]["estimate"] > 0.65


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (GOOD.replace("patient_id", "id"), "no patient id column 'patient_id'"),
        (GOOD.replace("P2,", "P1,"), "row 2 (line 3), column 'patient_id': patient id 'P1' appears more than once"),
        (
            GOOD.replace("P3,300,", "P3,lots,"),
            "row 3 (line 4), patient 'P3', column 'hsa-miR-4669 [copies/uL]': 'lots' is not a number",
        ),
        (GOOD.replace("P2,15,", "P2,-15,"), "row 2 (line 3), patient 'P2', column 'hsa-miR-4669 [copies/uL]': -15.0 is negative"),
        (GOOD.replace("20.0,0,PR", "20.0,2,PR"), "column 'death': '2' is not one of the allowed values"),
        (GOOD.replace("P4,40", ",40"), "row 4 (line 5), column 'patient_id': the patient id is empty"),
        (GOOD.replace("miR-122", "miR-99z"), "column 'miR-99z': unknown entity"),
        ("patient_id,pIgR\n", "has a header but no patient rows"),
        ("", "is empty"),
    ],
)
def test_bad_input_is_named_by_row_and_column(kb: KnowledgeBase, tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(BiomarkerError) as err:
        score_table(kb, path, outcome_columns=["os_month", "death", "response"] if "os_month" in text else [])
    assert message in str(err.value)


def test_a_2_gb_file_is_refused_before_reading(kb: KnowledgeBase, tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    with path.open("wb") as f:  # sparse: no disk space used
        f.truncate(2 * 1024**3)
    assert path.stat().st_size > MAX_TABLE_BYTES
    with pytest.raises(BiomarkerError, match=r"is 2\.0 GB; the limit is 100 MB"):
        score_table(kb, path)


def test_cli_errors_are_one_clear_message_and_nothing_is_printed_to_stdout(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD.replace("P2,", "P1,"))
    args = ["biomarker", "score", "--table", str(path), "--outcome-columns", "os_month,death,response", "--format", "csv"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    assert "appears more than once" in result.output and "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cohort.csv"]  # nothing written


def test_cli_csv_output(tmp_path: Path) -> None:
    args = ["biomarker", "score", "--table", str(_write(tmp_path, GOOD)), "--outcome-columns", "os_month,death,response"]
    result = CliRunner().invoke(app, [*args, "--format", "csv", "--therapy", "sorafenib", "--bootstrap", "5"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "patient,therapy,score,n_cargos,drivers" and len(lines) == 5


def test_every_problem_is_listed_even_in_a_column_that_fails_twice(kb: KnowledgeBase, tmp_path: Path) -> None:
    path = _write(tmp_path, "patient_id,pIgR [pg/mL]\nP1,12\nP2,abc\nP3,-5\n")
    with pytest.raises(BiomarkerError) as err:
        score_table(kb, path)
    text = str(err.value)
    assert text.startswith("2 problem(s)")
    assert "row 2 (line 3), patient 'P2', column 'pIgR [pg/mL]': 'abc' is not a number" in text
    assert "row 3 (line 4), patient 'P3', column 'pIgR [pg/mL]': -5.0 is negative" in text
