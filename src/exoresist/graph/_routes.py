"""Routes: from a donor cell to a therapy, every step stated by a record (queries: ``_queries``).

A *route* is a path donor cell -> cargo -> (the cargo in a recipient cell) -> axis -> phenotype ->
therapy in which every step is a relation that one record, its *anchor*, states: the donor
secreting the cargo, the cargo taken up by a recipient (or expressed by the donor where it acts in
the donor itself), each axis step in the cell where the record places it, the axis node whose
change gives the phenotype, and the phenotype's effect on the therapy. Nodes are entities in one
cell (``_build``), so a route names the cell of every step, and a record whose steps happen in
different cells gives one route per cell. Pathways the anchor lists annotate the route; they are
not steps. A route is as strong as its weakest edge; therapy names resolve by alias and class via
``kb.therapy_refs``.

A route may cross cells: a record's phenotype that turns a cell into a new state
(``caf_activation`` in fibroblasts -> ``cancer_associated_fibroblast``, a ``becomes`` edge) can
continue into a record whose donor is that state. Such a *chain* is a series of *segments*, each
made only of its own anchor's steps; the chain's last record names the therapy.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import networkx as nx

from exoresist.graph._build import UNPLACED, MechanismGraph, cell_label, free_pathways, therapy_node
from exoresist.graph._signs import path_sign, sign_word, weakest_grade
from exoresist.kb import Mechanism

EdgeKey = tuple[str, str, str]
"""(source node, target node, edge key)."""

MAX_STEPS = 14
"""Longest segment searched, in edges (the longest curated axis has well under ten steps)."""

MAX_CELLS = 3
"""Most cell segments in one chain (donor -> state -> state)."""

_PLURAL_VERBS = {"secretes": "secrete", "expresses": "express"}
"""Steps whose subject is a cell, written in the plural (``HCC cells secrete circCCAR1``)."""
_WORDS = {
    "leads_to": "leads to",
    "promotes_resistance_to": "promotes resistance to",
    "sensitises_to": "sensitises to",
    "blocks": "blocks",
    "includes": "includes",
}


@dataclass(frozen=True)
class Step:
    """One edge of a route, with the records behind it and the cell in which it happens."""

    source: str
    target: str
    relation: str
    sign: int
    records: tuple[str, ...]
    grade: str | None
    source_label: str
    target_label: str
    precursors: tuple[str, ...] = ()
    """For a ``becomes`` step: the cells the phenotype turns into the new state."""
    cell: str | None = None
    """The cell value (``cd8_t_cell``) in which the step happens: the donor for ``secretes`` and
    ``expresses``, the recipient for a transfer, the cell of the phenotype for ``leads_to`` and the
    therapy step; ``None`` where the record names no cell."""

    @property
    def cell_label(self) -> str | None:
        return cell_label(self.cell) if self.cell not in (None, UNPLACED) else None

    def words(self) -> str:
        """The step as a clause; cells are named in the plural (``HCC cells secrete circCCAR1``)."""
        if self.relation in _PLURAL_VERBS:
            return f"{self.source_label}s {_PLURAL_VERBS[self.relation]} {self.target_label}"
        if self.relation == "taken_up_by":
            return f"{self.cell_label}s take up {self.source_label} (exosomal transfer)"
        if self.relation == "acts_on":
            return f"{self.source_label} acts on {self.cell_label}s (secreted, not in exosomes)"
        verb = _WORDS.get(self.relation, self.relation)
        if self.relation == "leads_to" and self.sign < 0:
            verb = "opposes (its loss leads to)"
        if self.relation == "becomes":
            turned = "/".join(cell_label(p) + "s" for p in self.precursors)
            return f"{self.source_label} turns {turned} into {self.target_label}s" if turned else f"{self.source_label} becomes"
        return f"{self.source_label} {verb} {self.target_label}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "source_label": self.source_label,
            "relation": self.relation,
            "sign": self.sign,
            "target": self.target,
            "target_label": self.target_label,
            "cell": f"cell:{self.cell}" if self.cell_label else None,
            "cell_label": self.cell_label,
            "records": list(self.records),
            "grade": self.grade,
            **({"precursors": list(self.precursors)} if self.relation == "becomes" else {}),
        }


@dataclass(frozen=True)
class Route:
    """One route from a donor cell (or, when the record names none, the cargo in its cell) to a therapy."""

    steps: tuple[Step, ...]
    anchors: tuple[str, ...]
    sign: int
    grade: str
    records: tuple[str, ...]
    cargo: str
    """The first record's cargo, as the node between cells (``entity:ent:circccar1``), even where
    the route starts inside the donor."""
    donor: str | None
    phenotype: str
    therapy: str
    segments: tuple[tuple[str, ...], ...] = ()
    """Anchor records of each cell segment, in chain order (one segment unless the route crosses cells)."""
    context_records: tuple[str, ...] = ()
    """Anchor records without an exosomal step (``exosomal: false``)."""
    pathways: tuple[str, ...] = ()
    """Pathways the anchor records list beside their axes (annotations, not steps)."""

    composed: bool = False
    """Always false: every step of a route is its own anchor's (kept for the JSON output)."""

    @property
    def is_chain(self) -> bool:
        return len(self.segments) > 1

    @property
    def cells(self) -> tuple[str, ...]:
        """The donor cells along the route, in order (one unless it is a chain)."""
        return tuple(s.source for s in self.steps if s.relation in {"secretes", "expresses"})

    @property
    def in_cells(self) -> tuple[str, ...]:
        """Every cell a step happens in, in route order, as cell node ids."""
        return tuple(dict.fromkeys(f"cell:{s.cell}" for s in self.steps if s.cell_label))

    @property
    def nodes(self) -> tuple[str, ...]:
        return (self.steps[0].source, *(s.target for s in self.steps))

    @property
    def edges(self) -> tuple[EdgeKey, ...]:
        return tuple((s.source, s.target, f"{s.relation}{sign_word(s.sign)}") for s in self.steps)

    @property
    def effect(self) -> str:
        return "resistance" if self.sign > 0 else "sensitisation"

    def text(self) -> str:
        """The route in words, one clause per step, grouped by the cell the steps happen in."""
        parts: list[str] = []
        current: str | None = "?"
        for s in self.steps:
            where = s.cell_label
            clause = s.words()
            if where != current:
                lead = "in" if not parts else "then in"
                clause = f"{lead} {where}s: {clause}" if where else clause
                current = where
            parts.append(clause)
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "effect": self.effect,
            "net_sign": self.sign,
            "weakest_evidence": self.grade,
            "cargo": self.cargo,
            "donor": self.donor,
            "phenotype": self.phenotype,
            "therapy": self.therapy,
            "anchor_records": list(self.anchors),
            "segments": [list(a) for a in self.segments],
            "cells": list(self.cells),
            "in_cells": list(self.in_cells),
            "non_exosomal_records": list(self.context_records),
            "records": list(self.records),
            "pathways": list(self.pathways),
            "composed": self.composed,
            "nodes": list(self.nodes),
            "text": self.text(),
            "steps": [s.to_dict() for s in self.steps],
        }


def _step(mg: MechanismGraph, u: str, v: str, k: str) -> Step:
    d = mg.graph.edges[u, v, k]
    return Step(
        u,
        v,
        d["relation"],
        d["sign"],
        tuple(d["records"]),
        d["grade"],
        mg.label(u),
        mg.label(v),
        tuple(d.get("precursors", ())),
        d.get("cell"),
    )


Chain = tuple[list[EdgeKey], list[set[str]]]
"""Edges of a partial route and the anchor records of each of its segments."""


class _Search:
    """Segment and chain search over one graph: each record's own edges, searched once."""

    def __init__(self, mg: MechanismGraph, max_steps: int) -> None:
        self.mg = mg
        self.max_steps = max_steps
        self.by_id = {m.id: m for m in mg.mechanisms()}
        own: dict[str, list[EdgeKey]] = defaultdict(list)
        for u, v, k, d in mg.graph.edges(keys=True, data=True):
            if d["relation"] in {"becomes", "blocks", "includes"}:
                continue  # becomes edges join segments; the others are not record steps
            for r in d["records"]:
                if r in self.by_id:
                    own[r].append((u, v, k))
        self.own = {r: mg.graph.edge_subgraph(edges) for r, edges in own.items()}
        self._paths: dict[tuple[str, str], list[list[EdgeKey]]] = {}

    def segments(self, m: Mechanism, target: str) -> list[list[EdgeKey]]:
        """Paths made of ``m``'s own edges from where ``m`` starts (a donor cell, or the cargo in its
        cell when the record names no donor) to ``target``."""
        key = (m.id, target)
        if key not in self._paths:
            sub = self.own.get(m.id)
            found: list[list[EdgeKey]] = []
            if sub is not None and target in sub:
                for root in sorted(n for n in sub if sub.in_degree(n) == 0):
                    found += [list(p) for p in nx.all_simple_edge_paths(sub, root, target, cutoff=self.max_steps)]
            self._paths[key] = found
        return self._paths[key]

    def upstream(self, cell: str, cells_left: int) -> list[Chain]:
        """Chains that end with a ``becomes`` edge into ``cell``, each segment its anchor's own."""
        out: list[Chain] = []
        if cells_left <= 0:
            return out
        for phen, _, key, d in self.mg.graph.in_edges(cell, keys=True, data=True):
            if d["relation"] != "becomes":
                continue
            for rec in d["records"]:
                m = self.by_id.get(rec)
                if m is None:
                    continue
                for seg in self.segments(m, phen):
                    for edges, anchors in self.prefixes(seg[0][0], cells_left - 1):
                        out.append(([*edges, *seg, (phen, cell, key)], [*anchors, {m.id}]))
        return out

    def prefixes(self, root: str, cells_left: int) -> list[Chain]:
        """Ways to arrive at a segment's first node: nothing, or (for a donor cell) a chain that turns
        another record's cell into it."""
        out: list[Chain] = [([], [])]
        if self.mg.graph.nodes[root]["node_type"] == "cell":
            out += self.upstream(root, cells_left)
        return out


def all_routes(mg: MechanismGraph, *, max_steps: int = MAX_STEPS, max_cells: int = MAX_CELLS) -> list[Route]:
    """Every route of the graph (to every therapy its records name), computed once per graph."""
    key = f"routes:{max_steps}:{max_cells}"
    if key in mg.cache:
        cached: list[Route] = mg.cache[key]
        return cached
    search = _Search(mg, max_steps)
    found: dict[tuple[EdgeKey, ...], tuple[str, list[set[str]]]] = {}
    for m in mg.mechanisms():
        for target in sorted({therapy_node(e.therapy) for e in m.therapies}):
            for seg in search.segments(m, target):
                for prefix, anchors in search.prefixes(seg[0][0], max_cells - 1):
                    chain = [*anchors, {m.id}]
                    first = search.by_id[min(chain[0])]
                    _, entry = found.setdefault(tuple(prefix + seg), (mg.entity_node(first.cargo), [set() for _ in chain]))
                    for have, add in zip(entry, chain, strict=True):
                        have.update(add)
    routes = [_make_route(mg, list(edges), cargo, segments) for edges, (cargo, segments) in found.items()]
    routes.sort(key=lambda r: (r.grade, -r.sign, r.cargo, -len(r.segments), len(r.steps), r.nodes))
    mg.cache[key] = routes
    return routes


def find_routes(
    mg: MechanismGraph,
    therapy: str | None,
    *,
    cargo: str | None = None,
    max_steps: int = MAX_STEPS,
    max_cells: int = MAX_CELLS,
) -> list[Route]:
    """Every route (resistance and sensitisation) to ``therapy`` (to any therapy when ``None``),
    optionally from one ``cargo``; a chain's cargo is the first one on it.

    Names resolve case-insensitively, by alias, and (for therapies) by class; an unknown name
    raises ``UnknownNameError`` with suggestions. Routes are sorted strongest evidence first.
    """
    wanted = {therapy_node(r) for r in mg.kb.therapy_refs(therapy)} if therapy is not None else None
    want_cargo = mg.entity_node(cargo) if cargo is not None else None
    return [
        r
        for r in all_routes(mg, max_steps=max_steps, max_cells=max_cells)
        if (wanted is None or r.therapy in wanted) and (want_cargo is None or r.cargo == want_cargo)
    ]


def _make_route(mg: MechanismGraph, edges: list[EdgeKey], cargo: str, segments: list[set[str]]) -> Route:
    steps = tuple(_step(mg, *e) for e in edges)
    anchors = set().union(*segments)
    by_id = {m.id: m for m in mg.mechanisms()}
    records = sorted({r for s in steps for r in s.records})
    grades = [s.grade for s in steps if s.grade is not None]
    first = steps[0]
    donor = first.source if first.relation in {"secretes", "expresses"} else None
    pathways = [mg.kb.entity(p).name for seg in segments for a in sorted(seg) for p in free_pathways(by_id[a])]
    return Route(
        steps=steps,
        anchors=tuple(sorted(anchors)),
        sign=path_sign(s.sign for s in steps),
        grade=weakest_grade(grades),
        records=tuple(records),
        cargo=cargo,
        donor=donor,
        phenotype=steps[-1].source,
        therapy=steps[-1].target,
        segments=tuple(tuple(sorted(a)) for a in segments),
        context_records=tuple(sorted(a for a in anchors if not by_id[a].exosomal)),
        pathways=tuple(dict.fromkeys(pathways)),
    )
