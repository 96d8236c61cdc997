"""The graph is compiled from the KB: node ids, types, edges and their provenance."""

from __future__ import annotations

from exoresist.graph import NODE_TYPES, MechanismGraph, build_graph


def test_node_ids_are_typed_and_stable(mini: MechanismGraph) -> None:
    g = mini.graph
    assert g.nodes["cell:hcc_cell"]["node_type"] == "cell"
    assert g.nodes["entity:ent:circx"]["node_type"] == "cargo"
    assert g.nodes["entity:ent:pten"]["node_type"] == "entity"
    assert g.nodes["entity:ent:il6"]["node_type"] == "pathway"
    assert g.nodes["phenotype:stemness"]["node_type"] == "phenotype"
    assert g.nodes["therapy:ther:sorafenib"]["node_type"] == "therapy"
    assert g.nodes["class:anti_pd1"]["node_type"] == "therapy_class"
    assert g.nodes["intervention:int:anti-mir2"]["node_type"] == "intervention"
    assert {d["node_type"] for _, d in g.nodes(data=True)} <= set(NODE_TYPES)
    again = build_graph(mini.kb)
    assert sorted(again.graph.nodes) == sorted(g.nodes)
    assert sorted(again.graph.edges(keys=True)) == sorted(g.edges(keys=True))


def test_counts_of_the_mini_graph(mini: MechanismGraph) -> None:
    assert mini.graph.number_of_nodes() == 20
    assert mini.graph.number_of_edges() == 25


def test_every_edge_carries_records_and_grades(mini: MechanismGraph, full: MechanismGraph) -> None:
    for mg in (mini, full):
        for _, _, d in mg.graph.edges(data=True):
            assert d["records"] and len(d["records"]) == len(d["grades"])
            assert d["sign"] in (1, -1)
            assert all(mg.kb.get(r) for r in d["records"])
            if d["relation"] != "includes":
                assert d["grade"] in "ABCD"


def test_hypotheses_are_excluded_unless_asked_for(mini: MechanismGraph) -> None:
    recs = {r for _, _, d in mini.graph.edges(data=True) for r in d["records"]}
    assert "hyp:circx-pd1" not in recs
    with_hyp = build_graph(mini.kb, include_hypotheses=True)
    recs = {r for _, _, d in with_hyp.graph.edges(data=True) for r in d["records"]}
    assert "hyp:circx-pd1" in recs
    assert with_hyp.graph.has_edge("entity:ent:circx", "entity:ent:pten", "activates+")


def test_class_nodes_include_their_drugs(mini: MechanismGraph) -> None:
    g = mini.graph
    assert g.has_edge("class:anti_pd1", "therapy:ther:nivolumab", "includes+")
    assert g.has_edge("class:anti_pd1", "therapy:ther:pembrolizumab", "includes+")


def test_interventions_block_where_they_act(mini: MechanismGraph) -> None:
    g = mini.graph
    # secretion blockade acts on the donor cell's secretion, the antibody on the cargo
    assert g.has_edge("intervention:int:rab27a-kd", "cell:hcc_cell", "blocks-")
    assert g.has_edge("intervention:int:anti-mir2", "entity:ent:mir-2", "blocks-")
    assert "entity:ent:rab27a" not in g


def test_shared_steps_merge_their_records(full: MechanismGraph) -> None:
    multi = [d for _, _, d in full.graph.edges(data=True) if len(d["records"]) > 1]
    assert multi, "some steps of the curated KB are asserted by more than one record"
    for d in multi:
        assert list(d["records"]) == sorted(d["records"])
