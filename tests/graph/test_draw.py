"""Figures: written atomically, in the asked-for format, showing the asked-for part of the graph."""

from __future__ import annotations

from pathlib import Path

import pytest

from exoresist.graph import MechanismGraph, UnknownFormatError, draw, save_figure
from exoresist.graph._layout import layers
from exoresist.graph.draw import subgraph_for


def test_layers_run_left_to_right(mini: MechanismGraph) -> None:
    lay = layers(mini.graph)
    assert lay["cell:hcc_cell"] < lay["entity:ent:circx"] < lay["entity:ent:pten"] < lay["phenotype:stemness"]
    assert lay["phenotype:stemness"] < lay["class:anti_pd1"] < lay["therapy:ther:nivolumab"]


def test_subgraph_for_a_therapy_holds_only_its_routes(mini: MechanismGraph) -> None:
    sub = subgraph_for(mini, therapy="anti-PD-1")
    assert "entity:ent:circx" not in sub and "entity:ent:mir-2" in sub
    assert not [n for n, d in sub.nodes(data=True) if d["node_type"] == "intervention"]
    with_iv = subgraph_for(mini, therapy="sorafenib", interventions=True)
    assert "intervention:int:anti-mir2" in with_iv


def test_draw_png_and_svg(mini: MechanismGraph, tmp_path: Path) -> None:
    png = save_figure(draw(mini, therapy="sorafenib"), tmp_path / "f.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = save_figure(draw(mini, cargo="miR-2"), tmp_path / "f.svg")
    assert "<svg" in svg.read_text()
    with pytest.raises(UnknownFormatError):
        save_figure(draw(mini), tmp_path / "f.bmp")


def test_non_exosomal_context_is_marked(full: MechanismGraph) -> None:
    from exoresist.graph.draw import context_marks

    context, cargos = context_marks(full)
    assert "mech:autophagy-sorafenib-chloroquine" in context and "mech:caf-il6-il8-stemness-sorafenib" in context
    names = {full.label(n) for n in cargos}
    assert {"autophagy", "miR-142-3p", "CD133", "IL-6/IL-8 signalling"} <= names
    assert "linc-ROR" not in names  # exosomal in Table 1 row 15, though some of its axes are not
    fig = draw(full, therapy="sorafenib")
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert any(t.startswith("autophagy (non-exosomal)") for t in texts)
    assert "non-exosomal" in fig._suptitle.get_text()  # type: ignore[union-attr]
    legend = [t.get_text() for leg in fig.legends for t in leg.get_texts()]
    assert "non-exosomal context" in legend and "claimed only by non-exosomal records" in legend
