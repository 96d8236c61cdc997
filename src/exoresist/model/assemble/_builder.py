"""The mutable state the builders of one assembly share, and the helpers that add model terms."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from exoresist.kb import KnowledgeBase, Mechanism
from exoresist.kb.models import Intervention
from exoresist.kb.vocab import ModelProcess
from exoresist.model.assemble.scenario import Context, Scenario, strength_param
from exoresist.model.drugs import DrugModel
from exoresist.model.spec import Assignment, Event, Parameter, Reaction, Species

EPS = "1e-9"

STRENGTH_PRIOR = (0.1, 10.0)
"""Prior range of every record's strength multiplier (log scale, assumed)."""

Term = tuple[str, str]
"""A record's term in a summed drive: (expression, record id)."""


@dataclass
class Pool:
    """An exosomal cargo pool: the species name, the cargo's display name and the records behind it."""

    name: str
    cargo: str
    records: set[str] = field(default_factory=set)


@dataclass
class Builder:
    """Collects the species, parameters, assignments, reactions and events of one model, in the
    order they are added (the order of assignments is their evaluation order)."""

    kb: KnowledgeBase
    scenario: Scenario
    drugs: list[DrugModel]
    interventions: list[Intervention]
    mechanisms: list[Mechanism]
    """The records that act (:func:`~exoresist.model.assemble.scenario.active_mechanisms`)."""
    secreting: list[Mechanism]
    """The records whose cargo is secreted (a superset; :func:`~exoresist.model.assemble.scenario.secreting_mechanisms`)."""
    species: dict[str, Species] = field(default_factory=dict)
    params: dict[str, Parameter] = field(default_factory=dict)
    assignments: list[Assignment] = field(default_factory=list)
    reactions: list[Reaction] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    pools: dict[str, Pool] = field(default_factory=dict)  # entity id -> pool
    drug_terms: dict[tuple[str, str], list[Term]] = field(default_factory=lambda: defaultdict(list))
    """(drug id, "protect" | "sensitise") -> terms that lower or raise the drug's kill."""
    drives: dict[ModelProcess, list[Term]] = field(default_factory=lambda: defaultdict(list))
    """process -> terms summed into ``drive_<process>``."""
    transfers: list[tuple[Mechanism, str]] = field(default_factory=list)
    """transfer-of-resistance records and their terms (reactions are made once resistant pools exist)."""

    @property
    def context(self) -> Context:
        return self.scenario.context

    @property
    def drug_ids(self) -> set[str]:
        return {d.therapy_id for d in self.drugs}

    def sp(self, name: str, initial: str, unit: str, desc: str, records: Iterable[str] = (), kind: str = "dynamic") -> str:
        if name not in self.species:
            self.species[name] = Species(name, initial, unit, desc, tuple(records), kind)  # type: ignore[arg-type]
        return name

    def par(self, p: Parameter) -> str:
        self.params.setdefault(p.name, p)
        return p.name

    def strength(self, record_id: str) -> str:
        """The strength parameter of a record (created on first use)."""
        name = strength_param(record_id)
        self.par(Parameter(name, 1.0, *STRENGTH_PRIOR, "1", "assumed", f"strength of {record_id}", (record_id,)))
        return name

    def assign(self, name: str, expr: str, unit: str, desc: str, records: Iterable[str] = ()) -> str:
        self.assignments.append(Assignment(name, expr, unit, desc, tuple(sorted(set(records)))))
        return name

    def assign_sum(self, name: str, terms: Sequence[Term], unit: str, desc: str) -> str:
        """``name`` = the sum of ``terms`` (0 without any), citing their records."""
        return self.assign(name, total([t for t, _ in terms]), unit, desc, [r for _, r in terms])

    def records_of(self, name: str) -> list[str]:
        """The records cited by the assignment ``name`` (empty if there is none)."""
        return [r for a in self.assignments if a.name == name for r in a.records]

    def rx(
        self,
        name: str,
        rate: str,
        reactants: Sequence[str] = (),
        products: Sequence[str] = (),
        desc: str = "",
        records: Iterable[str] = (),
    ) -> None:
        self.reactions.append(
            Reaction(
                name,
                rate,
                tuple((r, 1.0) for r in reactants),
                tuple((p, 1.0) for p in products),
                desc,
                tuple(sorted(set(records))),
            )
        )

    def pool_of(self, m: Mechanism) -> Pool:
        return self.pools[self.kb.entity(m.cargo).id]

    def resistant_pools(self) -> list[str]:
        """Names of the reversibly resistant tumour-cell species (one per killing drug)."""
        return [n for n in self.species if n.startswith("R_")]


def total(terms: Sequence[str]) -> str:
    """``a + b + ...``, or ``0`` for no term."""
    return " + ".join(terms) if terms else "0"
