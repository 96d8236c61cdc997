"""What a reader should know before trusting an arm: drugs whose action in patients rests only on
assumed parameters, and arms built on interventions that are hypothetical in patients."""

from __future__ import annotations

from collections.abc import Sequence

from exoresist.cohort.arms import Arm
from exoresist.kb import KnowledgeBase
from exoresist.kb.models import Intervention
from exoresist.kb.vocab import EvidenceGrade, InterventionKind
from exoresist.model.drugs import DRUGS, DrugModel, all_parameters

NAMED_COMPOUND_KINDS = {InterventionKind.PATHWAY_INHIBITOR}
"""Intervention kinds that are a named drug given to patients (chloroquine with sorafenib); RAB27A/B
knockdown, research antibodies and engineered vesicles have no compound in clinical use."""


def action_parameters(d: DrugModel) -> list[str]:
    """The parameters that set what a drug does to patient tumours (not its PK or dose)."""
    names = [
        d.patient_kmax_param,
        d.growth_inhibition_param,
        d.patient_ec50_param,
        d.antiangiogenic_param,
        d.t_infiltration_param,
    ]
    if d.checkpoint is not None:
        names.append(d.half_effect_param)
    return [n for n in names if n]


def anchored(d: DrugModel) -> bool:
    """True when at least one of the drug's action parameters has a published source, or when the
    drug only blocks a checkpoint: at approved doses the antibody level (atezolizumab's cycle-1 trough
    85 mg/L, parameter-anchors.md) is far above any binding constant in the prior (at most 10 mg/L),
    so the blockade is near-complete whatever its exact value."""
    params = {p.name: p for p in all_parameters()}
    if d.checkpoint is not None and not d.antiangiogenic and d.kmax_param is None:
        return True
    return any(not params[n].source.startswith("assumed") for n in action_parameters(d) if n in params)


def hypothetical(i: Intervention) -> bool:
    return i.evidence_grade is EvidenceGrade.D or i.intervention_kind not in NAMED_COMPOUND_KINDS


def arm_warnings(kb: KnowledgeBase, arms: Sequence[Arm]) -> list[str]:
    """One line per problem, naming the arm."""
    out: list[str] = []
    for arm in arms:
        loose = [DRUGS[t].slug for t in arm.therapies if not anchored(DRUGS[t])]
        if loose:
            out.append(
                f"arm '{arm.label}': the action of {', '.join(loose)} in patients rests on assumed parameters only "
                "(no phase I/II or preclinical figure anchors it); read its numbers as a scenario"
            )
        hyp = [i for i in arm.interventions if hypothetical(kb.get(i))]  # type: ignore[arg-type]
        if hyp:
            out.append(
                f"arm '{arm.label}' is hypothetical: {', '.join(hyp)} has no compound in clinical use or only grade-D evidence"
            )
    return out
