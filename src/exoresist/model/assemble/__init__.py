"""Assemble a :class:`~exoresist.model.spec.ModelSpec` from the knowledge base.

Each KB mechanism with a model ``process`` contributes terms: a cargo pool its donors secrete
(:mod:`.pools`), and an effect of that pool on one process (:mod:`.effects`: drug kill, resistance
transfer, stemness, CAF activation, M2 polarisation, CD8 exhaustion, NK suppression, Breg
expansion, PD-L1, checkpoint decoy, angiogenesis, radiation bystander, sensitisation). Therapies
add their pharmacokinetics by route (:mod:`.pk`) and their pharmacodynamics from the fields of
their :class:`~exoresist.model.drugs.DrugModel`; interventions add switches (:mod:`.interventions`).
The tumour, stroma and immune rates are in :mod:`.tumour`. Every term lists the record ids it came
from; ``Scenario.knockouts`` leaves out exactly the terms of those records.

After assembly, :func:`acting_records` says which records' strengths reach a rate in the
scenario: attribution, sensitivity analysis and knockouts use only those.

How to extend it (a test fails when a step is forgotten) is in ``docs/model.md``.
"""

from __future__ import annotations

from collections import OrderedDict

from exoresist.kb import KnowledgeBase
from exoresist.model.assemble._builder import EPS, STRENGTH_PRIOR, Builder, Pool
from exoresist.model.assemble.effects import (
    DRIVE_READERS,
    INTERVENTION_EFFECTS,
    MECHANISM_EFFECTS,
    add_intervention_terms,
    add_mechanism_terms,
    build_modulations,
)
from exoresist.model.assemble.interventions import build_experiment_doses, build_interventions
from exoresist.model.assemble.pk import ROUTE_BUILDERS, build_drugs
from exoresist.model.assemble.pools import build_pool_effects, build_pools
from exoresist.model.assemble.populations import INITIAL_STATE_PARAMETERS, build_populations
from exoresist.model.assemble.reachability import acting_records, rate_dependencies
from exoresist.model.assemble.scenario import (
    CONTEXTS,
    MODEL_VERSION,
    AssemblyError,
    Context,
    Scenario,
    active_mechanisms,
    apply_param,
    candidate_mechanisms,
    expand_therapy_refs,
    knockout_ids,
    pool_name,
    record_pool,
    resolve_interventions,
    resolve_therapies,
    secreting_mechanisms,
    slug,
    strength_param,
    switch_name,
)
from exoresist.model.assemble.tumour import build_dynamics, build_tumour_state
from exoresist.model.drugs import DRUGS, all_parameters
from exoresist.model.spec import ModelSpec, expression_names

__all__ = [
    "CONTEXTS",
    "DRIVE_READERS",
    "EPS",
    "INITIAL_STATE_PARAMETERS",
    "INTERVENTION_EFFECTS",
    "MECHANISM_EFFECTS",
    "MODEL_VERSION",
    "ROUTE_BUILDERS",
    "STRENGTH_PRIOR",
    "AssemblyError",
    "Context",
    "Pool",
    "Scenario",
    "acting_records",
    "active_mechanisms",
    "apply_param",
    "assemble",
    "build_cached",
    "candidate_mechanisms",
    "expand_therapy_refs",
    "knockout_ids",
    "pool_name",
    "rate_dependencies",
    "record_pool",
    "resolve_interventions",
    "resolve_therapies",
    "secreting_mechanisms",
    "slug",
    "strength_param",
    "switch_name",
]


def assemble(kb: KnowledgeBase, scenario: Scenario) -> ModelSpec:
    """Build the model of one scenario. Raises ``AssemblyError`` or ``UnknownNameError`` on bad input."""
    if scenario.context not in CONTEXTS:
        raise AssemblyError(f"unknown context '{scenario.context}': choose one of {', '.join(CONTEXTS)}")
    if scenario.days <= 0:
        raise AssemblyError("days must be positive")
    b = Builder(
        kb=kb,
        scenario=scenario,
        drugs=[DRUGS[d] for d in resolve_therapies(kb, scenario.therapies)],
        interventions=resolve_interventions(kb, scenario.interventions),
        mechanisms=active_mechanisms(kb, scenario),
        secreting=secreting_mechanisms(kb, scenario),
    )
    for p in all_parameters():
        b.par(p)
    build_populations(b)
    build_pools(b)
    build_drugs(b)
    build_tumour_state(b)
    build_pool_effects(b)
    add_mechanism_terms(b)
    add_intervention_terms(b)
    build_modulations(b)
    build_dynamics(b)
    build_interventions(b)
    build_experiment_doses(b)
    used = _used_names(b)
    return ModelSpec(
        name=f"exoresist-{scenario.context}",
        version=MODEL_VERSION,
        context=scenario.context,
        species=tuple(b.species.values()),
        parameters=tuple(p for p in b.params.values() if p.name in used),
        assignments=tuple(b.assignments),
        reactions=tuple(b.reactions),
        events=tuple(sorted(b.events, key=lambda e: e.time_day)),
        notes=tuple(b.notes),
    )


def _used_names(b: Builder) -> set[str]:
    names: set[str] = set()
    for s in b.species.values():
        names |= expression_names(s.initial)
    for a in b.assignments:
        names |= expression_names(a.expression)
    for r in b.reactions:
        names |= expression_names(r.rate)
    for e in b.events:
        for _, expr in e.assignments:
            names |= expression_names(expr)
    return names


_CACHE: OrderedDict[tuple[str, Scenario], ModelSpec] = OrderedDict()
CACHE_SIZE = 128


def build_cached(kb: KnowledgeBase, scenario: Scenario) -> ModelSpec:
    """:func:`assemble`, cached per process by the KB's content hash and the scenario (a spec is
    immutable, so a cached one is as good as a new one; an edited KB has another hash)."""
    key = (kb.content_hash, scenario)
    spec = _CACHE.get(key)
    if spec is None:
        spec = assemble(kb, scenario)
        _CACHE[key] = spec
        if len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
    else:
        _CACHE.move_to_end(key)
    return spec
