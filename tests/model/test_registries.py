"""Contracts of the assembler's registries and of reachability: forgetting a builder, a drug model or
a route fails here, and a record acts exactly where the KB claims it."""

from __future__ import annotations

import typing

from exoresist.kb import KnowledgeBase
from exoresist.kb.vocab import ModelProcess
from exoresist.model.assemble import (
    DRIVE_READERS,
    INTERVENTION_EFFECTS,
    MECHANISM_EFFECTS,
    ROUTE_BUILDERS,
    Scenario,
    acting_records,
    assemble,
    candidate_mechanisms,
    expand_therapy_refs,
    rate_dependencies,
)
from exoresist.model.drugs import DRUGS, NOT_MODELLED, PK
from exoresist.model.spec import Assignment, ModelSpec, Parameter, Reaction, Species


def test_every_process_has_a_builder() -> None:
    assert set(MECHANISM_EFFECTS) == set(ModelProcess)


def test_every_intervention_process_in_the_kb_has_a_builder(kb: KnowledgeBase) -> None:
    assert {i.process for i in kb.interventions} <= set(INTERVENTION_EFFECTS)


def test_every_route_has_a_builder() -> None:
    assert set(ROUTE_BUILDERS) == set(typing.get_args(PK))


def test_drug_models_and_kb_therapies_match(kb: KnowledgeBase) -> None:
    drugs = {t.id for t in kb.therapies if not t.components}
    assert set(DRUGS) <= drugs, "a drug model has no KB therapy record"
    assert set(NOT_MODELLED) <= drugs
    missing = drugs - set(DRUGS) - set(NOT_MODELLED)
    assert not missing, f"KB drugs neither modelled nor listed in NOT_MODELLED: {sorted(missing)}"
    for drug_id, d in DRUGS.items():
        assert d.therapy_id == drug_id


def _claimed_drugs(kb: KnowledgeBase, record_therapies: list[str]) -> list[str]:
    return sorted(expand_therapy_refs(kb, record_therapies) & set(DRUGS))


def _claimed_scenarios(kb: KnowledgeBase) -> list[tuple[str, Scenario]]:
    out = []
    for m in candidate_mechanisms(kb, include_hypotheses=True):
        drugs = _claimed_drugs(kb, [t.therapy for t in m.therapies])
        if not m.therapies:
            out.append((m.id, Scenario("patient", (), days=30.0, include_hypotheses=True)))
        for d in drugs:
            out.append((m.id, Scenario("patient", (d,), days=30.0, include_hypotheses=True)))
    return out


def test_every_record_acts_in_every_scenario_it_is_claimed_for(kb: KnowledgeBase) -> None:
    """A record with a process reaches a reaction rate in the patient model of each therapy it names
    (and, naming none, in the untreated patient): a process whose term feeds nothing fails here."""
    failures = []
    for rid, scenario in _claimed_scenarios(kb):
        if rid not in acting_records(assemble(kb, scenario)):
            failures.append(f"{rid} in {scenario.therapies or 'untreated'}")
    assert not failures, failures


def test_no_record_acts_for_a_therapy_it_does_not_name(kb: KnowledgeBase) -> None:
    """The lenvatinib, cisplatin and everolimus transfer records act in no sorafenib model; only
    records naming sorafenib (or a class or regimen containing it) or naming no therapy act there."""
    spec = assemble(kb, Scenario("patient", ("ther:sorafenib",), days=30.0, include_hypotheses=True))
    acting = set(acting_records(spec))
    for rid in ("mech:circpak1-yap-lenvatinib", "mech:cddp-resistant-hepg2-exo-pgp", "mech:eve-resistant-exo-mtor-emt"):
        assert rid not in acting
    for rid in acting:
        m = kb.get(rid)
        named = [t.therapy for t in getattr(m, "therapies", [])]
        assert not named or "ther:sorafenib" in expand_therapy_refs(kb, named), rid


def test_drives_exist_only_for_processes_some_rate_reads(kb: KnowledgeBase) -> None:
    spec = assemble(kb, Scenario("patient", ("atezolizumab+bevacizumab",), days=30.0))
    drives = {a.name for a in spec.assignments if a.name.startswith("drive_") and a.name != "drive_caf_stemness"}
    assert drives == {f"drive_{p.value}" for p in DRIVE_READERS}
    needed = rate_dependencies(spec)
    for name in drives:
        assert name in needed, f"{name} is read by no rate"


def test_reachability_follows_derived_quantities() -> None:
    """Hand-made spec: strength_a reaches a rate through two assignments, strength_b only an
    assignment that no rate reads."""
    p = [
        Parameter("strength_a", 1.0, 0.1, 10.0, "1", "assumed", "a", ("mech:a",)),
        Parameter("strength_b", 1.0, 0.1, 10.0, "1", "assumed", "b", ("mech:b",)),
        Parameter("k", 0.1, 0.01, 1.0, "1/day", "assumed", "rate"),
    ]
    spec = ModelSpec(
        "hand",
        "0",
        "culture",
        (Species("X", "1", "1", "x"),),
        tuple(p),
        (
            Assignment("u", "strength_a * 2", "1", ""),
            Assignment("v", "u + 1", "1", ""),
            Assignment("dead", "strength_b * X", "1", ""),
        ),
        (Reaction("grow", "k * v * X", (), (("X", 1.0),), ""),),
    )
    assert acting_records(spec) == ("mech:a",)
    assert "dead" not in rate_dependencies(spec)


def test_cd8_exhaustion_does_not_act_in_a_nude_mouse(kb: KnowledgeBase) -> None:
    spec = assemble(kb, Scenario("mouse", (), days=10.0))
    assert "mech:hcc-exo-14-3-3-zeta-til" not in acting_records(spec)
    assert "mech:hcc-exo-14-3-3-zeta-til" in acting_records(assemble(kb, Scenario("patient", (), days=10.0)))
