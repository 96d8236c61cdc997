"""GraphML through networkx. Lists (records, grades) become '; '-joined strings; a missing grade
is left out. Edge keys (``<relation><sign>``) are written as GraphML edge ids."""

from __future__ import annotations

import networkx as nx

from exoresist.graph._build import MechanismGraph, edge_list
from exoresist.graph.export._attrs import flat

FORMAT = "graphml"


def render(mg: MechanismGraph) -> str:
    g = nx.MultiDiGraph()
    g.graph.update(flat(FORMAT, dict(mg.graph.graph)))
    for n, d in sorted(mg.graph.nodes(data=True)):
        g.add_node(n, **flat(FORMAT, d))
    for u, v, k, d in edge_list(mg.graph):
        g.add_edge(u, v, key=k, **flat(FORMAT, d))
    return "\n".join(nx.generate_graphml(g, encoding="utf-8", prettyprint=True)) + "\n"
