"""Cytoscape JSON (the ``.cyjs`` format Cytoscape desktop and Cytoscape.js read): one element
per node and per edge, with the layered layout as positions. Lists stay lists."""

from __future__ import annotations

import json
from typing import Any

from exoresist.graph._build import MechanismGraph, edge_list
from exoresist.graph._layout import layered_positions
from exoresist.graph.export._attrs import edge_id

FORMAT = "cyjs"
_SCALE = 100.0
"""Pixels per inch of the layout."""


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in data.items() if v is not None}


def document(mg: MechanismGraph) -> dict[str, Any]:
    pos = layered_positions(mg.graph)
    nodes = [
        {
            "data": {"id": n, "name": d["label"], **_jsonable(d)},
            "position": {"x": pos[n][0] * _SCALE, "y": -pos[n][1] * _SCALE},
        }
        for n, d in sorted(mg.graph.nodes(data=True))
    ]
    edges = [
        {"data": {"id": edge_id(u, v, k), "source": u, "target": v, "interaction": d["relation"], "key": k, **_jsonable(d)}}
        for u, v, k, d in edge_list(mg.graph)
    ]
    return {
        "format_version": "1.0",
        "generated_by": "exoresist",
        "target_cytoscapejs_version": "~3.0",
        "data": {"name": "exoresist mechanism graph", **_jsonable(dict(mg.graph.graph))},
        "elements": {"nodes": nodes, "edges": edges},
    }


def render(mg: MechanismGraph) -> str:
    return json.dumps(document(mg), indent=1, ensure_ascii=False) + "\n"
