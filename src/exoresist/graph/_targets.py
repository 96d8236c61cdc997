"""Which nodes and interventions would remove the most resistance to a therapy if blocked.

For each node on a resistance route: the share of routes that pass through it, whether it is in
a minimum vertex cut between the sources and the therapy, and its betweenness centrality over the
union of the routes. Two cuts are computed with ``networkx.minimum_node_cut``: a *molecular* cut
(sources are the cargos; cells, phenotypes and therapies cannot be cut) and a cut *with cells*
(sources are the donor cells, which can then be cut too, as secretion blockade does).
An intervention cuts the routes through any node its ``blocks`` edges point at; a cell counts only
where it secretes an exosomal cargo for the route.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import networkx as nx

from exoresist.graph._build import UNPLACED, MechanismGraph, cell_label
from exoresist.graph._queries import resistance_routes
from exoresist.graph._routes import Route

_SOURCE = "__source__"
_SINK = "__sink__"
_UNCUTTABLE = frozenset({"phenotype", "therapy", "therapy_class"})


@dataclass(frozen=True)
class NodeTarget:
    node: str
    label: str
    node_type: str
    cell: str | None
    """The cell value the node is placed in (``None`` for cells, cargos between cells)."""
    routes_cut: int
    share: float
    in_min_cut: bool
    in_min_cut_with_cells: bool
    betweenness: float
    records: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "node": self.node,
            "label": self.label,
            "node_type": self.node_type,
            "cell": self.cell,
            "routes_cut": self.routes_cut,
            "share_of_routes": round(self.share, 4),
            "in_min_cut": self.in_min_cut,
            "in_min_cut_with_cells": self.in_min_cut_with_cells,
            "betweenness": round(self.betweenness, 4),
            "records": list(self.records),
        }


@dataclass(frozen=True)
class InterventionTarget:
    intervention: str
    label: str
    kind: str
    acts_on: tuple[str, ...]
    routes_cut: int
    share: float
    records: tuple[str, ...]
    claimed_blocks: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "intervention": self.intervention,
            "label": self.label,
            "kind": self.kind,
            "acts_on": list(self.acts_on),
            "routes_cut": self.routes_cut,
            "share_of_routes": round(self.share, 4),
            "records": list(self.records),
            "claimed_blocks": list(self.claimed_blocks),
        }


@dataclass(frozen=True)
class TargetReport:
    therapy: str
    n_routes: int
    min_cut: tuple[str, ...]
    min_cut_with_cells: tuple[str, ...]
    nodes: tuple[NodeTarget, ...]
    interventions: tuple[InterventionTarget, ...]
    labels: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": {"therapy": self.therapy},
            "n_routes": self.n_routes,
            "min_cut": [{"node": n, "label": self.labels[n]} for n in self.min_cut],
            "min_cut_with_cells": [{"node": n, "label": self.labels[n]} for n in self.min_cut_with_cells],
            "nodes": [t.to_dict() for t in self.nodes],
            "interventions": [t.to_dict() for t in self.interventions],
        }

    def text(self) -> str:
        lines = [
            f"{self.n_routes} resistance route(s) to {self.therapy}",
            f"minimum molecular cut ({len(self.min_cut)}): {', '.join(self.labels[n] for n in self.min_cut)}",
            f"minimum cut with cells ({len(self.min_cut_with_cells)}): "
            + ", ".join(self.labels[n] for n in self.min_cut_with_cells),
            "nodes (share of routes cut, betweenness, records):",
        ]
        for t in self.nodes:
            cut = " [min cut]" if t.in_min_cut else ""
            where = f", in {cell_label(t.cell)}s" if t.cell is not None and t.node_type != "cell" else ""
            lines.append(
                f"  {t.label} ({t.node_type}{where}){cut}: {t.share:.0%} of routes, {t.betweenness:.3f}; {', '.join(t.records)}"
            )
        lines.append("interventions:")
        for i in self.interventions:
            lines.append(
                f"  {i.label} ({i.kind}) on {', '.join(self.labels.get(n, n) for n in i.acts_on)}: {i.share:.0%} of routes"
            )
        return "\n".join(lines)


def _cut(routes: Iterable[Route], mg: MechanismGraph, *, with_cells: bool) -> set[str]:
    h = nx.DiGraph()
    for r in routes:
        nodes = list(r.nodes)
        if not with_cells and r.donor is not None:
            nodes = nodes[1:]
        # the route reaches the sink at its last phenotype; a chain's earlier phenotypes (and,
        # in the molecular cut, its later cells) are passed through but cannot be cut
        end = len(nodes) - 2
        keep = [
            n
            for i, n in enumerate(nodes[:end])
            if mg.graph.nodes[n]["node_type"] not in _UNCUTTABLE and (with_cells or mg.graph.nodes[n]["node_type"] != "cell")
        ]
        mapped = [*keep, _SINK]
        h.add_edge(_SOURCE, mapped[0])
        for u, v in itertools.pairwise(mapped):
            if u != v:
                h.add_edge(u, v)
    return set(nx.minimum_node_cut(h, _SOURCE, _SINK))


def _blockable(mg: MechanismGraph, route: Route) -> set[str]:
    """The nodes of ``route`` an intervention can act on: every molecular node and the pathways
    its records name beside their axes, but a cell only where it secretes an exosomal cargo for the
    route (blocking exosome release from a CAF does not stop the IL-6/IL-8 it secretes, nor from an
    HCC cell a cargo that acts inside the cell that makes it)."""
    cells = {
        s.source
        for s in route.steps
        if s.relation == "secretes" and any(a in s.records and a not in route.context_records for a in route.anchors)
    }
    annotated = {mg.entity_node(p) for p in route.pathways}
    return {n for n in route.nodes if mg.graph.nodes[n]["node_type"] != "cell"} | cells | annotated


def targets(mg: MechanismGraph, *, therapy: str, top: int | None = None) -> TargetReport:
    """Nodes and interventions ranked by the share of resistance routes to ``therapy`` they cut."""
    found = resistance_routes(mg, therapy)
    n = len(found)
    cut = _cut(found, mg, with_cells=False)
    cut_cells = _cut(found, mg, with_cells=True)
    union = nx.DiGraph()
    for r in found:
        union.add_edges_from(zip(r.nodes, r.nodes[1:], strict=False))
    betweenness: dict[str, float] = nx.betweenness_centrality(union)

    through: dict[str, list[Route]] = {}
    for r in found:
        for node in dict.fromkeys(r.nodes):
            through.setdefault(node, []).append(r)
    ranked: list[NodeTarget] = []
    for node, rs in through.items():
        ntype = mg.graph.nodes[node]["node_type"]
        if ntype in {"therapy", "therapy_class"}:
            continue
        records = {rec for r in rs for s in r.steps if node in (s.source, s.target) for rec in s.records}
        ranked.append(
            NodeTarget(
                node,
                mg.label(node),
                ntype,
                cell if (cell := mg.cell_of(node)) != UNPLACED else None,
                len(rs),
                len(rs) / n,
                node in cut,
                node in cut_cells,
                betweenness.get(node, 0.0),
                tuple(sorted(records)),
            )
        )
    ranked.sort(key=lambda t: (-t.routes_cut, not t.in_min_cut, -t.betweenness, t.node))

    ivs: list[InterventionTarget] = []
    for iv_node, data in mg.graph.nodes(data=True):
        if data["node_type"] != "intervention":
            continue
        acts_on = tuple(sorted(v for _, v, d in mg.graph.out_edges(iv_node, data=True) if d["relation"] == "blocks"))
        hit = [r for r in found if set(acts_on) & _blockable(mg, r)]
        if not hit:
            continue
        rec = mg.kb.get(data["record"])
        blocks = tuple(getattr(rec, "blocks", ()))
        iv_records = tuple(sorted({data["record"], *(a for r in hit for a in r.anchors)}))
        ivs.append(
            InterventionTarget(
                iv_node, data["label"], data.get("intervention_kind", ""), acts_on, len(hit), len(hit) / n, iv_records, blocks
            )
        )
    ivs.sort(key=lambda t: (-t.routes_cut, t.intervention))
    if top is not None:
        ranked = ranked[:top]
        ivs = ivs[:top]
    labels = {node: mg.place_label(node) for node in [*through, *cut, *cut_cells, *(a for i in ivs for a in i.acts_on)]}
    return TargetReport(therapy, n, tuple(sorted(cut)), tuple(sorted(cut_cells)), tuple(ranked), tuple(ivs), labels)
