"""Figures: written atomically in the asked-for format, showing the asked-for part of the graph,
legible at page width, with no edge through a box."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from matplotlib.patches import FancyArrowPatch

from exoresist.graph import MechanismGraph, UnknownFormatError, draw, save_figure
from exoresist.graph._layout import Box, Layout, crossings, estimate_size, layout, overlaps
from exoresist.graph.draw import _FONT, context_marks, drawn_graph, figure_layout, subgraph_for

PAGE_WIDTH = 8.0
"""Inches a figure gets on a page (or a 980-pixel column on screen, which shows a 150-dpi figure about as large)."""
MIN_FONT = 6.0
"""Smallest label size, in points, once the figure is shrunk to the page width."""


def _png_width_inches(path: Path) -> float:
    with path.open("rb") as f:
        head = f.read(24)
    width, _ = struct.unpack(">II", head[16:24])
    return float(width) / 150.0


def test_columns_run_left_to_right(mini: MechanismGraph) -> None:
    g = mini.graph
    col = layout(g, {n: estimate_size(str(d["label"])) for n, d in g.nodes(data=True)}).column
    assert col["cell:hcc_cell"] < col["entity:ent:circx"] < col["entity:ent:circx@hcc_cell"] < col["entity:ent:pten@hcc_cell"]
    assert col["entity:ent:pten@hcc_cell"] < col["phenotype:apoptosis_evasion@hcc_cell"] < col["class:anti_pd1"]
    assert col["class:anti_pd1"] < col["therapy:ther:nivolumab"]
    # the phenotypes that end routes share a column
    assert col["phenotype:apoptosis_evasion@hcc_cell"] == col["phenotype:stemness@hcc_cell"]


def test_subgraph_for_a_therapy_holds_only_its_routes(mini: MechanismGraph) -> None:
    sub = subgraph_for(mini, therapy="anti-PD-1")
    assert "entity:ent:circx" not in sub and "entity:ent:mir-2" in sub
    assert not [n for n, d in sub.nodes(data=True) if d["node_type"] == "intervention"]
    with_iv = subgraph_for(mini, therapy="sorafenib", interventions=True)
    assert "intervention:int:anti-mir2" in with_iv
    # a figure draws the cargo's journey as one edge, donor -> the cargo in its recipient ...
    drawn = drawn_graph(sub)
    assert "entity:ent:mir-2" not in drawn and drawn.has_edge("cell:hcc_cell", "entity:ent:mir-2@fibroblast")
    # ... except where a drawn intervention acts on the cargo between cells
    assert "entity:ent:mir-2" in drawn_graph(with_iv)


def test_draw_png_and_svg(mini: MechanismGraph, tmp_path: Path) -> None:
    png = save_figure(draw(mini, therapy="sorafenib"), tmp_path / "f.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = save_figure(draw(mini, cargo="miR-2"), tmp_path / "f.svg")
    assert "<svg" in svg.read_text()
    with pytest.raises(UnknownFormatError):
        save_figure(draw(mini), tmp_path / "f.bmp")


def test_every_edge_is_drawn_once(mini: MechanismGraph) -> None:
    fig = draw(mini, therapy="sorafenib")
    arrows = [p for p in fig.axes[0].patches if isinstance(p, FancyArrowPatch)]
    assert len(arrows) == drawn_graph(subgraph_for(mini, therapy="sorafenib")).number_of_edges()


def test_non_exosomal_context_is_marked(full: MechanismGraph) -> None:
    context, nodes = context_marks(full)
    assert "mech:autophagy-sorafenib-chloroquine" in context and "mech:caf-il6-il8-stemness-sorafenib" in context
    names = {full.label(n) for n in nodes}
    assert {"miR-142-3p", "CD133", "IL-6/IL-8 signalling", "FOXM1"} <= names
    assert "linc-ROR" not in names  # exosomal in Table 1 row 15, though some of its axes are not
    assert "autophagy" not in names  # in HCC cells it is also the end of miR-21's axis
    fig = draw(full, therapy="sorafenib")
    assert "non-exosomal" in fig._suptitle.get_text()  # type: ignore[union-attr]
    legend = [t.get_text() for leg in fig.legends for t in leg.get_texts()]
    assert "non-exosomal context" in legend and "claimed only by non-exosomal records" in legend
    lanes = [t.get_text() for t in fig.axes[0].texts if t.get_text().startswith("in ")]
    assert {"in HCC cells", "in fibroblasts", "in cancer-associated fibroblasts"} <= set(lanes)


FIGURES = [
    {"therapy": "anti-PD-1"},
    {"therapy": "sorafenib"},
    {"therapy": "sorafenib", "cargo": "miR-1247-3p"},
    {"cargo": "circCCAR1"},
    {"therapy": "chemotherapy"},
    {"therapy": "anti-PD-1", "interventions": True},
    {"therapy": "sorafenib", "interventions": True},
    {},
    {"interventions": True},
]


@pytest.mark.parametrize("include_hypotheses", [False, True])
@pytest.mark.parametrize("query", FIGURES, ids=lambda q: "-".join(f"{k}={v}" for k, v in q.items()) or "full")
def test_no_edge_passes_through_a_box(
    full: MechanismGraph, full_hyp: MechanismGraph, query: dict[str, object], include_hypotheses: bool
) -> None:
    mg = full_hyp if include_hypotheses else full
    sub = drawn_graph(subgraph_for(mg, **query))  # type: ignore[arg-type]
    lay, *_ = figure_layout(mg, sub, None)
    assert crossings(lay) == []
    assert overlaps(lay) == []
    # every box sits in its lane
    for n, box in lay.boxes.items():
        if lay.lane[n] in lay.lanes:
            top, bottom = lay.lanes[lay.lane[n]]
            assert bottom - 1e-9 <= box.y - box.h / 2 and box.y + box.h / 2 <= top + 1e-9, n


@pytest.mark.parametrize("query", FIGURES[:5], ids=lambda q: "-".join(f"{k}={v}" for k, v in q.items()))
def test_figures_of_a_therapy_or_cargo_are_legible_at_page_width(
    full: MechanismGraph, tmp_path: Path, query: dict[str, str]
) -> None:
    path = save_figure(draw(full, **query), tmp_path / "f.png")  # type: ignore[arg-type]
    width = _png_width_inches(path)
    assert _FONT * min(1.0, PAGE_WIDTH / width) >= MIN_FONT, f"{width:.1f} in wide"


def test_the_crossing_check_sees_an_edge_through_a_box() -> None:
    boxes = {"a": Box(0, 0, 1, 0.3), "b": Box(2, 0, 1, 0.3), "c": Box(4, 0, 1, 0.3)}
    straight = [[(0.5, 0.0), (3.5, 0.0)]]  # a -> c straight through b
    lay = Layout(boxes, {"a": 0, "b": 1, "c": 2}, {}, {}, {("a", "c", "x"): straight}, 5.0, 1.0)
    assert crossings(lay) == [(("a", "c", "x"), "b")]
    around = [
        [(0.5, 0.0), (1.0, 0.0), (1.0, 0.5), (1.5, 0.5)],
        [(1.5, 0.5), (2.5, 0.5)],
        [(2.5, 0.5), (3, 0.5), (3, 0), (3.5, 0)],
    ]
    assert crossings(Layout(boxes, {}, {}, {}, {("a", "c", "x"): around}, 5.0, 1.0)) == []
    assert overlaps(Layout({**boxes, "d": Box(0.2, 0.1, 1, 0.3)}, {}, {}, {}, {}, 5.0, 1.0)) == [("a", "d")]
