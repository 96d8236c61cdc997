"""A layered, left-to-right layout in cell lanes, with edges that never cross a box.

Columns: every edge runs from a column to a later one (longest-path layering; an edge closing a
cycle is laid out reversed). The phenotypes that end routes share one column, and the therapies
follow them; interventions, when drawn, take the first column. Rows: each cell has a horizontal
*lane* holding the nodes placed in it (the cargo between cells sits in its donor's lane), so a
route reads as a series of cells; therapies and interventions float in their own columns.

An edge that skips columns passes through each skipped column at a *slot* of its own (a dummy
node, as in Sugiyama layouts), and every box of a column has the column's width. Hence every piece
of an edge lies either in the gap between two columns or in a slot of a column no box occupies,
and no edge can pass through a box: :func:`crossings` checks exactly this on the coordinates.

Units are inches (the figure draws in them directly); sizes of boxes come from the caller
(``draw`` measures the labels) or, for the exports, from an estimate of the label's width.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from exoresist.kb.vocab import CellType

EdgeKey = tuple[str, str, str]
Point = tuple[float, float]

COLUMN_GAP = 0.25
"""Horizontal gap between columns, inches (room for the curves and arrowheads)."""
ROW_GAP = 0.1
"""Vertical gap between two boxes of one lane, inches."""
LANE_GAP = 0.12
"""Vertical gap between two lanes, inches."""
LANE_TITLE = 0.2
"""Height of a lane's title strip, inches."""
FREE = "~free"
"""Lane key of nodes placed in no cell (therapies, classes, interventions) in columns of their own."""
OTHER = "~other"
"""Lane key of nodes placed in no cell that share a column with placed nodes."""
_CELL_ORDER = {c.value: i for i, c in enumerate(CellType)}
_SWEEPS = 8
DUMMY = 0.05
"""Height of the slot an edge takes where it passes through a column, inches."""


@dataclass(frozen=True)
class Box:
    """A node's box: centre ``(x, y)``, width and height, inches (y grows upwards)."""

    x: float
    y: float
    w: float
    h: float

    def contains(self, p: Point, margin: float = 0.0) -> bool:
        """Whether ``p`` lies strictly inside the box shrunk by ``margin`` on every side."""
        return abs(p[0] - self.x) < self.w / 2 - margin and abs(p[1] - self.y) < self.h / 2 - margin


@dataclass(frozen=True)
class Layout:
    """Boxes, lanes and edge paths of one figure, in inches."""

    boxes: dict[str, Box]
    column: dict[str, int]
    lane: dict[str, str]
    lanes: dict[str, tuple[float, float]]
    """Lane key (a cell value) -> (top, bottom) y of its band, title strip included."""
    paths: dict[EdgeKey, list[list[Point]]]
    """Per edge: its pieces, each a cubic Bezier (4 points) in a gap between columns or a straight
    line (2 points) through a skipped column, from the source's box to the target's, in the edge's
    own direction."""
    width: float
    height: float
    reversed_edges: frozenset[EdgeKey] = field(default_factory=frozenset)


def estimate_size(label: str, font_size: float = 8.0) -> tuple[float, float]:
    """A box size, inches, for a label of this many characters per line (exports, which draw nothing)."""
    lines = label.split("\n")
    width = max(len(x) for x in lines) * font_size * 0.55 / 72.0 + 0.16
    return width, len(lines) * font_size * 1.25 / 72.0 + 0.1


def _node_lane(graph: Any, n: str) -> str | None:
    d = graph.nodes[n]
    if d["node_type"] in {"therapy", "therapy_class", "intervention"}:
        return None
    if d.get("cell"):
        return str(d["cell"])
    cells = sorted(
        (str(graph.nodes[u]["cell"]) for u in graph.predecessors(n) if graph.nodes[u]["node_type"] == "cell"),
        key=lambda c: _CELL_ORDER.get(c, len(_CELL_ORDER)),
    )
    if cells:  # a cargo between cells: in its donor's lane
        return cells[0]
    near = [graph.nodes[v].get("cell") for v in graph.successors(n)] + [graph.nodes[u].get("cell") for u in graph.predecessors(n)]
    placed = sorted({str(c) for c in near if c}, key=lambda c: _CELL_ORDER.get(c, len(_CELL_ORDER)))
    return placed[0] if placed else None


def _acyclic(nodes: list[str], edges: list[EdgeKey]) -> set[EdgeKey]:
    """Edges to lay out reversed so that the rest is acyclic (back edges of a depth-first search)."""
    out: dict[str, list[EdgeKey]] = defaultdict(list)
    for e in edges:
        out[e[0]].append(e)
    state: dict[str, int] = {}
    back: set[EdgeKey] = set()
    for root in nodes:
        if root in state:
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        state[root] = 1
        while stack:
            n, i = stack.pop()
            if i < len(out[n]):
                stack.append((n, i + 1))
                e = out[n][i]
                v = e[1]
                if state.get(v) == 1:
                    back.add(e)
                elif v not in state:
                    state[v] = 1
                    stack.append((v, 0))
            else:
                state[n] = 2
    return back


def _columns(graph: Any, edges: list[EdgeKey], reverse: set[EdgeKey]) -> dict[str, int]:
    nodes = sorted(graph.nodes)
    directed = [(v, u) if e in reverse else (u, v) for e in edges for u, v in [e[:2]] if u != v]
    ivs = {n for n in nodes if graph.nodes[n]["node_type"] == "intervention"}
    layered = [(u, v) for u, v in directed if u not in ivs]
    preds: dict[str, list[str]] = defaultdict(list)
    succs: dict[str, list[str]] = defaultdict(list)
    for u, v in layered:
        preds[v].append(u)
        succs[u].append(v)
    order = _topological([n for n in nodes if n not in ivs], layered)
    shift = 1 if ivs else 0
    col: dict[str, int] = {}

    def start(n: str) -> int:
        return shift if graph.nodes[n]["node_type"] == "cell" else shift + 1

    for n in order:
        col[n] = max([start(n), *(col[u] + 1 for u in preds[n])])
    ending = [
        n
        for n in order
        if graph.nodes[n]["node_type"] == "phenotype" and not any(graph.nodes[v]["node_type"] in {"cell"} for v in succs[n])
    ]
    if ending:  # the phenotypes that end routes share one column; what follows them moves right
        last = max(col[n] for n in ending)
        for n in ending:
            col[n] = last
        for n in order:
            col[n] = max([col[n], *(col[u] + 1 for u in preds[n])])
    # then as late as possible: a chain of steps ends next to the phenotype it gives, and the long
    # edge is the cargo's journey from its donor's column (cells and cargos between cells stay left)
    fixed = {"cell", "cargo"}
    for n in reversed(order):
        if graph.nodes[n]["node_type"] in fixed or n in ending or not succs[n]:
            continue
        col[n] = max(col[n], min(col[v] for v in succs[n]) - 1)
    for n in ivs:
        col[n] = 0
    return col


def _topological(nodes: list[str], edges: list[tuple[str, str]]) -> list[str]:
    indeg = dict.fromkeys(nodes, 0)
    out: dict[str, list[str]] = defaultdict(list)
    for u, v in edges:
        out[u].append(v)
        indeg[v] += 1
    ready = sorted(n for n, k in indeg.items() if k == 0)
    order: list[str] = []
    while ready:
        n = ready.pop(0)
        order.append(n)
        for v in sorted(out[n]):
            indeg[v] -= 1
            if indeg[v] == 0:
                ready.append(v)
    return order + sorted(n for n in nodes if n not in set(order))


def layout(graph: Any, sizes: dict[str, tuple[float, float]]) -> Layout:
    """Lay out ``graph`` (a networkx MultiDiGraph of the mechanism graph) with box ``sizes`` in inches.
    An empty graph (a view with no route) has an empty layout."""
    if graph.number_of_nodes() == 0:
        return Layout({}, {}, {}, {}, {}, 0.0, 0.0)
    edges = sorted(graph.edges(keys=True))
    edges = [e for e in edges if e[0] != e[1]]
    reverse = _acyclic(sorted(graph.nodes), edges)
    col = _columns(graph, edges, reverse)

    # lanes: a cell's nodes share a lane; unplaced nodes float in columns of their own
    lane_of: dict[str, str] = {n: _node_lane(graph, n) or FREE for n in graph.nodes}

    # chains of slots for the edges that skip columns, in the lane of the source (or the target)
    chain: dict[EdgeKey, list[str]] = {}
    items: dict[str, tuple[int, str]] = {n: (col[n], lane_of[n]) for n in graph.nodes}
    for e in edges:
        u, v = (e[1], e[0]) if e in reverse else (e[0], e[1])
        lane = lane_of[u] if lane_of[u] != FREE else lane_of[v] if lane_of[v] != FREE else OTHER
        ids = [u]
        for c in range(col[u] + 1, col[v]):
            d = f"~dummy:{len(items)}"
            items[d] = (c, lane)
            ids.append(d)
        ids.append(v)
        chain[e] = ids
    # unplaced nodes float only in columns of their own; elsewhere they get a lane at the bottom
    mixed = {c for c, lane in items.values() if lane != FREE}
    for n in graph.nodes:
        if lane_of[n] == FREE and col[n] in mixed:
            lane_of[n] = OTHER
            items[n] = (col[n], OTHER)

    lane_keys = sorted({lane for _, lane in items.values()}, key=_lane_rank)
    groups: dict[tuple[int, str], list[str]] = defaultdict(list)
    labels = {n: str(graph.nodes[n].get("label", n)).casefold() for n in graph.nodes}
    for it in sorted(items, key=lambda i: (labels.get(i, "~"), i)):
        groups[items[it]].append(it)

    neighbours_in: dict[str, list[str]] = defaultdict(list)
    neighbours_out: dict[str, list[str]] = defaultdict(list)
    for ids in chain.values():
        for a, b in itertools.pairwise(ids):
            neighbours_out[a].append(b)
            neighbours_in[b].append(a)
    rank = _order(groups, lane_keys, neighbours_in, neighbours_out)
    into, out = neighbours_in, neighbours_out

    # geometry
    n_cols = max(c for c, _ in items.values()) + 1
    widths = [0.25] * n_cols
    for n in graph.nodes:
        widths[col[n]] = max(widths[col[n]], sizes[n][0])
    xs: list[float] = []
    x = 0.0
    for w in widths:
        xs.append(x + w / 2)
        x += w + COLUMN_GAP
    total_w = x - COLUMN_GAP
    height = {it: (sizes[it][1] if it in sizes else DUMMY) for it in items}
    lanes: dict[str, tuple[float, float]] = {}
    y_of: dict[str, float] = {}
    band: dict[str, tuple[float, float]] = {}  # lane -> (top, bottom) of the rows, title strip excluded
    ordered = {key: sorted(g, key=lambda i: rank[i]) for key, g in groups.items()}
    top = 0.0
    for lane in lane_keys:
        if lane == FREE:
            continue
        rows = max(_stack(ordered[key], height) for key in ordered if key[1] == lane)
        title = LANE_TITLE if lane != OTHER else 0.0
        lanes[lane] = (top, top - title - rows)
        band[lane] = (top - title, top - title - rows)
        top -= title + rows + LANE_GAP
    bottom = top + LANE_GAP
    for key, g in ordered.items():  # first guess: each group centred in its lane
        if key[1] == FREE:
            continue
        hi, lo = band[key[1]]
        y = (hi + lo) / 2 + _stack(g, height) / 2 - height[g[0]] / 2
        y_of[g[0]] = y
        for a, b in itertools.pairwise(g):
            y -= _sep(a, b, height)
            y_of[b] = y
    for sweep in range(_SWEEPS):  # then towards the mean height of the neighbours, keeping the order
        near = (into, out, None)[sweep % 3]
        for key in sorted(ordered, key=lambda k: k[0] if sweep % 2 == 0 else -k[0]):
            if key[1] == FREE:
                continue
            g = ordered[key]
            wanted = []
            for it in g:
                ns = (into[it] + out[it]) if near is None else (near[it] or into[it] + out[it])
                ys = [y_of[m] for m in ns if m in y_of]
                wanted.append(sum(ys) / len(ys) if ys else y_of[it])
            for it, y in zip(g, _fit(g, wanted, height, band[key[1]]), strict=True):
                y_of[it] = y
    _place_free(groups, rank, y_of, into, out, max(height.values(), default=0.25) + ROW_GAP, bottom)

    boxes = {n: Box(xs[col[n]], y_of[n], widths[col[n]], sizes[n][1]) for n in graph.nodes}
    paths = _paths(chain, boxes, xs, widths, col, items, y_of, reverse)
    low = min([bottom, *(b.y - b.h / 2 for b in boxes.values())])
    high = max([0.0, *(b.y + b.h / 2 for b in boxes.values())])
    return Layout(
        boxes=boxes,
        column=dict(col),
        lane={n: lane_of[n] for n in graph.nodes},
        lanes={k: v for k, v in lanes.items() if k != OTHER},
        paths=paths,
        width=total_w,
        height=high - low,
        reversed_edges=frozenset(reverse),
    )


def _sep(a: str, b: str, height: dict[str, float]) -> float:
    """Distance between the centres of two items stacked one above the other (edges passing
    through a column pack closer than boxes)."""
    gap = ROW_GAP if not (a.startswith("~dummy:") or b.startswith("~dummy:")) else DUMMY
    return (height[a] + height[b]) / 2 + gap


def _stack(g: list[str], height: dict[str, float]) -> float:
    """Height of a group of items stacked with their gaps."""
    return sum(height[i] for i in g) + sum(_sep(a, b, height) - (height[a] + height[b]) / 2 for a, b in itertools.pairwise(g))


def _fit(g: list[str], wanted: list[float], height: dict[str, float], band: tuple[float, float]) -> list[float]:
    """Heights for the items of ``g`` (top to bottom) as close as possible to ``wanted`` (least
    squares) while keeping their order, their gaps and the lane's band: isotonic regression of the
    wanted heights shifted by the cumulative gaps (pool adjacent violators)."""
    offsets = [0.0]
    for a, b in itertools.pairwise(g):
        offsets.append(offsets[-1] + _sep(a, b, height))
    hi, lo = band
    z_hi = hi - height[g[0]] / 2  # top item at the top of the band
    z_lo = lo + height[g[-1]] / 2 + offsets[-1]  # bottom item at its bottom
    z = [min(max(w + c, z_lo), z_hi) for w, c in zip(wanted, offsets, strict=True)]  # must be non-increasing
    blocks: list[list[float]] = []  # [mean, weight]
    for v in z:
        blocks.append([v, 1.0])
        while len(blocks) > 1 and blocks[-2][0] < blocks[-1][0]:
            m2, w2 = blocks.pop()
            m1, w1 = blocks.pop()
            blocks.append([(m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2])
    fitted = [m for m, w in blocks for _ in range(round(w))]
    return [f - c for f, c in zip(fitted, offsets, strict=True)]


def _lane_rank(lane: str) -> tuple[int, str]:
    if lane == OTHER:
        return (len(_CELL_ORDER) + 2, lane)
    if lane == FREE:
        return (len(_CELL_ORDER) + 3, lane)
    return (_CELL_ORDER.get(lane, len(_CELL_ORDER) + 1), lane)


def _order(
    groups: dict[tuple[int, str], list[str]],
    lane_keys: list[str],
    into: dict[str, list[str]],
    out: dict[str, list[str]],
) -> dict[str, float]:
    """Order within each (column, lane) group by the barycentre of the neighbours, a few sweeps
    left to right and back; the position of an item is its lane's rank, then its place in the lane."""
    lane_index = {k: i for i, k in enumerate(lane_keys)}
    rank: dict[str, float] = {}
    for g in groups.values():
        for i, it in enumerate(g):
            rank[it] = float(i)

    def where(it: str, key: tuple[int, str]) -> float:
        size = max(len(groups[key]) - 1, 1)
        return lane_index[key[1]] + rank[it] / (size + 1)

    key_of = {it: key for key, g in groups.items() for it in g}
    columns = sorted({c for c, _ in groups})
    for sweep in range(_SWEEPS):
        forward = sweep % 2 == 0
        near, far = (into, out) if forward else (out, into)
        for c in columns if forward else list(reversed(columns)):
            for key in [k for k in groups if k[0] == c]:
                g = groups[key]
                bary: dict[str, float] = {}
                for it in g:
                    ns = near[it] or far[it]
                    bary[it] = sum(where(m, key_of[m]) for m in ns) / len(ns) if ns else lane_index[key[1]] + rank[it] / len(g)
                g.sort(key=lambda it: (bary[it], rank[it]))
                for i, it in enumerate(g):
                    rank[it] = float(i)
    return rank


def _place_free(
    groups: dict[tuple[int, str], list[str]],
    rank: dict[str, float],
    y_of: dict[str, float],
    into: dict[str, list[str]],
    out: dict[str, list[str]],
    slot: float,
    bottom: float,
) -> None:
    """Therapies and interventions in columns of their own: at the mean height of their
    neighbours, pushed apart to one slot each (columns taken left to right, then right to left)."""
    free = [g for (_, lane), g in sorted(groups.items()) if lane == FREE]
    for g in free + list(reversed(free)):
        wanted = []
        for it in sorted(g, key=lambda i: rank[i]):
            ys = [y_of[m] for m in into[it] + out[it] if m in y_of]
            wanted.append((sum(ys) / len(ys) if ys else bottom / 2, it))
        wanted.sort(key=lambda t: -t[0])
        placed: list[float] = []
        for y, _ in wanted:
            placed.append(min(y, placed[-1] - slot) if placed else y)
        shift = max(0.0, bottom + slot / 2 - placed[-1]) if placed else 0.0  # not below the lowest lane
        for (_, it), y in zip(wanted, placed, strict=True):
            y_of[it] = y + shift


def _paths(
    chain: dict[EdgeKey, list[str]],
    boxes: dict[str, Box],
    xs: list[float],
    widths: list[float],
    col: dict[str, int],
    items: dict[str, tuple[int, str]],
    y_of: dict[str, float],
    reverse: set[EdgeKey],
) -> dict[EdgeKey, list[list[Point]]]:
    """Edge pieces: out of the right side of the source's column, across gaps (Bezier curves with
    horizontal ends) and through the slots of skipped columns (straight), into the left side of the
    target's column. Several edges at one box spread over its side."""
    ports_out: dict[str, list[tuple[float, EdgeKey]]] = defaultdict(list)
    ports_in: dict[str, list[tuple[float, EdgeKey]]] = defaultdict(list)
    for e, ids in chain.items():
        ports_out[ids[0]].append((y_of[ids[1]], e))
        ports_in[ids[-1]].append((y_of[ids[-2]], e))
    y_out = _spread(ports_out, boxes)
    y_in = _spread(ports_in, boxes)
    paths: dict[EdgeKey, list[list[Point]]] = {}
    for e, ids in chain.items():
        pieces: list[list[Point]] = []
        first, last = ids[0], ids[-1]
        x0 = xs[col[first]] + widths[col[first]] / 2
        y0 = y_out[first, e]
        for i, it in enumerate(ids[1:], start=1):
            c = items[it][0]
            left, right = xs[c] - widths[c] / 2, xs[c] + widths[c] / 2
            y1 = y_in[last, e] if i == len(ids) - 1 else y_of[it]
            mid = (x0 + left) / 2
            pieces.append([(x0, y0), (mid, y0), (mid, y1), (left, y1)])
            if i < len(ids) - 1:
                pieces.append([(left, y1), (right, y1)])
            x0, y0 = right, y1
        if e in reverse:
            pieces = [list(reversed(p)) for p in reversed(pieces)]
        paths[e] = pieces
    return paths


def _spread(ports: dict[str, list[tuple[float, EdgeKey]]], boxes: dict[str, Box]) -> dict[tuple[str, EdgeKey], float]:
    out: dict[tuple[str, EdgeKey], float] = {}
    for n, lst in ports.items():
        lst.sort(key=lambda t: -t[0])
        b = boxes[n]
        span = b.h * 0.5
        k = len(lst)
        for i, (_, e) in enumerate(lst):
            out[n, e] = b.y if k == 1 else b.y + span / 2 - span * i / (k - 1)
    return out


def bezier(piece: list[Point], n: int = 24) -> list[Point]:
    """Points along one edge piece (a cubic Bezier or a straight line)."""
    if len(piece) == 2:
        (x0, y0), (x1, y1) = piece
        return [(x0 + (x1 - x0) * t / n, y0 + (y1 - y0) * t / n) for t in range(n + 1)]
    p0, p1, p2, p3 = piece
    pts = []
    for i in range(n + 1):
        t = i / n
        a, b, c, d = (1 - t) ** 3, 3 * t * (1 - t) ** 2, 3 * t * t * (1 - t), t**3
        pts.append((a * p0[0] + b * p1[0] + c * p2[0] + d * p3[0], a * p0[1] + b * p1[1] + c * p2[1] + d * p3[1]))
    return pts


def crossings(lay: Layout, margin: float = 0.01) -> list[tuple[EdgeKey, str]]:
    """Every (edge, node) where the edge passes through the box of a node it does not join."""
    found: list[tuple[EdgeKey, str]] = []
    for e, pieces in lay.paths.items():
        pts = [p for piece in pieces for p in bezier(piece)]
        for n, box in lay.boxes.items():
            if n in e[:2]:
                continue
            if any(box.contains(p, margin) for p in pts):
                found.append((e, n))
    return found


def overlaps(lay: Layout) -> list[tuple[str, str]]:
    """Pairs of boxes that overlap."""
    items = sorted(lay.boxes.items())
    out = []
    for i, (a, p) in enumerate(items):
        for b, q in items[i + 1 :]:
            if abs(p.x - q.x) < (p.w + q.w) / 2 and abs(p.y - q.y) < (p.h + q.h) / 2:
                out.append((a, b))
    return out


def layered_positions(graph: Any) -> dict[str, tuple[float, float]]:
    """(x, y) of every node in inches (y grows upwards), with box sizes estimated from the labels:
    the positions the Cytoscape exports carry."""
    sizes = {n: estimate_size(str(d.get("label", n))) for n, d in graph.nodes(data=True)}
    lay = layout(graph, sizes)
    return {n: (b.x, b.y) for n, b in lay.boxes.items()}
