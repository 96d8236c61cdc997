"""Published magnitudes beside the replays: which effect fits a claim, the simulated value, the tolerance."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from exoresist.cli.main import app
from exoresist.experiments import Claim, Outcome, check_magnitude, claims, run_claims
from exoresist.kb import KnowledgeBase, Mechanism

ZFR = "mech:circzfr-stat3-nfkb-cisplatin"

#: A hand-made measured effect: illustrative numbers and a made-up DOI, for the tests only.
FAKE_SOURCE = {"doi": "10.0000/exoresist-test-fixture", "locator": "Fig. 1 (illustrative)"}


def effect(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "readout": "ic50",
        "measure": "fold_change",
        "value": 2.0,
        "unit": "fold",
        "numerator": "with_record",
        "comparison": "IC50 with the cargo over IC50 without it",
        "condition": "HCC cells, cisplatin 48 h, CCK-8 (illustrative)",
        "therapy": "ther:cisplatin",
        "in_vivo": False,
        "how": "stated_in_text",
        "source": FAKE_SOURCE,
    }
    return {**base, **over}


def measured_kb(kb: KnowledgeBase, *effects: dict[str, Any]) -> KnowledgeBase:
    """The shipped KB with the circZFR record carrying ``effects`` as measured effect sizes."""
    rec = kb.get(ZFR)
    data = {**rec.model_dump(mode="json"), "magnitude_status": "measured", "magnitude_note": None, "effect_sizes": list(effects)}
    new = Mechanism.model_validate(data)
    return KnowledgeBase(tuple(new if r.id == ZFR else r for r in kb.records))


def culture_outcome(ic50_on: float, ic50_off: float) -> Outcome:
    claim = Claim(ZFR, "culture_ic50", "ther:cisplatin", "resistance", "circZFR vesicles on HCC cells, then cisplatin")
    return Outcome(claim, 0.01, True, "hand-made", {"ic50_on": ic50_on, "ic50_off": ic50_off})


def test_a_shipped_record_without_a_number_gives_no_published_value(kb: KnowledgeBase) -> None:
    rec = kb.get(ZFR)
    assert isinstance(rec, Mechanism) and rec.magnitude_status == "no_number_stated"
    check = check_magnitude(kb, culture_outcome(2.0, 1.0))
    assert check.status == "no_number_stated"
    assert check.published is None and check.simulated is None and check.within_tolerance is None
    assert check.note == rec.magnitude_note


@pytest.mark.parametrize(
    ("over", "simulated", "within"),
    [
        ({"value": 2.0}, 1.1, True),  # 1.1 / 2.0 = 0.55, inside [0.5, 2]
        ({"value": 3.0}, 1.1, False),  # 1.1 / 3.0 = 0.37
        ({"value": 0.5, "numerator": "without_record"}, 1 / 1.1, True),  # the study's orientation: without / with
        ({"value": 0.2, "numerator": "without_record"}, 1 / 1.1, False),
    ],
)
def test_a_measured_ic50_is_compared_within_a_factor_of_two(
    kb: KnowledgeBase, over: dict[str, Any], simulated: float, within: bool
) -> None:
    check = check_magnitude(measured_kb(kb, effect(**over)), culture_outcome(1.1, 1.0))
    assert check.published is not None
    assert check.published["value"] == over["value"] and check.published["readout"] == "ic50"
    assert check.published["source"] == "doi:10.0000/exoresist-test-fixture, Fig. 1 (illustrative)"
    assert check.simulated == pytest.approx(simulated)
    assert check.within_tolerance is within


def test_an_effect_from_another_setting_or_drug_does_not_fit(kb: KnowledgeBase) -> None:
    measured = measured_kb(kb, effect(readout="xenograft_volume", in_vivo=True, value=1.8))
    check = check_magnitude(measured, culture_outcome(1.1, 1.0))
    assert check.status == "measured" and check.published is None and check.within_tolerance is None
    assert "in culture" in check.note
    claim = Claim(ZFR, "xenograft", "ther:cisplatin", "resistance", "x")
    xeno = Outcome(claim, 0.1, True, "", {"treated_on": 3.0, "treated_off": 2.0})
    check = check_magnitude(measured, xeno)
    assert check.published is not None and check.simulated == pytest.approx(1.5) and check.within_tolerance is True


def test_a_readout_the_replay_does_not_simulate_is_shown_not_judged(kb: KnowledgeBase) -> None:
    apoptosis = effect(readout="apoptosis", measure="percent_points", value=-12.0, unit="percent points", numerator=None)
    measured = measured_kb(kb, apoptosis)
    check = check_magnitude(measured, culture_outcome(1.1, 1.0))
    assert check.published is not None and check.published["readout"] == "apoptosis"
    assert check.simulated is None and check.within_tolerance is None
    assert "does not simulate" in check.note


def test_an_undefined_ic50_is_outside_tolerance(kb: KnowledgeBase) -> None:
    check = check_magnitude(measured_kb(kb, effect()), culture_outcome(float("nan"), 1.0))
    assert check.published is not None and check.simulated is None and check.within_tolerance is False


def test_a_replayed_claim_reads_its_ic50_ratio(kb: KnowledgeBase) -> None:
    """End to end on the model: the simulated value is the replay's own IC50 ratio."""
    measured = measured_kb(kb, effect(value=1.2))
    (claim,) = [c for c in claims(measured) if c.record_id == ZFR and c.protocol == "culture_ic50"]
    (outcome,) = run_claims(measured, [claim])
    check = check_magnitude(measured, outcome)
    ratio = outcome.values["ic50_on"] / outcome.values["ic50_off"]
    assert check.simulated == pytest.approx(ratio)
    assert check.within_tolerance is (0.5 <= ratio / 1.2 <= 2.0)


RECORDS = """\
- kind: entity
  id: ent:circtestmag
  name: circTESTMAG
  entity_type: circRNA

- kind: mechanism
  id: mech:circtestmag-pten-cisplatin
  title: Illustrative - exosomal circTESTMAG lowers PTEN and blunts cisplatin kill
  review_sections: [targeted_therapy]
  donor_cells: [hcc_cell]
  cargo: circTESTMAG
  recipient_cells: [hcc_cell]
  axis:
    - {source: circTESTMAG, relation: inhibits, target: PTEN}
  phenotypes: [apoptosis_evasion]
  therapies:
    - {therapy: ther:cisplatin, direction: promotes_resistance}
  process: reduce_drug_kill
  evidence:
    - kinds: [in_vitro]
      finding: Illustrative only - a made-up study for the magnitude test fixture.
  evidence_grade: B
  magnitude_status: measured
  effect_sizes:
    - readout: ic50
      measure: fold_change
      value: 1.5
      unit: fold
      numerator: with_record
      comparison: IC50 of cells given circTESTMAG vesicles over control vesicles
      condition: HCC cells, cisplatin 72 h (illustrative)
      therapy: ther:cisplatin
      in_vivo: false
      how: stated_in_text
      source: {doi: 10.0000/exoresist-test-fixture, locator: Fig. 2 (illustrative)}
"""


def test_cli_json_gives_published_simulated_and_tolerance(tmp_path: Path) -> None:
    path = tmp_path / "records.yaml"
    path.write_text(RECORDS, encoding="utf-8")
    args = ["experiments", "run", "--records", str(path), "--record", "mech:circtestmag-pten-cisplatin", "--format", "json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    (row,) = data["claims"]
    assert row["published"]["value"] == 1.5 and row["published"]["unit"] == "fold"
    assert row["published"]["source"] == "doi:10.0000/exoresist-test-fixture, Fig. 2 (illustrative)"
    assert isinstance(row["simulated"], float) and isinstance(row["within_tolerance"], bool)
    assert row["within_tolerance"] is (0.5 <= row["simulated"] / 1.5 <= 2.0)
    assert data["published"] == 1 and data["tolerance"].startswith("within a factor of 2")
    table = CliRunner().invoke(app, args[:-2], env={"COLUMNS": "250"})
    assert table.exit_code == 0 and "published" in table.stdout and "1.5 fold (ic50)" in table.stdout
