"""What to assemble: the :class:`Scenario`, the names of generated model quantities, and how user
names of therapies, interventions and knockouts become KB ids."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from exoresist.kb import KnowledgeBase, Mechanism
from exoresist.kb.models import Intervention
from exoresist.kb.names import check_name
from exoresist.model.drugs import DRUGS

MODEL_VERSION = "0.1.0"
Context = Literal["culture", "mouse", "patient"]
CONTEXTS: tuple[Context, ...] = ("culture", "mouse", "patient")


class AssemblyError(ValueError):
    """A scenario the model cannot build: unknown therapy or intervention, bad knockout, ..."""


@dataclass(frozen=True)
class Scenario:
    """What to simulate: the context, the therapies and interventions (KB ids), knockouts."""

    context: Context = "patient"
    therapies: tuple[str, ...] = ()
    interventions: tuple[str, ...] = ()
    knockouts: tuple[str, ...] = ()
    days: float = 365.0
    treatment_start_day: float = 0.0
    include_hypotheses: bool = False
    track_cargo_fluxes: tuple[str, ...] = ()  # cargo names whose cumulative fluxes get counter species
    dose_pools: bool = False  # experiments: add isolated vesicles daily (amounts are parameters)
    measured: tuple[str, ...] = ()  # cargo pools (X_...) to secrete even where their records do not act (biomarkers)


# --- names of generated quantities ------------------------------------------------------------


def slug(text: str) -> str:
    s = re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")
    return s if s and not s[0].isdigit() else f"x_{s}"


def strength_param(record_id: str) -> str:
    """Name of the parameter that scales a record's effect (0 switches the record off)."""
    return f"strength_{slug(record_id.split(':', 1)[1])}"


def apply_param(intervention_id: str) -> str:
    """Name of the 0/1 parameter that switches an intervention on in a scenario that includes it."""
    return f"apply_{slug(intervention_id.removeprefix('int:'))}"


def switch_name(intervention_id: str) -> str:
    """Name of the discrete species that is 1 while an intervention is applied."""
    return f"on_{slug(intervention_id.removeprefix('int:'))}"


def pool_name(entity_id: str) -> str:
    """Name of the cargo-pool species of an entity."""
    return f"X_{slug(entity_id.removeprefix('ent:'))}"


def record_pool(kb: KnowledgeBase, m: Mechanism) -> str:
    """The cargo pool a mechanism record acts through."""
    return pool_name(kb.entity(m.cargo).id)


# --- user names -> KB ids -------------------------------------------------------------------------


def knockout_ids(kb: KnowledgeBase, names: Iterable[str]) -> tuple[str, ...]:
    """Record ids to switch off: a record id stays as it is, a cargo name (as the resolver reads
    it, :mod:`exoresist.kb.names`) means every mechanism record that carries it
    (``UnknownNameError`` with suggestions otherwise)."""
    ids: list[str] = []
    for name in names:
        if name in kb.by_id:
            ids.append(name)
        else:
            ents = set(kb.names.resolve(name, "cargo").expands_to)
            ids += [m.id for m in kb.mechanisms if kb.entity(m.cargo).id in ents]
    return tuple(ids)


def expand_therapy_refs(kb: KnowledgeBase, refs: Iterable[str]) -> set[str]:
    """Therapy references (drug ids, regimens, classes) -> the drug ids they cover."""
    out: set[str] = set()
    for ref in refs:
        if ref.startswith("class:"):
            out |= kb.names.drugs_of_class(ref)
        else:
            t = kb.get(ref)
            comps = getattr(t, "components", [])
            out |= set(comps) if comps else {ref}
    return out


def resolve_therapies(kb: KnowledgeBase, names: Iterable[str]) -> list[str]:
    """Therapy names (id, name, alias, regimen like 'atezolizumab+bevacizumab') -> drug ids."""
    out: list[str] = []
    for name in names:
        check_name(name, "therapy")
        parts = [name] if _is_known_therapy(kb, name) else [p for p in re.split(r"\s*\+\s*", name) if p]
        for part in parts:
            t = kb.therapy(part)
            for drug in t.components or [t.id]:
                if drug not in DRUGS:
                    raise AssemblyError(f"therapy '{part}' ({drug}) has no pharmacological model yet")
                if drug not in out:
                    out.append(drug)
    return out


def _is_known_therapy(kb: KnowledgeBase, name: str) -> bool:
    try:
        kb.therapy(name)
    except LookupError:
        return False
    return True


def resolve_interventions(kb: KnowledgeBase, names: Iterable[str]) -> list[Intervention]:
    """Intervention names: id, name, alias (short forms such as 'secretion-blockade' are aliases
    on the records), payload, target or a compound it covers (:mod:`exoresist.kb.names`)."""
    out = []
    for name in names:
        rec = kb.by_id.get(kb.names.resolve(name, "intervention").id)
        assert isinstance(rec, Intervention)
        out.append(rec)
    return out


def candidate_mechanisms(kb: KnowledgeBase, *, include_hypotheses: bool = False) -> list[Mechanism]:
    """Mechanisms (and, on request, hypotheses) with a model effect: exosomal, with a process. These
    are the records a virtual patient draws an expression for, whatever the arm."""
    return [m for m in kb.mechanisms if m.process is not None and m.exosomal and (m.kind == "mechanism" or include_hypotheses)]


def names_a_given_therapy(kb: KnowledgeBase, m: Mechanism, drug_ids: set[str]) -> bool:
    """Whether a record acts in a scenario that gives ``drug_ids``: a record that names therapies
    acts only where one of them (or a drug of a named class or regimen) is given; a record that
    names none is tumour biology (context) and acts in every scenario."""
    if not m.therapies:
        return True
    return bool(expand_therapy_refs(kb, [t.therapy for t in m.therapies]) & drug_ids)


def secreting_mechanisms(kb: KnowledgeBase, scenario: Scenario) -> list[Mechanism]:
    """The records whose cargo the model's donor cells secrete: those of :func:`active_mechanisms`,
    and every other candidate record (not knocked out) whose cargo pool is in
    ``scenario.measured``. A tumour secretes its cargo whatever the treatment, so a measured cargo
    (a plasma biomarker) has its pool before and under any arm, while only the active records act
    on the disease; a pool no rate reads changes no other quantity."""
    active = active_mechanisms(kb, scenario)
    if not scenario.measured:
        return active
    wanted = set(scenario.measured)
    ids = {m.id for m in active}
    extra = [
        m
        for m in candidate_mechanisms(kb, include_hypotheses=scenario.include_hypotheses)
        if m.id not in ids and m.id not in scenario.knockouts and pool_name(kb.entity(m.cargo).id) in wanted
    ]
    return active + extra


def active_mechanisms(kb: KnowledgeBase, scenario: Scenario) -> list[Mechanism]:
    """The candidate mechanisms that take part in ``scenario``: not knocked out, and naming a
    therapy the scenario gives (or none). Whether each then reaches a rate is decided after
    assembly (:func:`exoresist.model.assemble.acting_records`)."""
    known = set(kb.by_id)
    for k in scenario.knockouts:
        if k not in known:
            raise AssemblyError(f"knockout '{k}' is not a record id")
    drugs = set(resolve_therapies(kb, scenario.therapies))
    return [
        m
        for m in candidate_mechanisms(kb, include_hypotheses=scenario.include_hypotheses)
        if m.id not in scenario.knockouts and names_a_given_therapy(kb, m, drugs)
    ]
