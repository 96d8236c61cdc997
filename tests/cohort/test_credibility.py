"""Warnings on arms a reader should not trust as a prediction."""

from __future__ import annotations

from exoresist.cohort.arms import parse_arm
from exoresist.cohort.credibility import action_parameters, arm_warnings, hypothetical
from exoresist.kb import KnowledgeBase
from exoresist.kb.models import Intervention
from exoresist.model.drugs import DRUGS, all_parameters


def _warnings(kb: KnowledgeBase, *arms: str) -> list[str]:
    return arm_warnings(kb, [parse_arm(kb, a) for a in arms])


def test_sorafenib_alone_gives_no_warning(kb: KnowledgeBase) -> None:
    assert _warnings(kb, "sorafenib") == []
    assert _warnings(kb, "placebo") == []
    assert _warnings(kb, "atezolizumab") == []  # checkpoint blockade only: near-complete at approved doses


def test_an_unanchored_drug_is_named(kb: KnowledgeBase) -> None:
    (line,) = _warnings(kb, "lenvatinib")
    assert line.startswith("arm 'lenvatinib':") and "lenvatinib in patients rests on assumed parameters only" in line
    params = {p.name: p for p in all_parameters()}
    assert all(params[n].source.startswith("assumed") for n in action_parameters(DRUGS["ther:lenvatinib"]) if n in params)
    (combo,) = _warnings(kb, "atezolizumab+bevacizumab")
    assert "bevacizumab" in combo and "atezolizumab," not in combo


def test_a_hypothetical_intervention_is_named(kb: KnowledgeBase) -> None:
    lines = _warnings(kb, "sorafenib+secretion-blockade")
    assert lines == [
        "arm 'sorafenib+secretion-blockade' is hypothetical: int:rab27a-knockdown has no compound in clinical use "
        "or only grade-D evidence"
    ]
    # chloroquine with sorafenib is a named drug given to patients (grade C): no warning
    assert _warnings(kb, "sorafenib+int:chloroquine-sorafenib") == []


def test_one_line_per_problem_and_arm(kb: KnowledgeBase) -> None:
    lines = _warnings(kb, "sorafenib", "lenvatinib+anti-pIgR", "regorafenib")
    assert len(lines) == 3 and all("\n" not in line for line in lines)
    assert [line.split("'")[1] for line in lines] == ["lenvatinib+anti-pIgR", "lenvatinib+anti-pIgR", "regorafenib"]


def test_grade_d_evidence_is_hypothetical(kb: KnowledgeBase) -> None:
    interventions = [r for r in kb.records if isinstance(r, Intervention)]
    assert interventions
    for i in interventions:
        if i.evidence_grade.value == "D":
            assert hypothetical(i), i.id
