"""Compile the knowledge base into a typed, signed mechanism graph (a networkx MultiDiGraph).

Every molecular node is an entity *in one cell*: ``entity:ent:pd-1@cd8_t_cell`` is PD-1 in CD8 T
cells, ``phenotype:cd8_t_cell_dysfunction@cd8_t_cell`` the phenotype there. The secreted cargo,
between cells, is ``entity:ent:circccar1`` (type ``cargo``); cells are ``cell:hcc_cell``; therapies
``therapy:ther:sorafenib`` and ``class:anti_pd1``; interventions ``intervention:int:anti-pigr``.
Nodes carry ``node_type``, ``label``, ``record`` (the KB record the node stands for, where one
exists) and ``cell`` (for nodes placed in a cell).

Every edge is a relation a record states: a donor secreting its cargo, the cargo taken up by a
recipient (or, for a cargo made and acting in its donor, the donor expressing it), an axis step in
its cell, an axis node whose change gives a phenotype, a phenotype's effect on a therapy. Pathways
a record lists annotate its axis (routes report them, see :func:`free_pathways`); they are never
edges. Edges are keyed ``<relation><sign>`` (e.g. ``sponges-``), so records asserting the same step
in the same cell share one edge, and carry ``relation``, ``sign`` (+1/-1), ``cell``, ``records``
(ids, sorted), ``grades`` (one per record, same order) and ``grade`` (the best of them; ``None``
for structural class -> drug edges). See ``docs/graph.md`` for the rules.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from exoresist.graph._signs import GRADE_ORDER, STRUCTURAL_SIGN, best_grade, direction_relation, relation_sign, sign_word
from exoresist.kb import KB_VERSION, Entity, Intervention, KnowledgeBase, Mechanism
from exoresist.kb.vocab import CellType, EntityType, InterventionKind, Phenotype, TherapyClass

NODE_TYPES: tuple[str, ...] = ("cell", "cargo", "entity", "pathway", "phenotype", "therapy_class", "therapy", "intervention")
"""Node types, in the left-to-right order of the figures."""

AXIS_RELATIONS = frozenset(
    {"activates", "upregulates", "stabilises", "induces", "inhibits", "downregulates", "sponges", "degrades", "sequesters"}
)
TRANSFER_RELATIONS = frozenset({"taken_up_by", "acts_on"})
"""Cargo (between cells) -> the cargo in a recipient: by exosome uptake, or, for a non-exosomal
record, as a secreted factor acting on the recipient."""
START_RELATIONS = frozenset({"secretes", "expresses"})
"""Edges out of a donor cell: it secretes the cargo, or expresses it where the cargo acts in the donor itself."""
RESISTANCE_RELATIONS = frozenset({"promotes_resistance_to", "sensitises_to"})

_CLASS_LABELS = {
    TherapyClass.ANTI_PD1: "anti-PD-1",
    TherapyClass.ANTI_PDL1: "anti-PD-L1",
    TherapyClass.ANTI_CTLA4: "anti-CTLA-4",
    TherapyClass.ANTI_VEGF: "anti-VEGF",
    TherapyClass.TKI: "TKI",
    TherapyClass.MTOR_INHIBITOR: "mTOR inhibitor",
}
CELL_LABELS: dict[CellType, str] = {
    CellType.HCC_CELL: "HCC cell",
    CellType.LIVER_CANCER_STEM_CELL: "liver cancer stem cell",
    CellType.FIBROBLAST: "fibroblast",
    CellType.CAF: "cancer-associated fibroblast",
    CellType.MACROPHAGE: "macrophage",
    CellType.M2_MACROPHAGE: "M2 macrophage",
    CellType.CD8_T_CELL: "CD8 T cell",
    CellType.T_LYMPHOCYTE: "tumour-infiltrating T cell",
    CellType.NK_CELL: "NK cell",
    CellType.REGULATORY_B_CELL: "regulatory B cell",
    CellType.ENDOTHELIAL_CELL: "endothelial cell",
    CellType.ADIPOSE_MSC: "adipose MSC",
    CellType.BONE_MARROW_MSC: "bone-marrow MSC",
    CellType.IRRADIATED_TUMOUR_CELL: "irradiated tumour cell",
}
"""How cells are written in labels and route text."""
PHENOTYPE_LABELS: dict[Phenotype, str] = {
    Phenotype.EMT: "EMT",
    Phenotype.CAF_ACTIVATION: "CAF activation",
    Phenotype.M2_POLARISATION: "M2 polarisation",
    Phenotype.CD8_DYSFUNCTION: "CD8 T-cell dysfunction",
    Phenotype.NK_SUPPRESSION: "NK-cell suppression",
    Phenotype.BREG_EXPANSION: "regulatory B-cell expansion",
}
"""Phenotype labels that are not simply the value with spaces (acronyms, hyphens)."""

BECOMES: dict[Phenotype, tuple[CellType, frozenset[CellType]]] = {
    Phenotype.CAF_ACTIVATION: (CellType.CAF, frozenset({CellType.FIBROBLAST})),
    Phenotype.M2_POLARISATION: (CellType.M2_MACROPHAGE, frozenset({CellType.MACROPHAGE})),
}
"""Phenotypes that turn a cell into a new cell state: phenotype -> (the state, the cells it can
turn). A record giving the phenotype in one of those cells is the source of a ``becomes`` edge
phenotype -> state, which lets a route continue into the records whose donor is that state
(miR-1247-3p -> fibroblast -> CAF -> IL-6/IL-8 -> stemness)."""

UNPLACED = "unplaced"
"""Cell suffix of a node whose record names no cell at all (no donor, no recipient)."""


# --- node ids ---------------------------------------------------------------------------------
def cell_node(cell: CellType) -> str:
    return f"cell:{cell.value}"


def cell_label(cell: CellType | str | None) -> str:
    if cell is None or cell == UNPLACED:
        return "unplaced"
    c = CellType(cell.removeprefix("cell:")) if isinstance(cell, str) else cell
    return CELL_LABELS.get(c, c.value.replace("_", " "))


def phenotype_label(ph: Phenotype) -> str:
    return PHENOTYPE_LABELS.get(ph, ph.value.replace("_", " "))


def _suffix(cell: CellType | None) -> str:
    return cell.value if cell is not None else UNPLACED


def phenotype_node(phenotype: Phenotype, cell: CellType | None) -> str:
    return f"phenotype:{phenotype.value}@{_suffix(cell)}"


def in_cell(entity_node: str, cell: CellType | None) -> str:
    """``entity:ent:pd-1`` in CD8 T cells: ``entity:ent:pd-1@cd8_t_cell``."""
    return f"{entity_node}@{_suffix(cell)}"


def therapy_node(ref: str) -> str:
    """``ther:sorafenib`` -> ``therapy:ther:sorafenib``; ``class:anti_pd1`` stays ``class:anti_pd1``."""
    return ref if ref.startswith("class:") else f"therapy:{ref}"


def intervention_node(record_id: str) -> str:
    return f"intervention:{record_id}"


def free_pathways(m: Mechanism) -> list[str]:
    """The pathways a record lists that are not nodes of its axis: annotations of its axis."""
    on_axis = {m.cargo, *(s.source for s in m.axis), *(s.target for s in m.axis)}
    return [p for p in m.pathways if p not in on_axis]


@dataclass(frozen=True)
class MechanismGraph:
    """The mechanism graph together with the KB it was compiled from (queries need both:
    names resolve through the KB, routes run over the graph)."""

    kb: KnowledgeBase
    graph: Any  # nx.MultiDiGraph (networkx ships no type information)
    include_hypotheses: bool = False
    cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """Results computed once per graph (the routes); the graph is not changed after it is built."""

    def entity_node(self, name: str) -> str:
        """Node id of an entity (as the cargo between cells) by name or alias; ``UnknownNameError``
        with suggestions otherwise."""
        return f"entity:{self.kb.entity(name).id}"

    def label(self, node: str) -> str:
        """A node's label; for an entity id not in the graph (the cargo of a record that names no
        donor, which never travels between cells), the entity's name."""
        if node not in self.graph and node.startswith("entity:"):
            rec = self.kb.get(node.removeprefix("entity:").split("@")[0])
            return rec.name if isinstance(rec, Entity) else rec.id
        return str(self.graph.nodes[node].get("label", node))

    def place_label(self, node: str) -> str:
        """The label with the cell a molecular node or phenotype is placed in: ``PD-1 (CD8 T cell)``."""
        d = self.graph.nodes[node]
        cell = d.get("cell")
        if cell is None or d["node_type"] == "cell" or cell == UNPLACED:
            return str(d.get("label", node))
        return f"{d.get('label', node)} ({cell_label(cell)})"

    def cell_of(self, node: str) -> str | None:
        """The cell value a node is placed in (``None`` for cells, cargos between cells, therapies)."""
        cell = self.graph.nodes[node].get("cell")
        return str(cell) if cell is not None else None

    def mechanisms(self) -> list[Mechanism]:
        """The mechanism records compiled into the graph (hypotheses only when included)."""
        return [m for m in self.kb.mechanisms if self.include_hypotheses or m.kind == "mechanism"]


class _Builder:
    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.g = nx.MultiDiGraph()

    # nodes
    def node(self, node_id: str, node_type: str, label: str, record: str | None = None, **extra: Any) -> str:
        if node_id not in self.g:
            attrs: dict[str, Any] = {"node_type": node_type, "label": label, **extra}
            if record is not None:
                attrs["record"] = record
            self.g.add_node(node_id, **attrs)
        return node_id

    def cargo(self, name: str) -> str:
        """The cargo between cells (secreted, in exosomes or as a free factor)."""
        ent = self.kb.entity(name)
        return self.node(f"entity:{ent.id}", "cargo", ent.name, ent.id, entity_type=ent.entity_type.value)

    def entity(self, name: str, cell: CellType | None) -> str:
        """An entity in one cell; typed ``pathway`` when the entity is a pathway."""
        ent = self.kb.entity(name)
        node_type = "pathway" if ent.entity_type is EntityType.PATHWAY else "entity"
        return self.node(
            in_cell(f"entity:{ent.id}", cell), node_type, ent.name, ent.id, entity_type=ent.entity_type.value, cell=_suffix(cell)
        )

    def cell(self, cell: CellType) -> str:
        return self.node(cell_node(cell), "cell", cell_label(cell), cell=cell.value)

    def phenotype(self, ph: Phenotype, cell: CellType | None) -> str:
        return self.node(phenotype_node(ph, cell), "phenotype", phenotype_label(ph), phenotype=ph.value, cell=_suffix(cell))

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
    def edge(
        self,
        u: str,
        v: str,
        relation: str,
        sign: int,
        record: str,
        grade: str | None,
        cell: CellType | None = None,
    ) -> None:
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
            cell=cell.value if cell is not None else None,
            records=tuple(ids),
            grades=grades,
            grade=best_grade(known) if known else None,
        )

    # records
    def mechanism(self, m: Mechanism) -> None:
        grade = m.evidence_grade.value
        step_cells = m.step_cells()
        outcomes = m.placed_outcomes()

        # where the record's cargo acts: the cells of the steps from it and of phenotypes right after it
        hosts = [c for step, cells in zip(m.axis, step_cells, strict=True) if step.source == m.cargo for c in cells]
        hosts += [c for node, c, _, _ in outcomes if node == m.cargo and c is not None]
        for host in dict.fromkeys(hosts):
            self.arrival(m, host, grade)

        # sign of the change the record produces at each axis node, relative to the cargo
        sign_at: dict[str, int] = {m.cargo: 1}
        for step, cells in zip(m.axis, step_cells, strict=True):
            s = relation_sign(step.relation)
            sign_at.setdefault(step.target, sign_at[step.source] * s)
            for c in cells or (None,):
                u, v = self.entity(step.source, c), self.entity(step.target, c)
                self.edge(u, v, step.relation.value, s, m.id, grade, c)

        for node, node_cell, ph_cell, ph in outcomes:
            ph_node = self.phenotype(ph, ph_cell)
            self.edge(self.entity(node, node_cell), ph_node, "leads_to", sign_at[node], m.id, grade, ph_cell)
            for eff in m.therapies:
                rel = direction_relation(eff.direction)
                self.edge(ph_node, self.therapy(eff.therapy), rel, STRUCTURAL_SIGN[rel], m.id, grade, ph_cell)

    def arrival(self, m: Mechanism, host: CellType, grade: str) -> None:
        """How the cargo comes to act in ``host``: secreted by each donor and taken up (exosomal
        record) or acting as a secreted factor (non-exosomal record) when ``host`` is a recipient;
        expressed by ``host`` when it is a donor only; nothing when the record names no donor."""
        inside = self.entity(m.cargo, host)
        if host in m.recipient_cells:
            if not m.donor_cells:
                return
            between = self.cargo(m.cargo)
            for d in m.donor_cells:
                self.edge(self.cell(d), between, "secretes", STRUCTURAL_SIGN["secretes"], m.id, grade, d)
            rel = "taken_up_by" if m.exosomal else "acts_on"
            self.edge(between, inside, rel, STRUCTURAL_SIGN[rel], m.id, grade, host)
        elif host in m.donor_cells:
            self.edge(self.cell(host), inside, "expresses", STRUCTURAL_SIGN["expresses"], m.id, grade, host)

    def becomes(self, m: Mechanism, donors: set[CellType]) -> None:
        """``becomes`` edges from the record's state-changing phenotypes, where they arise in a cell
        the phenotype can turn, to the new cell state; only where that state is the donor of some
        compiled record (otherwise it leads nowhere)."""
        for _, _, cell, ph in m.placed_outcomes():
            if ph not in BECOMES or cell is None:
                continue
            state, precursors = BECOMES[ph]
            if cell not in precursors or state not in donors:
                continue
            u, v = self.phenotype(ph, cell), self.cell(state)
            self.edge(u, v, "becomes", STRUCTURAL_SIGN["becomes"], m.id, m.evidence_grade.value, cell)
            self.g.edges[u, v, "becomes+"]["precursors"] = (cell.value,)

    def intervention(self, iv: Intervention, mechanisms: dict[str, Mechanism]) -> None:
        grade = iv.evidence_grade.value
        node = self.node(intervention_node(iv.id), "intervention", iv.name, iv.id, intervention_kind=iv.intervention_kind.value)
        targets: list[str]
        secretion = {InterventionKind.SECRETION_BLOCKADE, InterventionKind.BIOGENESIS_INHIBITOR}
        if iv.intervention_kind in secretion and iv.target_donors:
            targets = [self.cell(c) for c in iv.target_donors]
        elif iv.target_entities:
            targets = [t for n in iv.target_entities for t in self.acted_on(n, iv.intervention_kind)]
        else:
            targets = [t for b in iv.blocks if b in mechanisms for t in self.acted_on(mechanisms[b].cargo, iv.intervention_kind)]
        for t in dict.fromkeys(targets):
            self.edge(node, t, "blocks", STRUCTURAL_SIGN["blocks"], iv.id, grade)
        for eff in iv.therapies:
            rel = direction_relation(eff.direction)
            self.edge(node, self.therapy(eff.therapy), rel, STRUCTURAL_SIGN[rel], iv.id, grade)

    def acted_on(self, name: str, kind: InterventionKind) -> list[str]:
        """The nodes of an entity an intervention acts on: a neutralising antibody the cargo between
        cells, anything else the entity inside cells; when neither is in the graph, the entity as one
        node of its own (a target no record names, or a pathway records only annotate)."""
        plain = f"entity:{self.kb.entity(name).id}"
        inside = sorted(n for n in self.g if n.startswith(plain + "@"))
        between = [plain] if plain in self.g else []
        found = (between or inside) if kind is InterventionKind.NEUTRALISING_ANTIBODY else (inside or between)
        if found:
            return found
        ent = self.kb.entity(name)
        node_type = "pathway" if ent.entity_type is EntityType.PATHWAY else "entity"
        return [self.node(plain, node_type, ent.name, ent.id, entity_type=ent.entity_type.value)]


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
