"""A layered, left-to-right layout: donor cells -> cargos -> genes/pathways -> phenotypes ->
therapy classes -> therapies (interventions, when shown, sit left of the cells).

Molecular nodes are layered by their longest distance from a cargo along axis and leads_to
edges; within a layer, nodes are ordered by the barycentre of their neighbours (a few sweeps in
each direction), which keeps routes mostly straight.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

_FIXED = {"intervention": -1, "cell": 0, "cargo": 1}
_MAX_MOLECULAR_DEPTH = 4


def layers(graph: Any) -> dict[str, int]:
    """Layer index (0 = donor cells) of every node of ``graph``."""
    layer: dict[str, int] = {}
    molecular = [n for n, d in graph.nodes(data=True) if d["node_type"] in {"entity", "pathway"}]
    depth = dict.fromkeys(molecular, 0)
    for _ in range(len(molecular)):  # longest-path relaxation, bounded so cycles terminate
        changed = False
        for u, v, d in graph.edges(data=True):
            if v in depth and d["relation"] not in {"blocks", "taken_up_by"}:
                src = 0 if graph.nodes[u]["node_type"] == "cargo" else depth.get(u)
                if src is not None and src + 1 > depth[v] and src + 1 <= _MAX_MOLECULAR_DEPTH:
                    depth[v] = src + 1
                    changed = True
        if not changed:
            break
    top = max([1, *depth.values()])
    for n, d in graph.nodes(data=True):
        t = d["node_type"]
        if t in _FIXED:
            layer[n] = _FIXED[t]
        elif t in {"entity", "pathway"}:
            layer[n] = 1 + max(depth[n], 1)
        elif t == "phenotype":
            layer[n] = top + 2
        elif t == "therapy_class":
            layer[n] = top + 3
        else:  # therapy
            layer[n] = top + 4
    used = sorted(set(layer.values()))  # close the gaps left by empty layers
    return {n: used.index(v) for n, v in layer.items()}


def layered_positions(graph: Any, *, sweeps: int = 6, x_gap: float = 1.0, y_gap: float = 1.0) -> dict[str, tuple[float, float]]:
    """(x, y) of every node: x by layer, y by barycentre order within the layer (top = 0)."""
    layer = layers(graph)
    by_layer: dict[int, list[str]] = defaultdict(list)
    for n in sorted(layer, key=lambda n: (graph.nodes[n]["node_type"], str(graph.nodes[n].get("label", n)).casefold())):
        by_layer[layer[n]].append(n)
    neighbours: dict[str, set[str]] = defaultdict(set)
    for u, v in graph.edges():
        if u != v:
            neighbours[u].add(v)
            neighbours[v].add(u)
    order = sorted(by_layer)
    rank = {n: float(i) for nodes in by_layer.values() for i, n in enumerate(nodes)}
    for sweep in range(sweeps):
        seq = order if sweep % 2 == 0 else list(reversed(order))
        for li in seq:
            nodes = by_layer[li]
            size = len(nodes)

            def bary(n: str, size: int = size) -> float:
                near = [rank[m] / max(len(by_layer[layer[m]]) - 1, 1) for m in neighbours[n] if layer[m] != layer[n]]
                return sum(near) / len(near) if near else rank[n] / max(size - 1, 1)

            nodes.sort(key=bary)
            for i, n in enumerate(nodes):
                rank[n] = float(i)
    tallest = max((len(v) for v in by_layer.values()), default=1)
    pos: dict[str, tuple[float, float]] = {}
    for li, nodes in by_layer.items():
        offset = (tallest - len(nodes)) / 2.0  # centre short layers vertically
        for i, n in enumerate(nodes):
            pos[n] = (li * x_gap, -(offset + i) * y_gap)
    return pos
