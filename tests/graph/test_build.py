"""The graph is compiled from the KB: node ids, types, cells, edges and their provenance."""

from __future__ import annotations

from exoresist.graph import NODE_TYPES, MechanismGraph, build_graph
from exoresist.graph._build import AXIS_RELATIONS


def test_node_ids_are_typed_placed_and_stable(mini: MechanismGraph) -> None:
    g = mini.graph
    assert g.nodes["cell:hcc_cell"]["node_type"] == "cell"
    assert g.nodes["entity:ent:circx"]["node_type"] == "cargo"  # the cargo between cells
    assert g.nodes["entity:ent:circx@hcc_cell"]["node_type"] == "entity"  # ... and inside the recipient
    assert g.nodes["entity:ent:pten@hcc_cell"]["cell"] == "hcc_cell"
    assert g.nodes["entity:ent:geneb@fibroblast"]["cell"] == "fibroblast"
    assert g.nodes["entity:ent:geneb@hcc_cell"]["cell"] == "hcc_cell"  # GENEB of miR-S, in other cells
    assert g.nodes["phenotype:stemness@hcc_cell"]["node_type"] == "phenotype"
    assert g.nodes["therapy:ther:sorafenib"]["node_type"] == "therapy"
    assert g.nodes["class:anti_pd1"]["node_type"] == "therapy_class"
    assert g.nodes["intervention:int:anti-mir2"]["node_type"] == "intervention"
    assert {d["node_type"] for _, d in g.nodes(data=True)} <= set(NODE_TYPES)
    again = build_graph(mini.kb)
    assert sorted(again.graph.nodes) == sorted(g.nodes)
    assert sorted(again.graph.edges(keys=True)) == sorted(g.edges(keys=True))


def test_counts_of_the_mini_graph(mini: MechanismGraph) -> None:
    # circX: HCC cell, circX (between cells and in HCC cells), miR-1-3p, PTEN, apoptosis evasion,
    #   sorafenib = 7 nodes; secretes, taken up, sponges, inhibits, leads to, resistance = 6 edges.
    # miR-2: miR-2 (between, in fibroblasts), GENEB, CAF activation (fibroblasts), stemness (HCC
    #   cells), anti-PD-1 and its two drugs = 8 nodes; secretes, taken up, downregulates, 2 leads to,
    #   4 therapy edges, 2 class -> drug = 11 edges.
    # miR-S: adipose MSC, miR-S (between, in HCC cells), GENEB, drug sensitisation = 5 nodes; 5 edges.
    # Interventions: 2 nodes, 2 blocks edges. The hypothesis is left out; pathways are no nodes.
    assert mini.graph.number_of_nodes() == 22
    assert mini.graph.number_of_edges() == 24
    assert "entity:ent:il6" not in mini.graph and not any(n.startswith("entity:ent:il6@") for n in mini.graph)


def test_pathways_annotate_routes_and_are_never_edges(full: MechanismGraph) -> None:
    # the defect this model fixes: circCCAR1's PD-1 linked to Wnt/beta-catenin, adenosine to CD73
    wnt, cd73 = full.entity_node("Wnt/β-catenin"), full.entity_node("CD73")
    assert not [n for n in full.graph if n.split("@")[0] in {wnt, cd73}]
    for u, v, d in full.graph.edges(data=True):
        if d["relation"] == "leads_to":
            assert full.graph.nodes[v]["node_type"] == "phenotype", (u, v)


def test_every_edge_carries_records_grades_and_its_cell(mini: MechanismGraph, full: MechanismGraph) -> None:
    for mg in (mini, full):
        for u, v, d in mg.graph.edges(data=True):
            assert d["records"] and len(d["records"]) == len(d["grades"])
            assert d["sign"] in (1, -1)
            assert all(mg.kb.get(r) for r in d["records"])
            if d["relation"] != "includes":
                assert d["grade"] in "ABCD"
            if d["relation"] in AXIS_RELATIONS:  # a step happens inside one cell
                assert mg.cell_of(u) == mg.cell_of(v) == d["cell"]
            if d["relation"] in {"leads_to", "taken_up_by", "acts_on", "expresses"}:
                assert d["cell"] == mg.cell_of(v)
            if d["relation"] == "secretes":
                assert f"cell:{d['cell']}" == u


def test_hypotheses_are_excluded_unless_asked_for(mini: MechanismGraph) -> None:
    recs = {r for _, _, d in mini.graph.edges(data=True) for r in d["records"]}
    assert "hyp:circx-pd1" not in recs
    with_hyp = build_graph(mini.kb, include_hypotheses=True)
    recs = {r for _, _, d in with_hyp.graph.edges(data=True) for r in d["records"]}
    assert "hyp:circx-pd1" in recs
    assert with_hyp.graph.has_edge("entity:ent:circx@cd8_t_cell", "entity:ent:pten@cd8_t_cell", "activates+")


def test_class_nodes_include_their_drugs(mini: MechanismGraph) -> None:
    g = mini.graph
    assert g.has_edge("class:anti_pd1", "therapy:ther:nivolumab", "includes+")
    assert g.has_edge("class:anti_pd1", "therapy:ther:pembrolizumab", "includes+")


def test_interventions_block_where_they_act(mini: MechanismGraph) -> None:
    g = mini.graph
    # secretion blockade acts on the donor cell's secretion, the antibody on the cargo between cells
    assert g.has_edge("intervention:int:rab27a-kd", "cell:hcc_cell", "blocks-")
    assert g.has_edge("intervention:int:anti-mir2", "entity:ent:mir-2", "blocks-")
    assert "entity:ent:rab27a" not in g


def test_a_cargo_acting_in_its_donor_is_expressed_not_transferred(full: MechanismGraph) -> None:
    ccar1 = full.entity_node("circCCAR1")
    g = full.graph
    assert g.has_edge("cell:hcc_cell", f"{ccar1}@hcc_cell", "expresses+")
    assert g.has_edge(ccar1, f"{ccar1}@cd8_t_cell", "taken_up_by+")
    assert not g.has_edge(ccar1, f"{ccar1}@hcc_cell", "taken_up_by+")
    # the CAF cytokines are secreted, not exosomal: they act on HCC cells without uptake
    il = full.entity_node("IL-6/IL-8 signalling")
    assert g.has_edge(il, f"{il}@hcc_cell", "acts_on+")


def test_shared_steps_merge_their_records(full: MechanismGraph) -> None:
    multi = [d for _, _, d in full.graph.edges(data=True) if len(d["records"]) > 1]
    assert multi, "some steps of the curated KB are asserted by more than one record"
    for d in multi:
        assert list(d["records"]) == sorted(d["records"])
    # PTEN -| Akt in HCC cells is stated by both PTEN records
    pten, akt = full.entity_node("PTEN"), full.entity_node("Akt")
    d = full.graph.edges[f"{pten}@hcc_cell", f"{akt}@hcc_cell", "inhibits-"]
    assert {"mech:mir21-pten-akt-autophagy-sorafenib", "mech:mir494-3p-pten-sorafenib"} <= set(d["records"])
