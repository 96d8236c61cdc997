"""The review's own examples, on the shipped KB, read as a biologist reads them."""

from __future__ import annotations

from exoresist.graph import MechanismGraph, compare, explain, routes, targets


def _labels(mg: MechanismGraph, nodes: tuple[str, ...]) -> list[str]:
    return [mg.label(n) for n in nodes]


def test_circccar1_gives_one_route_per_cell(full: MechanismGraph) -> None:
    e = explain(full, cargo="circCCAR1", therapy="anti-PD-1")
    assert len(e.routes) == 2 and all(r.sign > 0 and r.anchors == ("mech:circccar1-pdl1-pd1-cd8",) for r in e.routes)
    by_cell = {r.steps[-1].cell: r for r in e.routes}
    hcc, cd8 = by_cell["hcc_cell"], by_cell["cd8_t_cell"]
    # in HCC cells, which make it, circCCAR1 acts on beta-catenin and raises PD-L1 (no uptake step)
    assert [s.relation for s in hcc.steps] == ["expresses", "activates", "upregulates", "leads_to", "promotes_resistance_to"]
    assert _labels(full, hcc.nodes) == [
        "HCC cell",
        "circCCAR1",
        "β-catenin",
        "PD-L1",
        "immune checkpoint upregulation",
        "anti-PD-1",
    ]
    assert {s.cell for s in hcc.steps} == {"hcc_cell"}
    assert hcc.text().startswith("in HCC cells: HCC cells express circCCAR1; circCCAR1 activates β-catenin; ")
    # taken up by CD8 T cells, it stabilises PD-1 there and the T cells become dysfunctional
    assert [s.relation for s in cd8.steps] == ["secretes", "taken_up_by", "stabilises", "leads_to", "promotes_resistance_to"]
    assert [s.cell for s in cd8.steps] == ["hcc_cell", "cd8_t_cell", "cd8_t_cell", "cd8_t_cell", "cd8_t_cell"]
    assert _labels(full, cd8.nodes)[2:] == ["circCCAR1", "PD-1", "CD8 T-cell dysfunction", "anti-PD-1"]
    assert cd8.text() == (
        "in HCC cells: HCC cells secrete circCCAR1; then in CD8 T cells: CD8 T cells take up circCCAR1 "
        "(exosomal transfer); circCCAR1 stabilises PD-1; PD-1 leads to CD8 T-cell dysfunction; "
        "CD8 T-cell dysfunction promotes resistance to anti-PD-1"
    )
    # the pathway the record lists annotates the routes; no step leads to it
    assert hcc.pathways == cd8.pathways == ("Wnt/β-catenin",)
    assert "Wnt" not in hcc.text() + cd8.text()
    # nivolumab is an anti-PD-1 drug: the same routes
    assert {r.nodes for r in explain(full, cargo="circCCAR1", therapy="nivolumab").routes} == {r.nodes for r in e.routes}


def test_circtmem181_adenosine_from_macrophages_impairs_cd8_t_cells(full: MechanismGraph) -> None:
    (r,) = explain(full, cargo="circTMEM181", therapy="anti-PD-1").routes
    assert r.sign > 0 and r.grade == "A"
    assert _labels(full, r.nodes) == [
        "HCC cell",
        "circTMEM181",
        "circTMEM181",
        "miR-488-3p",
        "CD39",
        "adenosine",
        "CD8 T-cell dysfunction",
        "anti-PD-1",
    ]
    assert [s.relation for s in r.steps][2:5] == ["sponges", "downregulates", "induces"]
    assert [s.cell for s in r.steps][1:] == ["macrophage"] * 4 + ["cd8_t_cell"] * 2
    assert "then in CD8 T cells: adenosine leads to CD8 T-cell dysfunction" in r.text()
    assert "CD73" not in r.text() and r.pathways == ("eATP-adenosine", "CD73")


def test_linc_vldlr_abcg2_chemotherapy(full: MechanismGraph) -> None:
    e = explain(full, cargo="linc-VLDLR", therapy="chemotherapy")
    assert e.routes
    for r in e.routes:
        assert _labels(full, r.nodes)[:5] == ["HCC cell", "linc-VLDLR", "linc-VLDLR", "ABCG2", "drug efflux"] and r.sign > 0
    assert {full.label(r.therapy) for r in e.routes} == {"camptothecin", "doxorubicin"}


def test_mir1247_caf_stemness_sorafenib(full: MechanismGraph) -> None:
    e = explain(full, cargo="miR-1247-3p", therapy="sorafenib")
    assert e.routes and all(r.sign > 0 for r in e.routes)
    assert full.graph.has_edge(full.entity_node("miR-1247-3p"), full.entity_node("miR-1247-3p") + "@fibroblast", "taken_up_by+")
    # the full chain comes first: HCC cell -> miR-1247-3p -> (fibroblast) -> CAF -> IL-6/IL-8 -> stemness -> sorafenib
    chains = [r for r in e.routes if r.is_chain]
    assert chains and e.routes[0].is_chain
    assert all(
        r.segments == (("mech:mir1247-3p-caf-il6-il8-sorafenib",), ("mech:caf-il6-il8-stemness-sorafenib",)) for r in chains
    )
    stem = next(r for r in chains if full.label(r.phenotype) == "stemness")
    labels = _labels(full, stem.nodes)
    assert labels[:5] == ["HCC cell", "miR-1247-3p", "miR-1247-3p", "B4GALT3", "β1-integrin/NF-κB"]
    assert labels[-6:] == [
        "CAF activation",
        "cancer-associated fibroblast",
        "IL-6/IL-8 signalling",
        "IL-6/IL-8 signalling",
        "stemness",
        "sorafenib",
    ]
    becomes = next(s for s in stem.steps if s.relation == "becomes")
    assert becomes.precursors == ("fibroblast",) and "turns fibroblasts into cancer-associated fibroblasts" in stem.text()
    assert stem.cells == ("cell:hcc_cell", "cell:cancer_associated_fibroblast") and stem.grade == "B"
    assert stem.in_cells == ("cell:hcc_cell", "cell:fibroblast", "cell:cancer_associated_fibroblast")
    assert stem.context_records == ("mech:caf-il6-il8-stemness-sorafenib",)  # IL-6/IL-8 are secreted, not exosomal
    assert "IL-6/IL-8 signalling acts on HCC cells (secreted, not in exosomes)" in stem.text()
    assert {full.label(r.phenotype) for r in chains} == {"stemness", "EMT"}
    # the record's own routes: IL-6 and IL-8 made by the fibroblasts raise stemness and EMT of HCC cells
    own = [r for r in e.routes if not r.is_chain and full.label(r.phenotype) in {"stemness", "EMT"}]
    assert {full.place_label(r.phenotype) for r in own} == {"stemness (HCC cell)", "EMT (HCC cell)"}
    assert all(full.cell_of(r.steps[-3].source) == "fibroblast" for r in own)
    assert "[chain across 2 cells]" in e.text()


def test_m2_chains_follow_the_records(full: MechanismGraph) -> None:
    # miR-4669 polarises macrophages to M2, the donors of miR-27a-3p and miR-21-5p ...
    edge = full.graph.edges["phenotype:m2_polarisation@macrophage", "cell:m2_macrophage", "becomes+"]
    assert edge["records"] == ("mech:mir4669-m2-sorafenib",) and edge["precursors"] == ("macrophage",)
    for cargo in ("miR-27a-3p", "miR-21-5p"):
        assert full.graph.has_edge("cell:m2_macrophage", full.entity_node(cargo), "secretes+")
    # ... but neither M2 record names a therapy, so no chain route ends at one: the sorafenib
    # route of miR-4669 stays the single-record route its record claims
    routes_4669 = explain(full, cargo="miR-4669", therapy="sorafenib").routes
    assert routes_4669 and not any(r.is_chain for r in routes_4669)


def test_every_query_answers_for_the_main_therapies(full: MechanismGraph) -> None:
    for therapy in ("sorafenib", "anti-PD-1", "chemotherapy", "lenvatinib"):
        r = routes(full, therapy=therapy)
        assert r.routes and r.mechanisms
        t = targets(full, therapy=therapy, top=5)
        assert t.nodes and t.min_cut and t.min_cut_with_cells
        # every route passes through the molecular cut
        for route in r.routes:
            assert set(route.nodes) & set(t.min_cut)
    c = compare(full, therapies=["sorafenib", "anti-PD-1"]).to_dict()
    assert c["mechanisms"]["only"]["sorafenib"] and c["mechanisms"]["only"]["anti-PD-1"]


def test_secretion_blockade_does_not_cut_a_cargo_acting_in_its_own_cell(full: MechanismGraph) -> None:
    t = targets(full, therapy="anti-PD-1")
    rab27a = next(i for i in t.interventions if i.intervention == "intervention:int:rab27a-knockdown")
    # 4 anti-PD-1 routes need HCC-cell exosomes (circUHRF1, circTMEM181, circCCAR1 to CD8 T cells);
    # circCCAR1 raising PD-L1 inside the HCC cells that make it needs no secretion
    assert t.n_routes == 4 and rab27a.routes_cut == 3
