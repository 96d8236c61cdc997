"""Graphviz DOT, written directly (no Graphviz needed): boxes coloured by node type, edges
green (activating) or red (inhibiting), left to right. Parallel edges stay parallel (the graph
is not ``strict``)."""

from __future__ import annotations

from exoresist.graph._build import MechanismGraph, edge_list
from exoresist.graph.style import EDGE_COLOURS, NODE_COLOURS

FORMAT = "dot"


def _q(text: object) -> str:
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def render(mg: MechanismGraph) -> str:
    lines = ["digraph exoresist {", "  rankdir=LR;", '  node [shape=box, style="rounded,filled", fontname="Helvetica"];']
    for n, d in sorted(mg.graph.nodes(data=True)):
        lines.append(
            f"  {_q(n)} [label={_q(d['label'])}, fillcolor={_q(NODE_COLOURS[d['node_type']])}, node_type={_q(d['node_type'])}];"
        )
    for u, v, k, d in edge_list(mg.graph):
        colour = EDGE_COLOURS[d["sign"]]
        head = "normal" if d["sign"] > 0 else "tee"
        records = ";".join(d["records"])
        lines.append(
            f"  {_q(u)} -> {_q(v)} [key={_q(k)}, label={_q(d['relation'])}, color={_q(colour)}, arrowhead={head}, "
            f"sign={d['sign']}, records={_q(records)}, grade={_q(d['grade'] or '')}];"
        )
    lines.append("}")
    return "\n".join(lines) + "\n"
