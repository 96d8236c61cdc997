"""Every export reads back with an independent reader, with the graph's node and edge counts."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import networkx as nx
import pytest

from exoresist.graph import EXPORTERS, MechanismGraph, UnknownFormatError, export_graph, render
from exoresist.graph.export import cx2, sbml_qual

GRAPHS = ["mini", "full"]


@pytest.fixture(params=GRAPHS)
def mg(request: pytest.FixtureRequest) -> MechanismGraph:
    graph: MechanismGraph = request.getfixturevalue(request.param)
    return graph


def _write(mg: MechanismGraph, fmt: str, tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    out = export_graph(mg, fmt, folder / f"g{EXPORTERS[fmt].suffix}")
    assert [p.name for p in folder.iterdir()] == [out.name]  # atomic: no temporary file left
    return out


def test_graphml_round_trip(mg: MechanismGraph, tmp_path: Path) -> None:
    back = nx.read_graphml(_write(mg, "graphml", tmp_path), force_multigraph=True)
    assert back.number_of_nodes() == mg.graph.number_of_nodes()
    assert back.number_of_edges() == mg.graph.number_of_edges()
    u, v, k, d = next(iter(sorted(mg.graph.edges(keys=True, data=True))))
    assert back.edges[u, v, k]["records"] == "; ".join(d["records"])


def test_cyjs_round_trip(mg: MechanismGraph, tmp_path: Path) -> None:
    doc = json.loads(_write(mg, "cyjs", tmp_path).read_text())
    nodes, edges = doc["elements"]["nodes"], doc["elements"]["edges"]
    assert len(nodes) == mg.graph.number_of_nodes() and len(edges) == mg.graph.number_of_edges()
    ids = {n["data"]["id"] for n in nodes}
    assert all(e["data"]["source"] in ids and e["data"]["target"] in ids for e in edges)
    assert len({e["data"]["id"] for e in edges}) == len(edges)


def test_cx2_structure_and_ndex2(mg: MechanismGraph, tmp_path: Path) -> None:
    doc = json.loads(_write(mg, "cx2", tmp_path).read_text())
    assert cx2.validate(doc) == []
    aspects = {next(iter(a)): next(iter(a.values())) for a in doc}
    assert len(aspects["nodes"]) == mg.graph.number_of_nodes() and len(aspects["edges"]) == mg.graph.number_of_edges()
    ndex2_cx2 = pytest.importorskip("ndex2.cx2")
    net = ndex2_cx2.CX2Network()
    net.create_from_raw_cx2(doc)
    assert len(net.get_nodes()) == mg.graph.number_of_nodes() and len(net.get_edges()) == mg.graph.number_of_edges()


def test_cx2_validator_catches_broken_documents(mini: MechanismGraph) -> None:
    doc = json.loads(render(mini, "cx2"))
    doc[5]["edges"][0]["t"] = 10_000
    doc[4]["nodes"][0]["v"]["name"] = 3
    problems = cx2.validate(doc)
    assert any("missing node" in p for p in problems) and any("is not a string" in p for p in problems)


def test_sbml_qual_is_consistent_with_documented_counts(mg: MechanismGraph, tmp_path: Path) -> None:
    libsbml = pytest.importorskip("libsbml")
    doc = libsbml.readSBMLFromFile(str(_write(mg, "sbml-qual", tmp_path)))
    doc.checkConsistency()
    errors = [
        doc.getError(i).getMessage()
        for i in range(doc.getNumErrors())
        if doc.getError(i).getSeverity() >= libsbml.LIBSBML_SEV_ERROR
    ]
    assert errors == []
    qual = doc.getModel().getPlugin("qual")
    g = mg.graph
    # one species per node; one transition per node with inputs; parallel edges merge into one input
    assert qual.getNumQualitativeSpecies() == g.number_of_nodes()
    assert qual.getNumTransitions() == sum(1 for n in g if g.in_degree(n) > 0)
    n_inputs = sum(qual.getTransition(i).getNumInputs() for i in range(qual.getNumTransitions()))
    assert n_inputs == nx.DiGraph(g).number_of_edges()
    sid = sbml_qual.species_ids(sorted(g.nodes))
    assert len(set(sid.values())) == len(sid)


def test_dot_round_trip(mg: MechanismGraph, tmp_path: Path) -> None:
    pydot = pytest.importorskip("pydot")
    (dot,) = pydot.graph_from_dot_file(str(_write(mg, "dot", tmp_path)))
    nodes = [n for n in dot.get_nodes() if n.get_name() not in ("node", "edge", "graph")]
    assert len(nodes) == mg.graph.number_of_nodes()
    assert len(dot.get_edges()) == mg.graph.number_of_edges()


def test_unknown_format(mini: MechanismGraph) -> None:
    with pytest.raises(UnknownFormatError, match="graphml"):
        render(mini, "gexf")


@pytest.mark.parametrize("fmt", sorted(EXPORTERS))
def test_every_exporter_renders_text(mini: MechanismGraph, fmt: str) -> None:
    render_fn: Callable[[MechanismGraph], str] = EXPORTERS[fmt].render
    assert render_fn(mini).strip()


def test_exports_carry_the_cell_of_every_placed_node(full: MechanismGraph, tmp_path: Path) -> None:
    pd1 = full.entity_node("PD-1") + "@cd8_t_cell"
    back = nx.read_graphml(_write(full, "graphml", tmp_path), force_multigraph=True)
    assert back.nodes[pd1]["cell"] == "cd8_t_cell"
    stabilises = back.edges[full.entity_node("circCCAR1") + "@cd8_t_cell", pd1, "stabilises+"]
    assert stabilises["cell"] == "cd8_t_cell" and stabilises["records"] == "mech:circccar1-pdl1-pd1-cd8"
    libsbml = pytest.importorskip("libsbml")
    doc = libsbml.readSBMLFromFile(str(_write(full, "sbml-qual", tmp_path / "sbml")))
    model = doc.getModel()
    cells = {d["cell"] for n, d in full.graph.nodes(data=True) if d.get("cell") and d["node_type"] != "cell"}
    assert {model.getCompartment(i).getId() for i in range(model.getNumCompartments())} == cells | {"tme"}
    qual = model.getPlugin("qual")
    sid = sbml_qual.species_ids(sorted(full.graph.nodes))
    assert qual.getQualitativeSpecies(sid[pd1]).getCompartment() == "cd8_t_cell"
    assert qual.getQualitativeSpecies(sid["therapy:ther:sorafenib"]).getCompartment() == "tme"
