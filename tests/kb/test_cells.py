"""Where a record's steps and phenotypes happen: ``AxisStep.cell`` and ``Mechanism.outcomes``."""

from __future__ import annotations

from pathlib import Path

import pytest

from exoresist.kb import KBValidationError, KnowledgeBase, Mechanism, load_kb
from exoresist.kb.vocab import CellType, Phenotype
from tests.conftest import MINI_MECHANISMS, write_mini

HCC, CD8, MAC = CellType.HCC_CELL, CellType.CD8_T_CELL, CellType.MACROPHAGE


def _issues(folder: Path) -> list[str]:
    with pytest.raises(KBValidationError) as info:
        load_kb([folder])
    return [str(i) for i in info.value.issues]


def _with(tmp_path: Path, old: str, new: str) -> Path:
    assert old in MINI_MECHANISMS
    return write_mini(tmp_path, mechanisms_yaml=MINI_MECHANISMS.replace(old, new))


def test_steps_default_to_the_recipient_and_follow_their_source(mini_dir: Path) -> None:
    (m,) = load_kb([mini_dir]).mechanisms
    assert m.step_cells() == [(HCC,), (HCC,)]
    assert m.placed_outcomes() == [("PTEN", HCC, HCC, Phenotype.APOPTOSIS_EVASION)]


def test_a_step_may_be_placed_in_a_donor(tmp_path: Path) -> None:
    mech = MINI_MECHANISMS.replace("  recipient_cells: [hcc_cell]\n", "  recipient_cells: [cd8_t_cell]\n")
    mech = mech.replace("      target: miR-1-3p\n", "      target: miR-1-3p\n      cell: hcc_cell\n")
    (m,) = load_kb([write_mini(tmp_path, mechanisms_yaml=mech)]).mechanisms
    # the second step has no cell: it happens where its source was reached
    assert m.step_cells() == [(HCC,), (HCC,)]


def test_a_step_in_a_cell_the_record_does_not_name_is_rejected(tmp_path: Path) -> None:
    folder = _with(tmp_path, "      target: miR-1-3p\n", "      target: miR-1-3p\n      cell: nk_cell\n")
    (issue,) = _issues(folder)
    assert "axis step 1 is placed in 'nk_cell', which is neither a donor nor a recipient" in issue


def test_a_step_where_its_source_is_not_reached_is_rejected(tmp_path: Path) -> None:
    mech = MINI_MECHANISMS.replace("  recipient_cells: [hcc_cell]\n", "  recipient_cells: [hcc_cell, cd8_t_cell]\n")
    mech = mech.replace("      target: miR-1-3p\n", "      target: miR-1-3p\n      cell: hcc_cell\n")
    mech = mech.replace("      target: PTEN\n", "      target: PTEN\n      cell: cd8_t_cell\n")
    (issue,) = _issues(write_mini(tmp_path, mechanisms_yaml=mech))
    assert "axis step 2 is placed in 'cd8_t_cell', but its source 'miR-1-3p' is not reached there" in issue


def test_an_unplaced_step_of_a_record_with_two_recipients_happens_in_both(tmp_path: Path) -> None:
    folder = _with(tmp_path, "  recipient_cells: [hcc_cell]\n", "  recipient_cells: [hcc_cell, cd8_t_cell]\n")
    (m,) = load_kb([folder]).mechanisms
    assert m.step_cells() == [(HCC, CD8), (HCC, CD8)]
    assert {(c, p) for _, c, p, _ in m.placed_outcomes()} == {(HCC, HCC), (CD8, CD8)}


OUTCOMES = "  outcomes:\n    - phenotypes: [apoptosis_evasion]\n      after: [miR-1-3p]\n      cell: macrophage\n"


def test_outcomes_place_phenotypes_after_a_node_and_in_another_cell(tmp_path: Path) -> None:
    folder = _with(tmp_path, "  therapies:\n", OUTCOMES + "  therapies:\n")
    (m,) = load_kb([folder]).mechanisms
    assert m.placed_outcomes() == [("miR-1-3p", HCC, MAC, Phenotype.APOPTOSIS_EVASION)]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("[apoptosis_evasion]\n      after", "[stemness]\n      after", "names phenotype 'stemness', which is not among"),
        ("after: [miR-1-3p]", "after: [miR-2]", "arises after 'miR-2', which is neither the cargo nor an axis node"),
    ],
)
def test_outcomes_name_the_records_own_phenotypes_and_nodes(tmp_path: Path, old: str, new: str, message: str) -> None:
    folder = _with(tmp_path, "  therapies:\n", OUTCOMES.replace(old, new) + "  therapies:\n")
    assert any(message in i for i in _issues(folder))


def test_outcomes_cover_every_phenotype(tmp_path: Path) -> None:
    mech = MINI_MECHANISMS.replace("[apoptosis_evasion]", "[apoptosis_evasion, stemness]")
    mech = mech.replace("  therapies:\n", OUTCOMES + "  therapies:\n")
    (issue,) = _issues(write_mini(tmp_path, mechanisms_yaml=mech))
    assert "outcomes place no step for the phenotype(s) stemness" in issue


def test_curated_cells_of_the_shipped_records(kb: KnowledgeBase) -> None:
    ccar1, tmem = kb.get("mech:circccar1-pdl1-pd1-cd8"), kb.get("mech:circtmem181-cd39-adenosine")
    assert isinstance(ccar1, Mechanism) and isinstance(tmem, Mechanism)
    # in HCC cells circCCAR1 binds beta-catenin and raises PD-L1; taken up by CD8 T cells it stabilises PD-1
    assert ccar1.step_cells() == [(HCC,), (HCC,), (CD8,)]
    assert set(ccar1.placed_outcomes()) == {
        ("PD-L1", HCC, HCC, Phenotype.CHECKPOINT_UPREGULATION),
        ("PD-1", CD8, CD8, Phenotype.CD8_DYSFUNCTION),
    }
    assert tmem.placed_outcomes() == [("adenosine", MAC, CD8, Phenotype.CD8_DYSFUNCTION)]
