"""Figures of the mechanism graph: layered left to right, nodes coloured by type, edges by sign.

Uses matplotlib's object API with the Agg canvas (no pyplot, no global state).
"""

from __future__ import annotations

import io
import math
import textwrap
from pathlib import Path
from typing import Any

from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch, Patch
from matplotlib.text import Text

from exoresist.atomic import write_bytes as atomic_write_bytes
from exoresist.graph._build import MechanismGraph
from exoresist.graph._layout import changes_state, layered_positions, layers, stages
from exoresist.graph._routes import find_routes
from exoresist.graph.errors import NoRouteError, UnknownFormatError
from exoresist.graph.style import EDGE_COLOURS, NODE_COLOURS

FIGURE_FORMATS = ("png", "svg", "pdf")
_LEGEND = {"entity": "gene / RNA / metabolite", "cargo": "exosomal cargo (→ recipient cells)", "therapy_class": "therapy class"}
_COLUMN_TITLES = {
    "intervention": "interventions",
    "cell": "donor cells",
    "cargo": "cargos",
    "entity": "genes / RNAs / pathways",
    "phenotype": "phenotypes",
    "therapy_class": "therapy classes",
    "therapy": "therapies",
}
_LATER_STAGE_TITLES = {"cell": "cells they become", "cargo": "their cargos"}
_BOX_PAD = 0.25
_BECOMES_COLOUR = "#7b4fa0"
_CONTEXT_FILL = "#ffffff"
"""Non-exosomal context cargos: white with a dashed outline and '(non-exosomal)' in the label."""


def subgraph_for(mg: MechanismGraph, *, therapy: str | None = None, cargo: str | None = None, interventions: bool = False) -> Any:
    """The part of the graph a figure shows: the routes to ``therapy`` and/or from ``cargo``
    (every route of the cargo when no therapy is given), or the whole graph without recipient
    edges. Interventions and their ``blocks`` edges only when asked for."""
    g = mg.graph
    if therapy is None and cargo is None:
        keep_edges = [(u, v, k) for u, v, k, d in g.edges(keys=True, data=True) if d["relation"] != "taken_up_by"]
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


def context_marks(mg: MechanismGraph) -> tuple[set[str], set[str]]:
    """The records without an exosomal step (``exosomal: false``), and the cargo nodes that only
    such records name: figures mark both, so context never passes for exosomal transfer."""
    context = {m.id for m in mg.mechanisms() if not m.exosomal}
    named: dict[str, set[str]] = {}
    for m in mg.mechanisms():
        named.setdefault(mg.entity_node(m.cargo), set()).add(m.id)
    return context, {n for n, recs in named.items() if recs <= context}


def _recipients(mg: MechanismGraph, node: str) -> list[str]:
    return sorted(mg.label(v) for _, v, d in mg.graph.out_edges(node, data=True) if d["relation"] == "taken_up_by")


def draw(
    mg: MechanismGraph,
    *,
    therapy: str | None = None,
    cargo: str | None = None,
    interventions: bool = False,
    title: str | None = None,
) -> Figure:
    """A layered figure of the whole graph or of the routes to ``therapy`` / from ``cargo``."""
    sub = subgraph_for(mg, therapy=therapy, cargo=cargo, interventions=interventions)
    pos = layered_positions(sub, x_gap=1.0, y_gap=1.0)
    lay = layers(sub)
    n_layers = max(lay.values()) + 1
    tallest = max(sum(1 for v in lay.values() if v == i) for i in range(n_layers))
    big = sub.number_of_nodes() > 60
    font = 6.5 if big else 8.5
    width = max(10.0, 2.6 * n_layers)
    height = max(5.0, 0.42 * tallest + 1.6) if big else max(4.5, 0.45 * tallest + 1.8)
    fig = Figure(figsize=(width, height), dpi=150)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.01, 0.06, 0.98, 0.86))
    ax.set_axis_off()

    context, context_cargos = context_marks(mg)
    stage = stages(sub)
    boxes: dict[str, Text] = {}
    for n, (x, y) in pos.items():
        d = sub.nodes[n]
        label = str(d["label"])
        is_context = n in context_cargos
        if is_context:
            label += " (non-exosomal)"
        if d["node_type"] == "cargo":
            rec = _recipients(mg, n)
            if rec:
                label += "\n→ " + ", ".join(rec)
        label = "\n".join(textwrap.fill(part, 26) for part in label.split("\n"))
        boxes[n] = ax.text(
            x,
            y,
            label,
            ha="center",
            va="center",
            fontsize=font,
            zorder=3,
            bbox={
                "boxstyle": f"round,pad={_BOX_PAD}",
                "facecolor": _CONTEXT_FILL if is_context else NODE_COLOURS[d["node_type"]],
                "edgecolor": "#555555",
                "linewidth": 0.9 if is_context else 0.5,
                "linestyle": "--" if is_context else "-",
            },
        )
    # column titles
    top = max(y for _, y in pos.values()) + 0.9
    titles: dict[tuple[int, str], float] = {}  # one title per kind of column and stage, over its first column
    for n, _layer in sorted(lay.items(), key=lambda t: t[1]):
        ntype = "entity" if sub.nodes[n]["node_type"] == "pathway" else sub.nodes[n]["node_type"]
        st = stage[n] if ntype in {"cell", "cargo", "entity"} else 0
        text = _LATER_STAGE_TITLES.get(ntype, "") if st else ""
        if ntype == "phenotype":
            text = "cell-state changes" if changes_state(sub, n) else "phenotypes"
        titles.setdefault((st, text or _COLUMN_TITLES.get(ntype, ntype)), pos[n][0])
    for (_, text), x in titles.items():
        ax.text(x, top, text, ha="center", va="bottom", fontsize=font + 1.5, weight="bold")
    xs = [x for x, _ in pos.values()]
    ys = [y for _, y in pos.values()]
    ax.set_xlim(min(xs) - 0.6, max(xs) + 0.6)
    ax.set_ylim(min(ys) - 0.8, top + 0.6)
    # edges behind the boxes, ending at each box's outline so that arrowheads stay visible
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    half = {n: _half_size(t, renderer, fig.dpi) for n, t in boxes.items()}
    for u, v, _k, d in sub.edges(keys=True, data=True):
        (x0, y0), (x1, y1) = pos[u], pos[v]
        colour = (
            "#888888"
            if d["relation"] in {"includes"}
            else _BECOMES_COLOUR
            if d["relation"] == "becomes"
            else EDGE_COLOURS[d["sign"]]
        )
        only_context = set(d["records"]) <= context
        linestyle = "--" if d["relation"] in {"blocks", "includes"} else ":" if only_context else "-"
        style = "-|>" if d["sign"] > 0 else "-["
        # edges within or backwards across layers bend; long forward edges arc a little so
        # they do not run straight through the boxes of the columns they skip
        rad = 0.35 if x1 <= x0 else 0.0 if lay[v] - lay[u] == 1 else 0.12
        start, end = ax.transData.transform((x0, y0)), ax.transData.transform((x1, y1))
        ax.add_patch(
            FancyArrowPatch(
                (x0, y0),
                (x1, y1),
                arrowstyle=style,
                mutation_scale=7,
                linewidth=0.8 if big else 1.1,
                color=colour,
                alpha=0.55,
                connectionstyle=f"arc3,rad={rad}",
                shrinkA=_to_points(_exit(half[u], end - start), fig.dpi) + 1,
                shrinkB=_to_points(_exit(half[v], start - end), fig.dpi) + 2,
                linestyle=linestyle,
                zorder=1,
            )
        )
    handles: list[Artist] = [
        Patch(facecolor=c, edgecolor="#555555", label=_LEGEND.get(t, t))
        for t, c in NODE_COLOURS.items()
        if any(sub.nodes[n]["node_type"] == t for n in sub)
    ]
    if any(n in context_cargos for n in sub):
        handles.append(Patch(facecolor=_CONTEXT_FILL, edgecolor="#555555", linestyle="--", label="non-exosomal context"))
    handles += [
        Line2D([], [], color=EDGE_COLOURS[1], label="activating (+)"),
        Line2D([], [], color=EDGE_COLOURS[-1], label="inhibiting (−)"),
    ]
    if any(d["relation"] == "becomes" for *_, d in sub.edges(keys=True, data=True)):
        handles.append(Line2D([], [], color=_BECOMES_COLOUR, label="becomes (recipient turns into a donor)"))
    if any(set(d["records"]) <= context for *_, d in sub.edges(keys=True, data=True)):
        handles.append(Line2D([], [], color="#555555", linestyle=":", label="claimed only by non-exosomal records"))
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=font + 0.5, frameon=False)
    what = title or _title(mg, therapy, cargo)
    if title is None and any(n in context_cargos for n in sub):
        what += " (dashed boxes: non-exosomal context)"
    fig.suptitle(what, fontsize=font + 4)
    return fig


def _half_size(text: Text, renderer: Any, dpi: float) -> tuple[float, float]:
    """Half width and half height, in pixels, of a label's box (text extent plus the box pad;
    the box patch itself is only placed when the figure is drawn)."""
    ext = text.get_window_extent(renderer)
    pad = _BOX_PAD * float(text.get_fontsize()) * dpi / 72.0
    return ext.width / 2.0 + pad, ext.height / 2.0 + pad


def _exit(half: tuple[float, float], direction: Any) -> float:
    """Distance in pixels from a box's centre to its outline along ``direction``."""
    dx, dy = abs(float(direction[0])), abs(float(direction[1]))
    norm = math.hypot(dx, dy)
    if norm == 0:
        return 0.0
    return min(half[0] * norm / dx if dx else math.inf, half[1] * norm / dy if dy else math.inf)


def _to_points(pixels: float, dpi: float) -> float:
    return pixels * 72.0 / dpi


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
