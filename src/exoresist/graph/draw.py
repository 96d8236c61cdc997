"""Figures of the mechanism graph: one lane per cell, steps left to right, nodes coloured by
type, edges by sign; no edge passes through a box (see :mod:`exoresist.graph._layout`).

Uses matplotlib's object API with the Agg canvas (no pyplot, no global state).
"""

from __future__ import annotations

import io
import re
import textwrap
from collections import defaultdict
from pathlib import Path
from typing import Any

from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import ArrowStyle, FancyArrowPatch, FancyBboxPatch, Patch, Rectangle
from matplotlib.path import Path as MplPath

from exoresist.atomic import write_bytes as atomic_write_bytes
from exoresist.graph._build import TRANSFER_RELATIONS, MechanismGraph, cell_label
from exoresist.graph._layout import Layout, layout
from exoresist.graph._routes import find_routes
from exoresist.graph.errors import NoRouteError, UnknownFormatError
from exoresist.graph.style import EDGE_COLOURS, FIGURE_FORMATS, NODE_COLOURS

_LEGEND = {
    "cargo": "cargo, in the cell it acts in",
    "entity": "gene / RNA / metabolite",
    "therapy_class": "therapy class",
}
_BECOMES_COLOUR = "#7b4fa0"
_CONTEXT_FILL = "#ffffff"
"""Nodes only non-exosomal context records name: white with a dashed outline."""


def subgraph_for(mg: MechanismGraph, *, therapy: str | None = None, cargo: str | None = None, interventions: bool = False) -> Any:
    """The part of the graph a figure shows: the routes to ``therapy`` and/or from ``cargo``
    (every route of the cargo when no therapy is given), or the whole graph without the class ->
    drug edges. Interventions and their ``blocks`` edges only when asked for."""
    g = mg.graph
    if therapy is None and cargo is None:
        keep_edges = [(u, v, k) for u, v, k, d in g.edges(keys=True, data=True) if d["relation"] != "includes"]
    else:
        found = find_routes(mg, therapy, cargo=cargo)  # therapy None: routes to any therapy
        if not found:
            raise NoRouteError(f"no route to draw for therapy={therapy!r} cargo={cargo!r}")
        keep_edges = sorted({e for r in found for e in r.edges})
    keep_nodes = {n for e in keep_edges for n in e[:2]}
    if interventions:
        for u, v, k, d in g.edges(keys=True, data=True):
            if d["relation"] == "blocks" and v in keep_nodes:
                keep_edges.append((u, v, k))
                keep_nodes.add(u)
    else:
        keep_edges = [e for e in keep_edges if g.nodes[e[0]]["node_type"] != "intervention"]
        keep_nodes = {n for e in keep_edges for n in e[:2]}
    return g.edge_subgraph(keep_edges).copy()


def context_marks(mg: MechanismGraph, sub: Any | None = None) -> tuple[set[str], set[str]]:
    """The records without an exosomal step (``exosomal: false``), and the nodes of ``sub`` (default:
    the whole graph) that only such records name: figures mark both, so context never passes for
    exosomal transfer."""
    context = {m.id for m in mg.mechanisms() if not m.exosomal}
    g = mg.graph if sub is None else sub
    named: dict[str, set[str]] = defaultdict(set)
    for u, v, d in mg.graph.edges(data=True):
        if d["relation"] in {"blocks", "includes"}:
            continue
        for n in (u, v):
            if mg.graph.nodes[n]["node_type"] in {"cargo", "entity", "pathway"}:
                named[n].update(d["records"])
    return context, {n for n in g if named.get(n) and named[n] <= context}


_FONT = 8.0
"""Node label size, points: legible when the figure is printed at page width (see docs/graph.md)."""
_WRAP = 13
_MARGIN = 0.15
_TRANSFER_COLOUR = "#2f5f9e"
_TRANSFER = frozenset({"secretes", "taken_up_by", "acts_on", "travels"})
_MADE_COLOUR = "#8a8a8a"
_ARROW = ArrowStyle.CurveFilledB(head_length=0.35, head_width=0.18)
_BAR = ArrowStyle.BracketB(widthB=0.35, lengthB=0.0)
_LANE_FILLS = ("#f3f1ea", "#e9eef4")


def node_label(sub: Any, node: str) -> str:
    """The text of a node's box: its label, wrapped at spaces, and at hyphens between two parts of
    four letters or more ('cisplatin-' / 'resistant', never 'NF-' / 'κB')."""
    label = str(sub.nodes[node]["label"])
    if sub.nodes[node]["node_type"] == "cargo":  # kept between cells where an intervention acts on it
        label += " (between cells)"
    words = [w for part in label.split() for w in _hyphen_parts(part)]
    lines: list[str] = []
    for w in words:
        sep = "" if lines and lines[-1].endswith(("-", "/")) else " "
        if lines and len(lines[-1]) + len(sep) + len(w) <= _WRAP:
            lines[-1] += sep + w
        else:
            lines.append(w)
    return "\n".join(lines)


def _hyphen_parts(word: str) -> list[str]:
    """A word too long for a line, split after the slashes, and the hyphens between two parts of
    four letters or more, that may end a line ('β1-integrin/' / 'NF-κB', 'cisplatin-' / 'resistant')."""
    if len(word) <= _WRAP:
        return [word]
    out = [""]
    for i, ch in enumerate(word):
        out[-1] += ch
        rest = word[i + 1 :]
        before = re.split(r"[-/]", out[-1][:-1])[-1]
        after = re.split(r"[-/]", rest)[0]
        if (ch == "/" and rest) or (ch == "-" and len(before) >= 4 and len(after) >= 4):
            out.append("")
    return [w for w in out if w]


def drawn_graph(sub: Any) -> Any:
    """The graph as drawn: a cargo between cells becomes the edges of its journey, donor cell ->
    the cargo in each recipient cell (``travels``, with the records of the uptake), unless an
    intervention drawn in the figure acts on it there. Everything else is kept as it is."""
    out = sub.copy()
    for n, d in sub.nodes(data=True):
        if d["node_type"] != "cargo" or any(sub.nodes[u]["node_type"] == "intervention" for u in sub.predecessors(n)):
            continue
        donors = [(u, e) for u, _, e in sub.in_edges(n, data=True) if e["relation"] == "secretes"]
        arrivals = [(v, e) for _, v, e in sub.out_edges(n, data=True) if e["relation"] in TRANSFER_RELATIONS]
        if not donors or not arrivals or sub.out_degree(n) != len(arrivals):
            continue
        for u, sec in donors:
            for v, arr in arrivals:
                records = tuple(sorted(set(sec["records"]) & set(arr["records"])))
                if not records:
                    continue
                grades = tuple(arr["grades"][arr["records"].index(r)] for r in records)
                out.add_edge(
                    u,
                    v,
                    key=f"travels_{arr['relation']}+",
                    relation="travels",
                    via=arr["relation"],
                    sign=1,
                    cell=arr["cell"],
                    records=records,
                    grades=grades,
                    grade=arr["grade"],
                )
        out.remove_node(n)
    return out


def figure_layout(
    mg: MechanismGraph, sub: Any, renderer: Any, *, font: float = _FONT
) -> tuple[Layout, dict[str, str], set[str], set[str]]:
    """The layout of ``sub`` with boxes sized to the measured labels; also the labels, the records
    without an exosomal step and the nodes only they name."""
    context, context_nodes = context_marks(mg, sub)
    labels = {n: node_label(sub, n) for n in sub}
    probe = Figure(dpi=100)
    FigureCanvasAgg(probe)
    sizes: dict[str, tuple[float, float]] = {}
    for n, text in labels.items():
        t = probe.text(0, 0, text, fontsize=font)
        ext = t.get_window_extent(renderer if renderer is not None else probe.canvas.get_renderer())  # type: ignore[attr-defined]
        dpi = probe.dpi
        sizes[n] = (ext.width / dpi + 2 * _PAD, ext.height / dpi + 2 * _PAD)
    return layout(sub, sizes), labels, context, context_nodes


_PAD = 0.05
"""Space between a label and its box, inches."""


def draw(
    mg: MechanismGraph,
    *,
    therapy: str | None = None,
    cargo: str | None = None,
    interventions: bool = False,
    title: str | None = None,
) -> Figure:
    """A figure of the whole graph or of the routes to ``therapy`` / from ``cargo``: one lane per
    cell, steps left to right, boxes coloured by node type, edges by sign (arrow +, bar -)."""
    sub = drawn_graph(subgraph_for(mg, therapy=therapy, cargo=cargo, interventions=interventions))
    lay, labels, context, context_nodes = figure_layout(mg, sub, None)
    handles = _legend(mg, sub, context, context_nodes)
    fig_w = lay.width + 2 * _MARGIN
    per_row = max(1, int(fig_w // 2.3))
    legend_h = 0.2 * -(-len(handles) // per_row) + 0.1
    what = title or _title(mg, therapy, cargo)
    if title is None and context_nodes:
        what += " (dashed: non-exosomal context)"
    what = textwrap.fill(what, max(40, int(fig_w * 11)))
    title_h = 0.25 * (what.count("\n") + 1) + 0.1
    fig_h = lay.height + legend_h + title_h + 2 * _MARGIN
    fig = Figure(figsize=(fig_w, fig_h), dpi=150)
    FigureCanvasAgg(fig)
    top = max([*(b.y + b.h / 2 for b in lay.boxes.values()), *(t for t, _ in lay.lanes.values())])
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_axis_off()
    ax.set_xlim(-_MARGIN, lay.width + _MARGIN)
    ax.set_ylim(top - lay.height - legend_h - _MARGIN, top + title_h + _MARGIN)
    _draw_lanes(ax, lay)
    _draw_boxes(ax, mg, sub, lay, labels, context_nodes)
    _draw_edges(ax, sub, lay, context)
    fig.legend(handles=handles, loc="lower center", ncol=per_row, fontsize=_FONT - 0.5, frameon=False, bbox_to_anchor=(0.5, 0.0))
    fig.suptitle(what, fontsize=_FONT + 2, y=1.0 - _MARGIN / fig_h, va="top")
    return fig


def _draw_lanes(ax: Any, lay: Layout) -> None:
    """A band per cell, titled at the left of the first column of placed nodes (interventions, when
    drawn, float left of it)."""
    x0 = min([b.x - b.w / 2 for n, b in lay.boxes.items() if lay.lane[n] in lay.lanes] or [0.0]) - _MARGIN / 3
    for i, (lane, (y_top, y_bottom)) in enumerate(sorted(lay.lanes.items(), key=lambda t: -t[1][0])):
        ax.add_patch(
            Rectangle(
                (-_MARGIN / 2, y_bottom), lay.width + _MARGIN, y_top - y_bottom, facecolor=_LANE_FILLS[i % 2], lw=0, zorder=0
            )
        )
        ax.text(x0, y_top - 0.03, f"in {cell_label(lane)}s", ha="left", va="top", fontsize=_FONT - 0.5, style="italic")


def _draw_boxes(ax: Any, mg: MechanismGraph, sub: Any, lay: Layout, labels: dict[str, str], context_nodes: set[str]) -> None:
    for n, box in lay.boxes.items():
        dashed = n in context_nodes
        ax.add_patch(
            FancyBboxPatch(
                (box.x - box.w / 2, box.y - box.h / 2),
                box.w,
                box.h,
                boxstyle="round,pad=0,rounding_size=0.04",
                facecolor=_CONTEXT_FILL if dashed else NODE_COLOURS[_colour_type(mg, sub, n)],
                edgecolor="#555555",
                linewidth=0.9 if dashed else 0.5,
                linestyle="--" if dashed else "-",
                zorder=3,
            )
        )
        ax.text(box.x, box.y, labels[n], ha="center", va="center", fontsize=_FONT, zorder=4)


def _edge_colour(relation: str, sign: int) -> str:
    if relation == "includes":
        return "#888888"
    if relation == "becomes":
        return _BECOMES_COLOUR
    if relation == "expresses":
        return _MADE_COLOUR
    if relation in _TRANSFER:
        return _TRANSFER_COLOUR
    return EDGE_COLOURS[sign]


def _draw_edges(ax: Any, sub: Any, lay: Layout, context: set[str]) -> None:
    """Each edge along its path; an arrowhead for a raising step, a bar for a lowering one."""
    for (u, v, k), pieces in lay.paths.items():
        data = sub.edges[u, v, k]
        rel = data["relation"]
        only_context = set(data["records"]) <= context
        linestyle = "--" if rel in {"blocks", "includes"} else ":" if only_context else "-"
        if data["sign"] < 0:  # the bar of an inhibition stands just in front of the box
            last = pieces[-1]
            pieces = [*pieces[:-1], [*last[:-1], (last[-1][0] - 0.03, last[-1][1])]]
        verts: list[tuple[float, float]] = [pieces[0][0]]
        codes = [MplPath.MOVETO]
        for piece in pieces:
            verts += piece[1:]
            codes += [MplPath.CURVE4] * 3 if len(piece) == 4 else [MplPath.LINETO]
        head = _ARROW if data["sign"] > 0 else _BAR
        ax.add_patch(
            FancyArrowPatch(
                path=MplPath(verts, codes),
                arrowstyle=head,
                mutation_scale=10,
                linewidth=0.9,
                color=_edge_colour(rel, data["sign"]),
                alpha=0.8,
                linestyle=linestyle,
                shrinkA=0,
                shrinkB=0,
                zorder=2,
            )
        )


def _legend(mg: MechanismGraph, sub: Any, context: set[str], context_nodes: set[str]) -> list[Artist]:
    handles: list[Artist] = [
        Patch(facecolor=c, edgecolor="#555555", label=_LEGEND.get(t, t))
        for t, c in NODE_COLOURS.items()
        if any(_colour_type(mg, sub, n) == t for n in sub)
    ]
    if context_nodes:
        handles.append(Patch(facecolor=_CONTEXT_FILL, edgecolor="#555555", linestyle="--", label="non-exosomal context"))
    handles += [
        Line2D([], [], color=EDGE_COLOURS[1], label="raises (+)"),
        Line2D([], [], color=EDGE_COLOURS[-1], label="lowers (−)"),
    ]
    edges = [d for *_, d in sub.edges(keys=True, data=True)]
    relations = {d["relation"] for d in edges}
    if relations & _TRANSFER:
        handles.append(Line2D([], [], color=_TRANSFER_COLOUR, label="secreted and taken up"))
    if "expresses" in relations:
        handles.append(Line2D([], [], color=_MADE_COLOUR, label="acts in the cell that makes it"))
    if "becomes" in relations:
        handles.append(Line2D([], [], color=_BECOMES_COLOUR, label="becomes (cell turns into a donor)"))
    if any(set(d["records"]) <= context for d in edges):
        handles.append(Line2D([], [], color="#555555", linestyle=":", label="claimed only by non-exosomal records"))
    return handles


def _colour_type(mg: MechanismGraph, sub: Any, node: str) -> str:
    """Node type for the colour: a cargo inside the cell it acts in is drawn as a cargo."""
    d = sub.nodes[node]
    if d["node_type"] in {"entity", "pathway"}:
        arrives = {e["relation"] for _, _, e in mg.graph.in_edges(node, data=True)}
        if "@" in node and (arrives & {"taken_up_by", "acts_on", "expresses"} or not arrives):
            return "cargo"
    return str(d["node_type"])


def _title(mg: MechanismGraph, therapy: str | None, cargo: str | None) -> str:
    hyp = " (with hypotheses)" if mg.include_hypotheses else ""
    if therapy and cargo:
        return f"How {mg.kb.entity(cargo).name} confers resistance to {therapy}{hyp}"
    if therapy:
        return f"Exosome-mediated routes of resistance to {therapy}{hyp}"
    if cargo:
        return f"Routes of {mg.kb.entity(cargo).name}{hyp}"
    return f"exoresist mechanism graph: {mg.graph.graph.get('n_mechanisms', '?')} mechanisms{hyp}"


def save_figure(fig: Figure, path: Path | str) -> Path:
    """Save ``fig`` atomically; the format follows the suffix (png, svg or pdf)."""
    out = Path(path)
    fmt = out.suffix.lstrip(".").lower()
    if fmt not in FIGURE_FORMATS:
        raise UnknownFormatError(fmt or str(out), list(FIGURE_FORMATS))
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, bbox_inches="tight")
    atomic_write_bytes(out, buf.getvalue())
    return out
