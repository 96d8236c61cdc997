"""The loader rejects every kind of bad input with the file, record, field and a suggestion."""

from __future__ import annotations

from pathlib import Path

import pytest

from exoresist.kb import KBValidationError, load_kb
from tests.conftest import MINI_MECHANISMS, MINI_THERAPIES, write_mini


def _issues(folder: Path) -> list[str]:
    with pytest.raises(KBValidationError) as info:
        load_kb([folder])
    return [str(i) for i in info.value.issues]


def test_mini_kb_loads(mini_dir: Path) -> None:
    kb = load_kb([mini_dir])
    assert {r.id for r in kb.records} == {"ent:circx", "ent:mir-1", "ent:pten", "ther:sorafenib", "mech:circx-pten"}
    assert kb.entity("circrna-x").id == "ent:circx"
    assert [m.id for m in kb.query(therapy="Nexavar")] == ["mech:circx-pten"]


def test_malformed_yaml_names_file_and_line(tmp_path: Path) -> None:
    write_mini(tmp_path, mechanisms_yaml="- kind: mechanism\n  id: [unclosed\n")
    (issue,) = _issues(tmp_path)
    assert "mechanisms.yaml" in issue and "malformed YAML" in issue and "line" in issue


def test_top_level_must_be_a_list(tmp_path: Path) -> None:
    write_mini(tmp_path, mechanisms_yaml="kind: mechanism\n")
    (issue,) = _issues(tmp_path)
    assert "top level must be a list" in issue


def test_missing_required_field(tmp_path: Path) -> None:
    write_mini(tmp_path, mechanisms_yaml=MINI_MECHANISMS.replace("  cargo: circX\n", ""))
    (issue,) = _issues(tmp_path)
    assert "mechanisms.yaml [mech:circx-pten] cargo: missing required field" in issue


def test_unknown_vocabulary_term_suggests(tmp_path: Path) -> None:
    write_mini(tmp_path, mechanisms_yaml=MINI_MECHANISMS.replace("[apoptosis_evasion]", "[apoptosis_evason]"))
    (issue,) = _issues(tmp_path)
    assert "phenotypes.0" in issue and "unknown term 'apoptosis_evason'" in issue
    assert "did you mean 'apoptosis_evasion'" in issue


def test_unknown_therapy_suggests(tmp_path: Path) -> None:
    write_mini(tmp_path, mechanisms_yaml=MINI_MECHANISMS.replace("ther:sorafenib", "ther:sorafinib"))
    (issue,) = _issues(tmp_path)
    assert "therapies.0.therapy: unknown therapy 'ther:sorafinib'" in issue
    assert "did you mean 'ther:sorafenib'" in issue


def test_duplicate_id(tmp_path: Path) -> None:
    write_mini(tmp_path, therapies_yaml=MINI_THERAPIES + MINI_THERAPIES.replace("Nexavar", "Nexavar2"))
    issues = _issues(tmp_path)
    assert any("[ther:sorafenib] id: duplicate id" in i for i in issues)


def test_reference_to_missing_record(tmp_path: Path) -> None:
    extra = (
        "- kind: intervention\n  id: int:x\n  name: x blocker\n  intervention_kind: neutralising_antibody\n"
        "  blocks: [mech:circx-ptne]\n  process: neutralise_cargo\n  review_sections: [interventions]\n  evidence_grade: D\n"
    )
    write_mini(tmp_path)
    (tmp_path / "interventions.yaml").write_text(extra, encoding="utf-8")
    (issue,) = _issues(tmp_path)
    assert "blocks.0: reference to a record that does not exist: 'mech:circx-ptne'" in issue
    assert "did you mean 'mech:circx-pten'" in issue


def test_unknown_entity_in_axis(tmp_path: Path) -> None:
    write_mini(tmp_path, mechanisms_yaml=MINI_MECHANISMS.replace("target: PTEN", "target: PTNE"))
    (issue,) = _issues(tmp_path)
    assert "axis.1.target: unknown entity 'PTNE'" in issue and "did you mean 'PTEN'" in issue


def test_identifier_pattern(tmp_path: Path) -> None:
    bad = MINI_MECHANISMS.replace("      finding:", "      pmid: PMID12345\n      finding:")
    write_mini(tmp_path, mechanisms_yaml=bad)
    (issue,) = _issues(tmp_path)
    assert "evidence.0.pmid" in issue and "does not match the pattern" in issue


def test_grade_cannot_exceed_evidence(tmp_path: Path) -> None:
    write_mini(tmp_path, mechanisms_yaml=MINI_MECHANISMS.replace("evidence_grade: B", "evidence_grade: A"))
    (issue,) = _issues(tmp_path)
    assert "evidence_grade A needs in_vitro and in_vivo" in issue


def test_axis_must_start_at_cargo(tmp_path: Path) -> None:
    write_mini(tmp_path, mechanisms_yaml=MINI_MECHANISMS.replace("    - source: circX\n", "    - source: PTEN\n"))
    issues = _issues(tmp_path)
    assert any("axis step 1 starts at 'PTEN'" in i for i in issues)


def test_unknown_field_and_kind(tmp_path: Path) -> None:
    write_mini(tmp_path, mechanisms_yaml=MINI_MECHANISMS.replace("  process:", "  proces: x\n  process:"))
    (tmp_path / "more.yaml").write_text("- kind: mechansim\n  id: mech:y\n", encoding="utf-8")
    issues = _issues(tmp_path)
    assert any("proces: unknown field" in i for i in issues)
    assert any("unknown kind 'mechansim'" in i and "did you mean 'mechanism'" in i for i in issues)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    broken = MINI_MECHANISMS.replace("[apoptosis_evasion]", "[nope]").replace("ther:sorafenib", "ther:nope")
    write_mini(tmp_path, mechanisms_yaml=broken)
    # a shape error does not hide the record's reference errors: both are reported in one pass
    issues = _issues(tmp_path)
    assert len(issues) == 2
    assert any("phenotypes.0: unknown term 'nope'" in i for i in issues)
    assert any("therapies.0.therapy: unknown therapy 'ther:nope'" in i for i in issues)
    (tmp_path / "x.yaml").write_text("oops: [\n", encoding="utf-8")
    assert len(_issues(tmp_path)) == 3


def test_a_grade_rule_does_not_hide_unknown_therapy_and_cargo(tmp_path: Path) -> None:
    # the issue's case: an evidence-grade rule used to be the only error until it was fixed
    broken = (
        MINI_MECHANISMS.replace("evidence_grade: B", "evidence_grade: A")
        .replace("ther:sorafenib", "ther:sorafenid")
        .replace("  cargo: circX\n", "  cargo: circZ\n")
    )
    write_mini(tmp_path, mechanisms_yaml=broken)
    issues = _issues(tmp_path)
    assert any("evidence_grade A needs in_vitro and in_vivo" in i for i in issues)
    assert any("therapies.0.therapy: unknown therapy 'ther:sorafenid'" in i and "ther:sorafenib" in i for i in issues)
    assert any("cargo: unknown entity 'circZ'" in i for i in issues)


def test_an_invalid_entity_still_defines_its_name(tmp_path: Path) -> None:
    # an entity that fails validation is reported once; records naming it get no knock-on error
    from tests.conftest import MINI_ENTITIES

    write_mini(tmp_path, entities_yaml=MINI_ENTITIES.replace("name: PTEN", "name: PTEN\n  colour: blue"))
    issues = _issues(tmp_path)
    assert len(issues) == 1 and "colour: unknown field" in issues[0]


def test_an_empty_record_file_is_an_error(tmp_path: Path) -> None:
    write_mini(tmp_path)
    (tmp_path / "empty.yaml").write_text("# nothing yet\n", encoding="utf-8")
    (issue,) = _issues(tmp_path)
    assert "empty.yaml" in issue and "holds no records" in issue


def test_missing_path(tmp_path: Path) -> None:
    (issue,) = _issues(tmp_path / "nope")
    assert "no such file or folder" in issue
