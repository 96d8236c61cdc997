"""A layered, left-to-right layout: donor cells -> cargos -> genes/pathways -> phenotypes ->
therapy classes -> therapies (interventions, when shown, sit left of the cells).

Molecular nodes are layered by their longest distance from a cargo along axis and leads_to
edges; within a layer, nodes are ordered by the barycentre of their neighbours (a few sweeps in
each direction), which keeps routes mostly straight.

A graph with ``becomes`` edges (a phenotype turning its recipient into a new cell state, the
donor of further records) is drawn in *stages*: the new cells, their cargos and what those act
on get their own block of cell / cargo / gene columns right of the phenotypes that produced
them. The phenotypes that end routes and the therapies stay in the last columns.
"""

from __future__ import annotations

from collections import defaultdict, deque
from typing import Any

_FIXED = {"intervention": -1, "cell": 0, "cargo": 1}
_MAX_MOLECULAR_DEPTH = 4
_SKIP = frozenset({"blocks", "taken_up_by"})


def stages(graph: Any) -> dict[str, int]:
    """Stage of every node: the fewest ``becomes`` edges on a path to it from a node no edge
    enters (0 for a graph without them). A cargo sits in the stage of its latest donor cell."""
    counted = [(u, v, d["relation"] == "becomes") for u, v, d in graph.edges(data=True) if d["relation"] not in _SKIP]
    out: dict[str, list[tuple[str, int]]] = defaultdict(list)
    entered: set[str] = set()
    for u, v, becomes in counted:
        out[u].append((v, int(becomes)))
        entered.add(v)
    stage = {n: 0 for n in graph if n not in entered}
    queue = deque(stage)
    while queue:  # 0-1 breadth-first search: ordinary edges cost 0, becomes edges 1
        u = queue.popleft()
        for v, cost in out[u]:
            if v not in stage or stage[u] + cost < stage[v]:
                stage[v] = stage[u] + cost
                (queue.append if cost else queue.appendleft)(v)
    for n in graph:
        stage.setdefault(n, 0)  # on a cycle no root reaches
    for n, d in graph.nodes(data=True):
        if d["node_type"] == "cargo":
            donors = [stage[u] for u, _, e in graph.in_edges(n, data=True) if e["relation"] == "secretes"]
            if donors:
                stage[n] = max(donors)
    return stage


def _depths(graph: Any) -> dict[str, int]:
    molecular = [n for n, d in graph.nodes(data=True) if d["node_type"] in {"entity", "pathway"}]
    depth = dict.fromkeys(molecular, 0)
    for _ in range(len(molecular)):  # longest-path relaxation, bounded so cycles terminate
        changed = False
        for u, v, d in graph.edges(data=True):
            if v in depth and d["relation"] not in _SKIP:
                src = 0 if graph.nodes[u]["node_type"] == "cargo" else depth.get(u)
                if src is not None and src + 1 > depth[v] and src + 1 <= _MAX_MOLECULAR_DEPTH:
                    depth[v] = src + 1
                    changed = True
        if not changed:
            break
    return depth


def changes_state(graph: Any, node: str) -> bool:
    """A phenotype with a ``becomes`` edge: drawn in its stage, not in the last phenotype column."""
    return any(d["relation"] == "becomes" for _, _, d in graph.out_edges(node, data=True))


def layers(graph: Any) -> dict[str, int]:
    """Layer index (0 = donor cells) of every node of ``graph``."""
    depth = _depths(graph)
    stage = stages(graph)
    top = max([1, *depth.values()])
    width = top + 3  # cell, cargo, molecular columns, state-changing phenotypes
    last = max([0, *(stage[n] for n, d in graph.nodes(data=True) if d["node_type"] in {"cell", "cargo", "entity", "pathway"})])
    final_phenotype = last * width + top + 2
    layer: dict[str, int] = {}
    for n, d in graph.nodes(data=True):
        t = d["node_type"]
        base = stage[n] * width
        if t == "intervention":
            layer[n] = _FIXED[t]
        elif t in _FIXED:
            layer[n] = base + _FIXED[t]
        elif t in {"entity", "pathway"}:
            layer[n] = base + 1 + max(depth[n], 1)
        elif t == "phenotype":
            layer[n] = base + top + 2 if changes_state(graph, n) else final_phenotype
        elif t == "therapy_class":
            layer[n] = final_phenotype + 1
        else:  # therapy
            layer[n] = final_phenotype + 2
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
