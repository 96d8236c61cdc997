"""CX2, the NDEx/Cytoscape exchange format (CX version 2.0).

Written from the specification: a list of aspects -- ``CXVersion``, ``metaData`` (element
counts), ``attributeDeclarations``, ``networkAttributes``, ``nodes`` (integer ``id``, values in
``v``, layout ``x``/``y``), ``edges`` (integer ``id``, ``s``, ``t``, values in ``v``) and
``status``. Every attribute is declared with one CX2 data type; :func:`validate` checks a
document against these rules (the tests also read it with the ``ndex2`` package).
"""

from __future__ import annotations

import json
from typing import Any

from exoresist.graph._build import MechanismGraph, edge_list
from exoresist.graph._layout import layered_positions
from exoresist.graph.errors import UnsupportedFeatureError

FORMAT = "cx2"
_SCALE = 100.0
"""Pixels per inch of the layout."""
_PY_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "long": (int,),
    "double": (float, int),
    "boolean": (bool,),
}


def _cx2_type(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        inner = {_cx2_type(key, x) for x in value if x is not None}
        if len(inner) > 1 or any(x is None for x in value):
            raise UnsupportedFeatureError(FORMAT, f"attribute '{key}': a list mixing types or holding nulls")
        return f"list_of_{inner.pop() if inner else 'string'}"
    raise UnsupportedFeatureError(FORMAT, f"attribute '{key}' of type {type(value).__name__}")


def _values(data: dict[str, Any], decl: dict[str, dict[str, str]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in data.items():
        if v is None:
            continue
        if isinstance(v, (list, tuple)) and any(x is None for x in v) and all(isinstance(x, str) or x is None for x in v):
            v = ["" if x is None else x for x in v]  # a structural edge has no grade: written as ""
        t = _cx2_type(k, v)
        if k in decl and decl[k]["d"] != t:
            raise UnsupportedFeatureError(FORMAT, f"attribute '{k}' with values of two types ({decl[k]['d']} and {t})")
        decl.setdefault(k, {"d": t})
        out[k] = list(v) if isinstance(v, tuple) else v
    return out


def document(mg: MechanismGraph) -> list[dict[str, Any]]:
    pos = layered_positions(mg.graph)
    decl: dict[str, dict[str, dict[str, str]]] = {"networkAttributes": {}, "nodes": {}, "edges": {}}
    net = _values({"name": "exoresist mechanism graph", **dict(mg.graph.graph)}, decl["networkAttributes"])
    index: dict[str, int] = {}
    nodes: list[dict[str, Any]] = []
    for i, (n, d) in enumerate(sorted(mg.graph.nodes(data=True))):
        index[n] = i
        values = _values({"name": d["label"], "node_id": n, **{k: v for k, v in d.items() if k != "label"}}, decl["nodes"])
        nodes.append({"id": i, "v": values, "x": pos[n][0] * _SCALE, "y": -pos[n][1] * _SCALE})
    edges: list[dict[str, Any]] = []
    for i, (u, v, k, d) in enumerate(edge_list(mg.graph)):
        values = _values(
            {"interaction": d["relation"], "key": k, **{a: b for a, b in d.items() if a != "relation"}}, decl["edges"]
        )
        edges.append({"id": i, "s": index[u], "t": index[v], "v": values})
    return [
        {"CXVersion": "2.0", "hasFragments": False},
        {
            "metaData": [
                {"name": "attributeDeclarations", "elementCount": 1},
                {"name": "networkAttributes", "elementCount": 1},
                {"name": "nodes", "elementCount": len(nodes)},
                {"name": "edges", "elementCount": len(edges)},
            ]
        },
        {"attributeDeclarations": [decl]},
        {"networkAttributes": [net]},
        {"nodes": nodes},
        {"edges": edges},
        {"status": [{"error": "", "success": True}]},
    ]


def render(mg: MechanismGraph) -> str:
    return json.dumps(document(mg), indent=1, ensure_ascii=False) + "\n"


def validate(doc: Any) -> list[str]:
    """Problems with a CX2 document (empty when it follows the CX2 structure rules)."""
    problems: list[str] = []
    if not isinstance(doc, list) or not doc:
        return ["a CX2 document is a non-empty JSON array of aspects"]
    if not (isinstance(doc[0], dict) and doc[0].get("CXVersion") == "2.0"):
        problems.append("the first aspect must be {'CXVersion': '2.0', ...}")
    aspects: dict[str, list[Any]] = {}
    for a in doc[1:]:
        if not isinstance(a, dict) or len(a) != 1:
            problems.append(f"an aspect must be an object with one key, got {a!r:.60}")
            continue
        ((name, body),) = a.items()
        if not isinstance(body, list):
            problems.append(f"aspect '{name}' must hold a list")
            continue
        aspects[name] = body
    if ("status" in aspects and not isinstance(doc[-1], dict)) or "status" not in doc[-1]:
        problems.append("the last aspect must be 'status'")
    decl = (aspects.get("attributeDeclarations") or [{}])[0]
    node_ids: set[int] = set()
    for n in aspects.get("nodes", []):
        if not isinstance(n.get("id"), int):
            problems.append(f"node without an integer id: {n!r:.60}")
            continue
        if n["id"] in node_ids:
            problems.append(f"duplicate node id {n['id']}")
        node_ids.add(n["id"])
        problems += _check_values("nodes", n.get("v", {}), decl)
    edge_ids: set[int] = set()
    for e in aspects.get("edges", []):
        if not all(isinstance(e.get(k), int) for k in ("id", "s", "t")):
            problems.append(f"edge needs integer id, s and t: {e!r:.60}")
            continue
        if e["id"] in edge_ids:
            problems.append(f"duplicate edge id {e['id']}")
        edge_ids.add(e["id"])
        if e["s"] not in node_ids or e["t"] not in node_ids:
            problems.append(f"edge {e['id']} refers to a missing node")
        problems += _check_values("edges", e.get("v", {}), decl)
    for net in aspects.get("networkAttributes", []):
        problems += _check_values("networkAttributes", net, decl)
    for m in next((a["metaData"] for a in doc if isinstance(a, dict) and "metaData" in a), []):
        if m.get("name") in ("nodes", "edges") and m.get("elementCount") != len(aspects.get(m["name"], [])):
            problems.append(f"metaData count of {m['name']} is {m.get('elementCount')}, found {len(aspects.get(m['name'], []))}")
    return problems


def _check_values(aspect: str, values: dict[str, Any], decl: dict[str, Any]) -> list[str]:
    out: list[str] = []
    declared = decl.get(aspect, {})
    for k, v in values.items():
        if k not in declared:
            out.append(f"{aspect} attribute '{k}' is not declared")
            continue
        t = declared[k].get("d", "string")
        if t.startswith("list_of_"):
            ok = isinstance(v, list) and all(isinstance(x, _PY_TYPES[t.removeprefix("list_of_")]) for x in v)
        else:
            ok = isinstance(v, _PY_TYPES[t]) and not (t != "boolean" and isinstance(v, bool))
        if not ok:
            out.append(f"{aspect} attribute '{k}' = {v!r:.40} is not a {t}")
    return out
