"""Compile the knowledge base into a typed, signed mechanism graph (a networkx MultiDiGraph).

Nodes have stable, typed ids (``cell:hcc_cell``, ``entity:ent:circccar1``, ``phenotype:stemness``,
``therapy:ther:sorafenib``, ``class:anti_pd1``, ``intervention:int:anti-pigr``) and the attributes
``node_type``, ``label`` and, where one exists, ``record`` (the KB record the node stands for).

Edges are keyed ``<relation><sign>`` (e.g. ``sponges-``), so records asserting the same step share
one edge, and carry ``relation``, ``sign`` (+1/-1), ``records`` (ids, sorted), ``grades`` (one per
record, same order) and ``grade`` (the best of them; ``None`` for structural class -> drug edges).
See ``docs/graph.md`` for the rules.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import networkx as nx

from exoresist.graph._signs import GRADE_ORDER, STRUCTURAL_SIGN, best_grade, direction_relation, relation_sign, sign_word
from exoresist.kb import KB_VERSION, Intervention, KnowledgeBase, Mechanism
from exoresist.kb.vocab import CellType, EntityType, InterventionKind, Phenotype, TherapyClass

NODE_TYPES: tuple[str, ...] = ("cell", "cargo", "entity", "pathway", "phenotype", "therapy_class", "therapy", "intervention")
"""Node types, in the left-to-right order of the figures."""

AXIS_RELATIONS = frozenset(
    {"activates", "upregulates", "stabilises", "induces", "inhibits", "downregulates", "sponges", "degrades", "sequesters"}
)
_CLASS_LABELS = {
    TherapyClass.ANTI_PD1: "anti-PD-1",
    TherapyClass.ANTI_PDL1: "anti-PD-L1",
    TherapyClass.ANTI_CTLA4: "anti-CTLA-4",
    TherapyClass.ANTI_VEGF: "anti-VEGF",
    TherapyClass.TKI: "TKI",
    TherapyClass.MTOR_INHIBITOR: "mTOR inhibitor",
}
RESISTANCE_RELATIONS = frozenset({"promotes_resistance_to", "sensitises_to"})

BECOMES: dict[Phenotype, tuple[CellType, frozenset[CellType]]] = {
    Phenotype.CAF_ACTIVATION: (CellType.CAF, frozenset({CellType.FIBROBLAST})),
    Phenotype.M2_POLARISATION: (CellType.M2_MACROPHAGE, frozenset({CellType.MACROPHAGE})),
}
"""Phenotypes that turn a recipient cell into a new cell state: phenotype -> (the state, the
recipient cells it can turn). A record giving the phenotype to one of those recipients is the
source of a ``becomes`` edge phenotype -> state, which lets a route continue into the records
whose donor is that state (miR-1247-3p -> fibroblast -> CAF -> IL-6/IL-8 -> stemness)."""


# --- node ids ---------------------------------------------------------------------------------
def cell_node(cell: CellType) -> str:
    return f"cell:{cell.value}"


def phenotype_node(phenotype: Phenotype) -> str:
    return f"phenotype:{phenotype.value}"


def therapy_node(ref: str) -> str:
    """``ther:sorafenib`` -> ``therapy:ther:sorafenib``; ``class:anti_pd1`` stays ``class:anti_pd1``."""
    return ref if ref.startswith("class:") else f"therapy:{ref}"


def intervention_node(record_id: str) -> str:
    return f"intervention:{record_id}"


@dataclass(frozen=True)
class MechanismGraph:
    """The mechanism graph together with the KB it was compiled from (queries need both:
    names resolve through the KB, routes run over the graph)."""

    kb: KnowledgeBase
    graph: Any  # nx.MultiDiGraph (networkx ships no type information)
    include_hypotheses: bool = False

    def entity_node(self, name: str) -> str:
        """Node id of an entity by name or alias; ``UnknownNameError`` with suggestions otherwise."""
        return f"entity:{self.kb.entity(name).id}"

    def label(self, node: str) -> str:
        return str(self.graph.nodes[node].get("label", node))

    def mechanisms(self) -> list[Mechanism]:
        """The mechanism records compiled into the graph (hypotheses only when included)."""
        return [m for m in self.kb.mechanisms if self.include_hypotheses or m.kind == "mechanism"]


class _Builder:
    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.g = nx.MultiDiGraph()

    # nodes
    def node(self, node_id: str, node_type: str, label: str, record: str | None = None, **extra: Any) -> str:
        if node_id in self.g:
            data = self.g.nodes[node_id]
            # a cargo is a cargo wherever else it appears; a named pathway stays a pathway
            if data["node_type"] != "cargo" and (
                node_type == "cargo" or (node_type == "pathway" and data["node_type"] == "entity")
            ):
                data["node_type"] = node_type
            return node_id
        attrs: dict[str, Any] = {"node_type": node_type, "label": label, **extra}
        if record is not None:
            attrs["record"] = record
        self.g.add_node(node_id, **attrs)
        return node_id

    def entity(self, name: str, node_type: str = "entity") -> str:
        ent = self.kb.entity(name)
        if node_type == "entity" and ent.entity_type is EntityType.PATHWAY:
            node_type = "pathway"
        return self.node(f"entity:{ent.id}", node_type, ent.name, ent.id, entity_type=ent.entity_type.value)

    def cell(self, cell: CellType) -> str:
        return self.node(cell_node(cell), "cell", cell.value.replace("_", " "))

    def phenotype(self, ph: Phenotype) -> str:
        return self.node(phenotype_node(ph), "phenotype", ph.value.replace("_", " "))

    def therapy(self, ref: str) -> str:
        if ref.startswith("class:"):
            cls = TherapyClass(ref.removeprefix("class:"))
            node = self.node(ref, "therapy_class", _CLASS_LABELS.get(cls, cls.value.replace("_", " ")))
            for t in self.kb.therapies:
                if cls in t.therapy_classes:
                    self.edge(node, self.therapy(t.id), "includes", STRUCTURAL_SIGN["includes"], t.id, None)
            return node
        t = self.kb.therapy(ref)
        node = self.node(therapy_node(t.id), "therapy", t.name, t.id)
        for comp in t.components:
            self.edge(node, self.therapy(comp), "includes", STRUCTURAL_SIGN["includes"], t.id, None)
        return node

    # edges
    def edge(self, u: str, v: str, relation: str, sign: int, record: str, grade: str | None) -> None:
        key = f"{relation}{sign_word(sign)}"
        if self.g.has_edge(u, v, key):
            data = self.g.edges[u, v, key]
            pairs = dict(zip(data["records"], data["grades"], strict=True))
            pairs.setdefault(record, grade)
        else:
            pairs = {record: grade}
        ids = sorted(pairs)
        grades = tuple(pairs[i] for i in ids)
        known = [g for g in grades if g is not None]
        self.g.add_edge(
            u,
            v,
            key=key,
            relation=relation,
            sign=sign,
            records=tuple(ids),
            grades=grades,
            grade=best_grade(known) if known else None,
        )

    # records
    def mechanism(self, m: Mechanism) -> None:
        grade = m.evidence_grade.value
        cargo = self.entity(m.cargo, "cargo")
        for d in m.donor_cells:
            self.edge(self.cell(d), cargo, "secretes", STRUCTURAL_SIGN["secretes"], m.id, grade)
        for r in m.recipient_cells:
            self.edge(cargo, self.cell(r), "taken_up_by", STRUCTURAL_SIGN["taken_up_by"], m.id, grade)

        # sign of the change the record produces at each axis node, relative to the cargo
        sign_at: dict[str, int] = {m.cargo: 1}
        sources: set[str] = set()
        for step in m.axis:
            s = relation_sign(step.relation)
            sign_at.setdefault(step.target, sign_at[step.source] * s)
            sources.add(step.source)
            self.edge(self.entity(step.source), self.entity(step.target), step.relation.value, s, m.id, grade)
        terminals = [n for n in dict.fromkeys(st.target for st in m.axis) if n not in sources] or [m.cargo]

        on_axis = set(sign_at)
        free_pathways = [p for p in m.pathways if p not in on_axis]
        ends: list[tuple[str, int]] = []  # (node, sign of its leads_to edge to the phenotypes)
        for t in terminals:
            t_node = self.entity(t)
            if free_pathways:
                for p in free_pathways:
                    self.edge(t_node, self.entity(p, "pathway"), "leads_to", sign_at[t], m.id, grade)
            else:
                ends.append((t_node, sign_at[t]))
        for p in m.pathways:
            node = self.entity(p, "pathway")
            if p in free_pathways:
                ends.append((node, 1))
        for ph in m.phenotypes:
            ph_node = self.phenotype(ph)
            for node, s in dict.fromkeys(ends):
                self.edge(node, ph_node, "leads_to", s, m.id, grade)
            for eff in m.therapies:
                rel = direction_relation(eff.direction)
                self.edge(ph_node, self.therapy(eff.therapy), rel, STRUCTURAL_SIGN[rel], m.id, grade)

    def becomes(self, m: Mechanism, donors: set[CellType]) -> None:
        """``becomes`` edges from the record's state-changing phenotypes to the new cell state,
        only where that state is the donor of some compiled record (otherwise it leads nowhere)."""
        for ph in m.phenotypes:
            if ph not in BECOMES:
                continue
            state, precursors = BECOMES[ph]
            turned = sorted(c.value for c in m.recipient_cells if c in precursors)
            if not turned or state not in donors:
                continue
            u, v = self.phenotype(ph), self.cell(state)
            self.edge(u, v, "becomes", STRUCTURAL_SIGN["becomes"], m.id, m.evidence_grade.value)
            data = self.g.edges[u, v, "becomes+"]
            data["precursors"] = tuple(sorted({*data.get("precursors", ()), *turned}))

    def intervention(self, iv: Intervention, mechanisms: dict[str, Mechanism]) -> None:
        grade = iv.evidence_grade.value
        node = self.node(intervention_node(iv.id), "intervention", iv.name, iv.id, intervention_kind=iv.intervention_kind.value)
        blocked_cargos = [mechanisms[b].cargo for b in iv.blocks if b in mechanisms]
        targets: list[str]
        secretion = {InterventionKind.SECRETION_BLOCKADE, InterventionKind.BIOGENESIS_INHIBITOR}
        if iv.intervention_kind in secretion and iv.target_donors:
            targets = [self.cell(c) for c in iv.target_donors]
        elif iv.target_entities:
            targets = [self.entity(n) for n in iv.target_entities]
        else:
            targets = [self.entity(c, "cargo") for c in blocked_cargos]
        for t in dict.fromkeys(targets):
            self.edge(node, t, "blocks", STRUCTURAL_SIGN["blocks"], iv.id, grade)
        for eff in iv.therapies:
            rel = direction_relation(eff.direction)
            self.edge(node, self.therapy(eff.therapy), rel, STRUCTURAL_SIGN[rel], iv.id, grade)


def build_graph(kb: KnowledgeBase, *, include_hypotheses: bool = False) -> MechanismGraph:
    """Compile ``kb`` into a :class:`MechanismGraph`. Hypothesis records are left out unless
    ``include_hypotheses``; interventions are always compiled (their ``blocks`` edges point at
    the nodes they act on whether or not the mechanisms they cut are included)."""
    b = _Builder(kb)
    included = [m for m in kb.mechanisms if include_hypotheses or m.kind == "mechanism"]
    for m in included:
        b.mechanism(m)
    donors = {c for m in included for c in m.donor_cells}
    for m in included:
        b.becomes(m, donors)
    by_id = {m.id: m for m in included}
    for iv in kb.interventions:
        b.intervention(iv, by_id)
    b.g.graph.update(
        kb_version=KB_VERSION,
        kb_content_hash=kb.content_hash,
        include_hypotheses=include_hypotheses,
        n_mechanisms=len(included),
        grade_order="".join(GRADE_ORDER),
    )
    return MechanismGraph(kb=kb, graph=b.g, include_hypotheses=include_hypotheses)


def edge_list(graph: Any) -> list[tuple[str, str, str, dict[str, Any]]]:
    """Every edge as ``(source, target, key, data)``, sorted, for stable exports."""
    return sorted(graph.edges(keys=True, data=True), key=lambda e: (e[0], e[1], e[2]))


def records_of(edges: Iterable[dict[str, Any]]) -> list[str]:
    """The record ids behind some edges, sorted and without repeats."""
    return sorted({r for d in edges for r in d["records"]})
