"""Focused views of the graph as Cytoscape.js elements: the routes of a query, the neighbourhood
of a node, and more neighbours on demand (large networks freeze browsers; a view stays small).

An element has the attributes of the Cytoscape JSON export (:mod:`exoresist.graph.export.cyjs`):
nodes ``id``, ``name``, ``node_type``, ``label``, ``record``; edges ``id``, ``source``, ``target``,
``relation``, ``sign``, ``records``, ``grade`` and ``grades``; positions from the layered layout.

>>> from exoresist.kb import load_kb
>>> from exoresist.graph import build_graph, explain
>>> mg = build_graph(load_kb())
>>> view = focused_view(mg, explain(mg, cargo="circUHRF1", therapy="anti-PD-1").routes)
>>> view["n_nodes"] > 0, "entity:ent:circuhrf1" in {n["data"]["id"] for n in view["elements"]["nodes"]}
(True, True)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from exoresist.graph._build import MechanismGraph
from exoresist.graph._routes import EdgeKey, Route
from exoresist.graph.errors import GraphError
from exoresist.graph.export.cyjs import document

NEIGHBOURS_PER_NODE = 25
"""Neighbours a node brings into a view when it is expanded (the rest on the next request)."""


class UnknownNodeError(GraphError, LookupError):
    """A node id the graph does not have."""


def incident_edges(mg: MechanismGraph, node: str) -> list[EdgeKey]:
    """Every edge into or out of ``node``, ordered by the other end's type and label."""
    if node not in mg.graph:
        raise UnknownNodeError(f"no node '{node}' in the graph")
    edges = [(u, v, k) for u, v, k in mg.graph.in_edges(node, keys=True)] + [
        (u, v, k) for u, v, k in mg.graph.out_edges(node, keys=True)
    ]

    def other(e: EdgeKey) -> tuple[str, str, str]:
        n = e[0] if e[1] == node else e[1]
        data = mg.graph.nodes[n]
        return (str(data.get("node_type", "")), str(data.get("label", n)), n)

    return sorted(set(edges), key=lambda e: (other(e), e))


def focused_view(
    mg: MechanismGraph,
    routes: Iterable[Route] = (),
    *,
    expand: Sequence[str] = (),
    per_node: int = NEIGHBOURS_PER_NODE,
) -> dict[str, Any]:
    """The subgraph made of the edges of ``routes`` plus, for each node in ``expand``, its first
    ``per_node`` edges beyond the routes' (a node given twice brings ``2 * per_node``, and so on).

    Returns ``{"elements": {"nodes", "edges"}, "n_nodes", "n_edges", "hidden"}`` where ``hidden``
    maps each shown node to how many of its edges the view leaves out (what "fetch more" adds)."""
    if per_node < 1:
        raise ValueError("per_node must be at least 1")
    keep: set[EdgeKey] = {e for r in routes for e in r.edges}
    nodes: set[str] = {n for r in routes for n in r.nodes}
    route_edges = set(keep)
    for node in dict.fromkeys(expand):
        nodes.add(node)
        fresh = [e for e in incident_edges(mg, node) if e not in route_edges]
        keep.update(fresh[: expand.count(node) * per_node])
    sub = mg.graph.edge_subgraph(keep).copy() if keep else mg.graph.subgraph(nodes).copy()
    sub.add_nodes_from((n, mg.graph.nodes[n]) for n in nodes if n not in sub)
    view = MechanismGraph(kb=mg.kb, graph=sub, include_hypotheses=mg.include_hypotheses)
    elements = document(view)["elements"]
    hidden = {n: mg.graph.degree(n) - sub.degree(n) for n in sub}
    return {
        "elements": elements,
        "n_nodes": sub.number_of_nodes(),
        "n_edges": sub.number_of_edges(),
        "hidden": {n: h for n, h in sorted(hidden.items()) if h > 0},
    }
